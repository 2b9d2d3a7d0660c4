from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_a_uniform_classifier(unlabelled_bound):
    """Two classes, q uniform, bounds (-3, -5): their mean -4 plus the entropy log 2."""
    import math
    import torch
    out = unlabelled_bound(torch.tensor([[-3.0, -5.0]], dtype=torch.float64), torch.full((1, 2), -math.log(2), dtype=torch.float64))
    assert out.shape == (1,) and abs(float(out[0]) - (-4 + math.log(2))) < 1e-12, 'expected [-4 + log 2] = [-3.3069]'

@test_case(points=1, hidden=False)
def test_the_best_classifier(unlabelled_bound):
    """q(y|x) proportional to exp L(x, y) makes U = log sum_y exp L(x, y): one value per row (B = 2, C = 3)."""
    import math
    import torch
    labelled = torch.tensor([[0.0, math.log(2), math.log(5)], [-1.0, -1.0, -1.0]], dtype=torch.float64)
    out = unlabelled_bound(labelled, torch.log_softmax(labelled, dim=1))
    expected = torch.tensor([math.log(8), -1 + math.log(3)], dtype=torch.float64)
    assert out.shape == (2,) and float((out - expected).abs().max()) < 1e-12, 'expected [log 8, -1 + log 3]'

