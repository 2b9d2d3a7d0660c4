from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_a_critic_that_knows_nothing(infonce):
    """All scores equal: 0, a 0-dimensional tensor."""
    import torch
    out = infonce(torch.zeros(4, 4, dtype=torch.float64))
    assert out.dim() == 0 and abs(float(out)) < 1e-12, 'expected 0'

@test_case(points=1, hidden=False)
def test_a_critic_that_is_sure(infonce):
    """scores = 100 I: almost exactly log B."""
    import math
    import torch
    out = infonce(100 * torch.eye(4, dtype=torch.float64))
    assert abs(float(out) - math.log(4)) < 1e-06, 'expected log 4'

