from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_one_point_of_each_kind(m2_loss):
    """alpha = 0; the labelled point has label 0 and bounds (-2, -7); the unlabelled one bounds (-3, -3), q uniform."""
    import math
    import torch
    half = torch.full((1, 2), -math.log(2), dtype=torch.float64)
    out = m2_loss(torch.tensor([[-2.0, -7.0]], dtype=torch.float64), half, torch.tensor([0]), torch.tensor([[-3.0, -3.0]], dtype=torch.float64), half, 0.0)
    assert out.dim() == 0 and abs(float(out) - (5 - math.log(2))) < 1e-12, 'expected 5 - log 2 = 4.3069, a 0-dimensional tensor'

@test_case(points=1, hidden=False)
def test_the_classification_term(m2_loss):
    """Bounds all 0, labels (2, 0), alpha = 2, three unlabelled points with q uniform: -log 3 + 2 mean(-log 0.5, -log 0.6)."""
    import math
    import torch
    log_q_l = torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], dtype=torch.float64).log()
    out = m2_loss(torch.zeros(2, 3, dtype=torch.float64), log_q_l, torch.tensor([2, 0]), torch.zeros(3, 3, dtype=torch.float64), torch.full((3, 3), -math.log(3), dtype=torch.float64), 2.0)
    expected = -math.log(3) - math.log(0.5) - math.log(0.6)
    assert out.dim() == 0 and abs(float(out) - expected) < 1e-12, f'expected {expected:.6f}'

