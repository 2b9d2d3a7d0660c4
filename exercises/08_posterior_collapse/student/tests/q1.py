from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_variances_one_and_a_quarter_percent(active_units):
    """3 dimensions with variances 1, 0.0025 (std 0.05 > 0.01, variance < 0.01) and 0 over 4 points."""
    import torch
    mu = torch.tensor([[1.0, 0.05, 3.0], [-1.0, -0.05, 3.0], [1.0, 0.05, 3.0], [-1.0, -0.05, 3.0]], dtype=torch.float64)
    assert isinstance(active_units(mu), int), 'expected a Python int'
    assert active_units(mu) == 1 and active_units(mu, threshold=0.001) == 2, 'expected 1 active unit (2 with threshold 0.001)'

@test_case(points=1, hidden=False)
def test_a_collapsed_encoder(active_units):
    """A collapsed encoder (every row the same) has no active units."""
    import torch
    assert active_units(torch.full((5, 4), 0.3, dtype=torch.float64)) == 0, 'expected 0'

