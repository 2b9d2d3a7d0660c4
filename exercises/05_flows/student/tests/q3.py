from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_reflection_of_two_points(householder):
    """v = (1, 2, -2), ||v||^2 = 9."""
    import torch
    v = torch.tensor([1.0, 2.0, -2.0], dtype=torch.float64)
    out = householder(torch.tensor([[1.0, 0.0, 0.0], [0.5, 1.0, 2.0]], dtype=torch.float64), v)
    expected = torch.tensor([[7 / 9, -4 / 9, 4 / 9], [5 / 6, 5 / 3, 4 / 3]], dtype=torch.float64)
    assert out.shape == (2, 3) and float((out - expected).abs().max()) < 1e-12, 'expected [[7/9, -4/9, 4/9], [5/6, 5/3, 4/3]]'

@test_case(points=1, hidden=False)
def test_reflection_properties(householder):
    """H v = -v, H z = z for z orthogonal to v."""
    import torch
    v = torch.tensor([3.0, -1.0], dtype=torch.float64)
    assert float((householder(v, v) + v).abs().max()) < 1e-12, 'expected H v = -v'
    z = torch.tensor([1.0, 3.0], dtype=torch.float64)
    assert float((householder(z, v) - torch.tensor([1.0, 3.0], dtype=torch.float64)).abs().max()) < 1e-12, 'expected H z = z for z orthogonal to v'

