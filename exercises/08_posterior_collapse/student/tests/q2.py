from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 15

@test_case(points=1.5, hidden=False)
def test_two_groups_on_either_side_of_the_floor(free_bits_penalty):
    """Group 0: batch mean 2 > 1; group 1: batch mean 0.5 < 1 (though one example has 0.9); penalty 2 + 1 = 3."""
    import torch
    out = free_bits_penalty(torch.tensor([[3.0, 0.9], [1.0, 0.1]], dtype=torch.float64), 1.0)
    assert out.shape == () and abs(float(out) - 3.0) < 1e-12, 'expected a 0-dimensional tensor holding 3'

@test_case(points=1.5, hidden=False)
def test_no_floor(free_bits_penalty):
    """lambda = 0 gives the plain KL summed over groups and averaged over the batch."""
    import torch
    kl = torch.tensor([[0.2, 0.4, 1.0], [0.6, 0.0, 2.0]], dtype=torch.float64)
    assert abs(float(free_bits_penalty(kl, 0.0)) - 2.1) < 1e-12, 'expected 2.1'

