from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 15

@test_case(points=1.5, hidden=False)
def test_three_points_in_two_dimensions(planar_forward):
    """Three points in d = 2 (w^T u_hat = 0.75)."""
    import torch
    z = torch.tensor([[0.5, -1.0], [0.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    y, log_det = planar_forward(z, torch.tensor([1.0, 0.5], dtype=torch.float64), torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor(0.25, dtype=torch.float64))
    ey = torch.tensor([[1.3482836399575129, -0.5758581800212436], [0.24491866240370913, 0.12245933120185457], [2.9413755384972875, 1.4706877692486438]], dtype=torch.float64)
    el = torch.tensor([0.1908774750105975, 0.5335716424471593, 0.08191087384628495], dtype=torch.float64)
    assert y.shape == (3, 2) and float((y - ey).abs().max()) < 1e-10, 'f(z) differs'
    assert log_det.shape == (3,) and float((log_det - el).abs().max()) < 1e-10, 'expected log-determinants (0.19088, 0.53357, 0.08191)'

@test_case(points=1.5, hidden=False)
def test_a_negative_determinant(planar_forward):
    """An unconstrained u_hat = (-3, 0), w = (1, 0), at z = 0: the Jacobian is diag(-2, 1), log|det| = log 2."""
    import math
    import torch
    y, log_det = planar_forward(torch.zeros(2, dtype=torch.float64), torch.tensor([-3.0, 0.0], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
    assert y.shape == (2,) and float(y.abs().max()) < 1e-12, 'expected f(0) = 0'
    assert log_det.shape == () and abs(float(log_det) - math.log(2)) < 1e-12, 'expected log 2'

