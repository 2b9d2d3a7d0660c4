from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_weights_with_mean_three_and_five(iwae_from_log_weights):
    """Weights 1, 2, 3, 6 (mean 3) for the first data point, 5, 5, 5, 5 (mean 5) for the second."""
    import math
    import torch
    log_w = torch.log(torch.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [6.0, 5.0]], dtype=torch.float64))
    out = iwae_from_log_weights(log_w)
    assert out.shape == (2,), 'expected one value per data point'
    assert abs(float(out[0]) - math.log(3)) < 1e-10 and abs(float(out[1]) - math.log(5)) < 1e-10, 'expected (log 3, log 5)'

@test_case(points=1, hidden=False)
def test_log_weights_near_minus_ten_thousand(iwae_from_log_weights):
    """The weights 1 and 3 times exp(-1e4) have mean 2 exp(-1e4)."""
    import math
    import torch
    log_w = torch.tensor([[-10000.0], [-10000.0 + math.log(3.0)]], dtype=torch.float64)
    out = iwae_from_log_weights(log_w)
    assert out.shape == (1,) and abs(float(out[0]) - (-10000.0 + math.log(2.0))) < 1e-08, 'expected [-1e4 + log 2] (stable?)'

