from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 15

@test_case(points=1.5, hidden=False)
def test_two_components_in_one_dimension(vampprior_log_prob):
    """Encoder: u = (mean, log-variance) of a 1-D Gaussian; components N(-1, 1) and N(1, 1)."""
    import torch
    split = lambda u: (u[:, :1], u[:, 1:])
    u = torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    out = vampprior_log_prob(torch.tensor([[0.0], [1.0]], dtype=torch.float64), split, u)
    expected = torch.tensor([-1.4189385332046727, -1.4851577027216454], dtype=torch.float64)
    assert out.shape == (2,) and float((out - expected).abs().max()) < 1e-10, 'expected (-1.41894, -1.48516)'

@test_case(points=1.5, hidden=False)
def test_one_pseudo_input(vampprior_log_prob):
    """One pseudo-input: the prior is that one posterior, N((0.5, -1), diag(exp(0.3), exp(-0.2)))."""
    import math
    import torch
    split = lambda u: (u[:, :2], u[:, 2:])
    u = torch.tensor([[0.5, -1.0, 0.3, -0.2]], dtype=torch.float64)
    z = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    lv = [0.3, -0.2]
    expected = [-0.5 * sum((math.log(2 * math.pi) + v + (a - m) ** 2 * math.exp(-v) for a, m, v in zip(row, (0.5, -1.0), lv))) for row in z.tolist()]
    out = vampprior_log_prob(z, split, u)
    assert out.shape == (2,) and max((abs(float(o) - e) for o, e in zip(out, expected))) < 1e-10, "expected that posterior's log-density"

