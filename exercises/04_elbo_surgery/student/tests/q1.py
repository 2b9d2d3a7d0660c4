from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 15

@test_case(points=1.5, hidden=False)
def test_two_posteriors_in_one_dimension(log_aggregate_posterior):
    """Posteriors N(-1, 1) and N(1, 1): q(0) = N(0; 1, 1), q(1) = (N(1; -1, 1) + N(1; 1, 1)) / 2."""
    import torch
    mu, logvar = (torch.tensor([[-1.0], [1.0]], dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64))
    out = log_aggregate_posterior(torch.tensor([[0.0], [1.0]], dtype=torch.float64), mu, logvar)
    expected = torch.tensor([-1.4189385332046727, -1.4851577027216454], dtype=torch.float64)
    assert out.shape == (2,) and float((out - expected).abs().max()) < 1e-10, 'expected (-1.41894, -1.48516)'

@test_case(points=1.5, hidden=False)
def test_points_equally_far_from_both_posteriors(log_aggregate_posterior):
    """d = 2: the points (0, 2) and (2, 0) are at squared distance 4 from both posteriors: q = exp(-2) / (2 pi)."""
    import math
    import torch
    mu, logvar = (torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64))
    out = log_aggregate_posterior(torch.tensor([[0.0, 2.0], [2.0, 0.0], [1.0, 1.0]], dtype=torch.float64), mu, logvar)
    expected = [-2.0 - math.log(2 * math.pi)] * 2 + [-1.0 - math.log(2 * math.pi)]
    assert out.shape == (3,) and max((abs(float(o) - e) for o, e in zip(out, expected))) < 1e-10, 'expected (-3.838, -3.838, -2.838)'

