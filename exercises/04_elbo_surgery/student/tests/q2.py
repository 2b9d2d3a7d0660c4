from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_identical_posteriors_give_zero(mutual_information):
    """Identical posteriors: q(z) = q(z | x_i), so the estimate is 0 whatever the samples."""
    import torch
    g = torch.Generator().manual_seed(0)
    mu, logvar = (torch.full((6, 2), 0.5, dtype=torch.float64), torch.full((6, 2), -1.0, dtype=torch.float64))
    z = mu + torch.exp(0.5 * logvar) * torch.randn(6, 2, generator=g, dtype=torch.float64)
    out = mutual_information(z, mu, logvar)
    assert out.shape == () and abs(float(out)) < 1e-10, 'expected a 0-dimensional tensor holding 0'

@test_case(points=1, hidden=False)
def test_posteriors_far_apart_give_log_n(mutual_information):
    """4 posteriors 50 standard deviations apart, samples at their means: the estimate is log 4."""
    import math
    import torch
    mu = 50.0 * torch.arange(4, dtype=torch.float64).unsqueeze(1).expand(4, 3)
    out = mutual_information(mu.clone(), mu, torch.zeros(4, 3, dtype=torch.float64))
    assert out.shape == () and abs(float(out) - math.log(4)) < 1e-08, 'expected log 4'

