from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 15

@test_case(points=1.5, hidden=False)
def test_fully_correlated_means(dip_vae_i_regularizer):
    """Means +-1 in every dimension together: C is a 3x3 matrix of ones, so the off-diagonal sum is 6."""
    import torch
    mu = torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], dtype=torch.float64)
    out = dip_vae_i_regularizer(mu, 1.0, 1.0)
    assert out.shape == () and abs(float(out) - 6.0) < 1e-10, 'expected a 0-dimensional tensor holding 6'

@test_case(points=1.5, hidden=False)
def test_independent_coordinates(dip_vae_i_regularizer):
    """Independent +-sqrt(2) coordinates: C = 2 I (d = 2), diagonal term 2, off-diagonal 0."""
    import math
    import torch
    s = math.sqrt(2.0)
    mu = torch.tensor([[s, s], [s, -s], [-s, s], [-s, -s]], dtype=torch.float64)
    assert abs(float(dip_vae_i_regularizer(mu, 5.0, 3.0)) - 3.0 * 2.0) < 1e-10, 'expected 6 (3 times the diagonal term 2)'

