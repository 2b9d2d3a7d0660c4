from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 15

@test_case(points=1.5, hidden=False)
def test_the_uniform_density(dequantization_bound):
    """The uniform density on the unit cube: exactly -D log L for every image, whatever the noise."""
    import math
    import torch
    g = torch.Generator().manual_seed(0)
    k = torch.randint(0, 17, (5, 64), generator=g).to(torch.float64)
    u = torch.rand(3, 5, 64, generator=g, dtype=torch.float64)
    out = dequantization_bound(lambda y: torch.zeros(y.shape[:-1], dtype=y.dtype), k, u, 17)
    assert out.shape == (5,) and float((out + 64 * math.log(17)).abs().max()) < 1e-09, 'expected -64 log 17 for each image'

@test_case(points=1.5, hidden=False)
def test_a_linear_density(dequantization_bound):
    """p(y) = 2 y on [0, 1] (D = 1), L = 2, k = 1, u = 0.5: log(2 * 0.75) - log 2 = log 0.75."""
    import math
    import torch
    k, u = (torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[[0.5]]], dtype=torch.float64))
    out = dequantization_bound(lambda y: torch.log(2 * y).sum(-1), k, u, 2)
    assert out.shape == (1,) and abs(float(out[0]) - math.log(0.75)) < 1e-12, 'expected [log 0.75]'

