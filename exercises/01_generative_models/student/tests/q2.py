from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 15

@test_case(points=1.5, hidden=False)
def test_one_component_is_the_factorized_model(mixture_log_prob):
    """K = 1 (log pi = 0): the factorized model; logits 0 give D log(1/2) per image."""
    import math
    import torch
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    out = mixture_log_prob(x, torch.zeros(1, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64))
    assert out.shape == (2,) and float((out - 3 * math.log(0.5)).abs().max()) < 1e-12, 'expected two values 3 log(1/2)'

@test_case(points=1.5, hidden=False)
def test_two_confident_components(mixture_log_prob):
    """Components 'always on' and 'always off' (logits +-1000) with weights 1/4 and 3/4: log p = log 1/4 and log 3/4."""
    import math
    import torch
    x = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    log_pi = torch.log(torch.tensor([0.25, 0.75], dtype=torch.float64))
    out = mixture_log_prob(x, log_pi, torch.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype=torch.float64))
    assert out.shape == (2,) and abs(float(out[0]) - math.log(0.25)) < 1e-09 and (abs(float(out[1]) - math.log(0.75)) < 1e-09), 'expected (log 1/4, log 3/4)'

