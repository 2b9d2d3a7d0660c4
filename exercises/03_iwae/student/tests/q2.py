from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_three_of_five_units_are_active(active_units):
    """4 data points, 5 units: +-s around an offset, so the variance of unit u is s_u ** 2 (1, 0.09, 0.25, 0.0025, 0)."""
    import torch
    s = torch.tensor([1.0, 0.3, 0.5, 0.05, 0.0], dtype=torch.float64)
    mu = 2.0 + torch.tensor([[1.0], [-1.0], [1.0], [-1.0]], dtype=torch.float64) * s
    assert int(active_units(mu)) == 3, 'expected 3 active units'

@test_case(points=1, hidden=False)
def test_a_higher_threshold(active_units):
    """The same means with threshold 0.2: only the units with variance 1 and 0.25 are active."""
    import torch
    s = torch.tensor([1.0, 0.3, 0.5, 0.05, 0.0], dtype=torch.float64)
    mu = 2.0 + torch.tensor([[1.0], [-1.0], [1.0], [-1.0]], dtype=torch.float64) * s
    assert int(active_units(mu, threshold=0.2)) == 2, 'expected 2 active units'

