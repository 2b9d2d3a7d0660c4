from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_u_hat_for_a_negative_product(planar_u_hat):
    """w^T u = -5: u_hat = u + (softplus(-5) + 4) w / 25."""
    import torch
    out = planar_u_hat(torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([3.0, 4.0], dtype=torch.float64))
    expected = torch.tensor([1.4808058418186942, -1.3589255442417412], dtype=torch.float64)
    assert out.shape == (2,) and float((out - expected).abs().max()) < 1e-10, 'expected (1.48081, -1.35893)'

@test_case(points=1, hidden=False)
def test_w_times_u_hat_is_m(planar_u_hat):
    """w^T u_hat = m(w^T u) = -1 + softplus(w^T u), here w^T u = 1.5."""
    import math
    import torch
    u, w = (torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64), torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    out = planar_u_hat(u, w)
    assert out.shape == (3,) and abs(float((w * out).sum()) - (-1.0 + math.log1p(math.exp(1.5)))) < 1e-12, 'expected w^T u_hat = 0.70141'

