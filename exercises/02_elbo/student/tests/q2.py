from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 5

@test_case(points=0.5, hidden=False)
def test_variance_four_means_std_two(reparameterize):
    """Variance 4 means standard deviation 2: z = 1 + 2 * 1 = 3."""
    import math
    import torch
    mu, eps = (torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    z = reparameterize(mu, torch.full((3,), math.log(4.0), dtype=torch.float64), eps)
    assert z.shape == (3,) and float((z - 3.0).abs().max()) < 1e-12, 'expected (3, 3, 3)'

@test_case(points=0.5, hidden=False)
def test_the_given_noise_is_used(reparameterize):
    """Zero log-variance: z = mu + eps, for the eps given."""
    import torch
    mu = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    eps = torch.tensor([[2.0, 0.25]], dtype=torch.float64)
    z = reparameterize(mu, torch.zeros(1, 2, dtype=torch.float64), eps)
    assert z.shape == (1, 2) and float((z - (mu + eps)).abs().max()) < 1e-12, 'expected mu + eps'

