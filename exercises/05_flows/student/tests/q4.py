from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 10

@test_case(points=1, hidden=False)
def test_three_points_two_factors(sylvester_log_det):
    """Factors (1.5, -0.5), (1.125, -2) and (1, 1): log 0.75, log 2.25, 0."""
    import math
    import torch
    r, r_tilde = (torch.tensor([0.5, -2.0], dtype=torch.float64), torch.tensor([1.0, 1.5], dtype=torch.float64))
    out = sylvester_log_det(r, r_tilde, torch.tensor([[1.0, 0.5], [0.25, 1.0], [0.0, 0.0]], dtype=torch.float64))
    expected = [math.log(0.75), math.log(2.25), 0.0]
    assert out.shape == (3,) and max((abs(float(o) - e) for o, e in zip(out, expected))) < 1e-12, 'expected (log 0.75, log 2.25, 0)'

@test_case(points=1, hidden=False)
def test_one_point_gives_a_0d_tensor(sylvester_log_det):
    """One point (h_prime: [M]) gives a 0-dimensional tensor."""
    import math
    import torch
    out = sylvester_log_det(torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64), torch.tensor([1.0, 0.5, 3.0], dtype=torch.float64), torch.tensor([1.0, 0.5, 1.0], dtype=torch.float64))
    assert out.shape == () and abs(float(out) - math.log(2 * 1.5 * 2)) < 1e-12, 'expected log 6'

