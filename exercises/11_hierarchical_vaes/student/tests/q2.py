from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_two_layers(kl_per_layer):
    """KL(N(1, 1) || N(0, 1)) over 10 dims = 5; a layer equal to its prior has KL 0."""
    import torch
    one, zero = (torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, 10, dtype=torch.float64))
    z3 = torch.zeros(1, 3, dtype=torch.float64)
    out = kl_per_layer([(one, zero), (z3, z3)], [(zero, zero), (z3, z3)])
    assert out.shape == (2, 1) and abs(float(out[0, 0]) - 5.0) < 1e-12 and (abs(float(out[1, 0])) < 1e-12), 'expected [[5], [0]]'

@test_case(points=1, hidden=False)
def test_the_direction(kl_per_layer):
    """KL(q || p), not KL(p || q): q = N(0, 4), p = N(0, 1) gives (-log 4 + 4 - 1) / 2."""
    import math
    import torch
    q = [(torch.zeros(2, 1, dtype=torch.float64), torch.full((2, 1), math.log(4.0), dtype=torch.float64))]
    p = [(torch.zeros(2, 1, dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64))]
    out = kl_per_layer(q, p)
    assert out.shape == (1, 2) and float((out - 0.5 * (3 - math.log(4.0))).abs().max()) < 1e-12, 'expected 0.80685 twice'

