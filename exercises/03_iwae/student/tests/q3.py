from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 5

@test_case(points=0.5, hidden=False)
def test_weights_one_and_three(self_normalized_weights):
    """Weights 1 and 3 -> 1/4 and 3/4; weights 5 and 5 -> 1/2 and 1/2."""
    import torch
    out = self_normalized_weights(torch.log(torch.tensor([[1.0, 5.0], [3.0, 5.0]], dtype=torch.float64)))
    expected = torch.tensor([[0.25, 0.5], [0.75, 0.5]], dtype=torch.float64)
    assert out.shape == (2, 2) and float((out - expected).abs().max()) < 1e-12, 'expected [[1/4, 1/2], [3/4, 1/2]]'

@test_case(points=0.5, hidden=False)
def test_log_weights_near_one_thousand(self_normalized_weights):
    """Log weights 1000 and 1000 + log 3: the same 1/4 and 3/4, finite."""
    import math
    import torch
    out = self_normalized_weights(torch.tensor([[1000.0], [1000.0 + math.log(3.0)]], dtype=torch.float64))
    assert out.shape == (2, 1) and abs(float(out[0, 0]) - 0.25) < 1e-12 and (abs(float(out[1, 0]) - 0.75) < 1e-12), 'expected [[1/4], [3/4]] (stable?)'

