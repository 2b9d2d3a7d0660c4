from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_fair_coins(bernoulli_log_likelihood):
    """Logits 0 (theta = 1/2): every image of D = 4 pixels has log-likelihood 4 log(1/2)."""
    import math
    import torch
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    out = bernoulli_log_likelihood(x, torch.zeros(4, dtype=torch.float64))
    assert out.shape == (2,) and float((out - 4 * math.log(0.5)).abs().max()) < 1e-12, 'expected two values 4 log(1/2)'

@test_case(points=1, hidden=False)
def test_confident_logits(bernoulli_log_likelihood):
    """Logits +-1000: a pixel that agrees costs nothing, one that disagrees costs 1000 nats (finite)."""
    import torch
    x = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64)
    out = bernoulli_log_likelihood(x, torch.tensor([1000.0, -1000.0, -1000.0], dtype=torch.float64))
    assert out.shape == (1,) and abs(float(out[0]) + 1000.0) < 1e-09, 'expected [-1000.0] (is it stable?)'

