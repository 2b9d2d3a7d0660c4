from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_two_posteriors_at_plus_minus_two(marginal_kl):
    """Posteriors N(-2, 1) and N(2, 1), samples at their means."""
    import torch
    mu = torch.tensor([[-2.0], [2.0]], dtype=torch.float64)
    out = marginal_kl(mu.clone(), mu, torch.zeros(2, 1, dtype=torch.float64))
    assert out.shape == () and abs(float(out) - 1.3071882258129504) < 1e-10, 'expected a 0-dimensional tensor holding 1.30719'

@test_case(points=1, hidden=False)
def test_posteriors_equal_to_the_prior(marginal_kl):
    """Posteriors equal to the prior: q(z) = p(z), so the estimate is 0 whatever the samples."""
    import torch
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, 3, generator=g, dtype=torch.float64)
    out = marginal_kl(z, torch.zeros(5, 3, dtype=torch.float64), torch.zeros(5, 3, dtype=torch.float64))
    assert out.shape == () and abs(float(out)) < 1e-10, 'expected 0'

