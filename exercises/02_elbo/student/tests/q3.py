from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 15

@test_case(points=1.5, hidden=False)
def test_elbo_of_one_example(mc_elbo):
    """log p(x|z) = 2 log(1/2) for logits 0; log N(1; 0, 1) - log N(1; 1, 1) = -0.5."""
    import math
    import torch
    x, logits = (torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64))
    one, zero = (torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))
    out = mc_elbo(x, logits, one, zero, one)
    assert out.shape == (1,) and abs(float(out[0]) - (2 * math.log(0.5) - 0.5)) < 1e-10, 'expected [2 log(1/2) - 0.5]'

@test_case(points=1.5, hidden=False)
def test_confident_wrong_logits_cost_1000_nats(mc_elbo):
    """Logits of -1000 for a pixel that is 1 (and +1000 for one that is 0): -2000, finite; q = p at z = 0."""
    import torch
    x, logits = (torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[-1000.0, 1000.0]], dtype=torch.float64))
    zero = torch.zeros(1, 1, dtype=torch.float64)
    out = mc_elbo(x, logits, zero, zero, zero)
    assert out.shape == (1,) and abs(float(out[0]) + 2000.0) < 1e-09, 'expected [-2000.0] (is log p(x|z) stable?)'

