from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_the_mixture_is_q(mc_kl_to_mixture):
    """The mixture is q itself: every sample gives log q - log p = 0."""
    import torch
    mu, logvar = (torch.tensor([[0.5, -1.0]], dtype=torch.float64), torch.tensor([[0.2, -0.3]], dtype=torch.float64))
    out = mc_kl_to_mixture(mu, logvar, mu.clone(), logvar.clone(), samples=10)
    assert out.shape == (1,) and abs(float(out[0])) < 1e-10, 'expected [0.0]'

@test_case(points=1, hidden=False)
def test_one_of_four_components_far_apart(mc_kl_to_mixture):
    """q is one of 4 unit-variance components 50 apart: KL = log 4 (the other components add nothing)."""
    import math
    import torch
    means = 50.0 * torch.arange(4, dtype=torch.float64).unsqueeze(1).expand(4, 3)
    logvars = torch.zeros(4, 3, dtype=torch.float64)
    out = mc_kl_to_mixture(means[1:3], logvars[1:3], means, logvars, samples=10)
    assert out.shape == (2,) and float((out - math.log(4)).abs().max()) < 1e-10, 'expected (log 4, log 4)'

