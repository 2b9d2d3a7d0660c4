from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 10

@test_case(points=1, hidden=False)
def test_a_diagonal_kernel(conv1x1_logdet):
    """M = diag(2, 3) on 2 x 3 images: six pixels, each scaled by det M = 6: 6 log 6."""
    import math
    import torch
    out = conv1x1_logdet(torch.tensor([[2.0, 0.0], [0.0, 3.0]], dtype=torch.float64), 2, 3)
    assert out.shape == () and abs(float(out) - 6 * math.log(6)) < 1e-12, 'expected 6 log 6 = 10.7506'

@test_case(points=1, hidden=False)
def test_a_negative_determinant(conv1x1_logdet):
    """M = [[0, 2], [1, 0]] swaps the two channels and doubles one (det M = -2), on 4 x 4 images: 16 log 2."""
    import math
    import torch
    out = conv1x1_logdet(torch.tensor([[0.0, 2.0], [1.0, 0.0]], dtype=torch.float64), 4, 4)
    assert out.shape == () and abs(float(out) - 16 * math.log(2)) < 1e-12, 'expected 16 log 2 = 11.0904'

