from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_a_uniform_density(bits_per_dim):
    """A uniform density on the unit cube: log2 L bits per dimension."""
    import math
    import torch
    assert abs(float(bits_per_dim(torch.tensor(0.0, dtype=torch.float64), 64, 256)) - 8.0) < 1e-12, 'expected 8 bits for L = 256'
    assert abs(float(bits_per_dim(torch.tensor(0.0, dtype=torch.float64), 64, 17)) - math.log2(17)) < 1e-12, 'expected log2(17) bits'

@test_case(points=1, hidden=False)
def test_sixty_four_nats(bits_per_dim):
    """A density of 64 nats per image over 64 dimensions of 17 levels: log2(17) - 1 / ln 2 bits per dimension."""
    import math
    import torch
    out = bits_per_dim(torch.tensor([64.0, 0.0], dtype=torch.float64), 64, 17)
    assert out.shape == (2,) and abs(float(out[0]) - (math.log2(17) - 1 / math.log(2))) < 1e-12, 'expected 2.6443 bits'

