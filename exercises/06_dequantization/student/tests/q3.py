from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 15

@test_case(points=1.5, hidden=False)
def test_three_levels(discretized_logistic_log_prob):
    """L = 3, mu = 1/2, s = 1/4: sigma(-1), tanh(1/2), sigma(-1)."""
    import math
    import torch
    x = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    out = discretized_logistic_log_prob(x, torch.tensor(0.5, dtype=torch.float64), torch.tensor(math.log(0.25), dtype=torch.float64), 3)
    expected = torch.tensor([0.2689414213699951, 0.46211715726000974, 0.2689414213699951], dtype=torch.float64)
    assert out.shape == (3,) and float((out.exp() - expected).abs().max()) < 1e-10, 'expected probabilities (0.26894, 0.46212, 0.26894)'

@test_case(points=1.5, hidden=False)
def test_the_probabilities_sum_to_one(discretized_logistic_log_prob):
    """17 levels: the probabilities of all levels sum to 1."""
    import torch
    x = torch.arange(17, dtype=torch.float64) / 16
    out = discretized_logistic_log_prob(x, torch.tensor(0.3, dtype=torch.float64), torch.tensor(-2.0, dtype=torch.float64), 17)
    assert out.shape == (17,) and abs(float(out.exp().sum()) - 1.0) < 1e-12, 'expected probabilities summing to 1'

