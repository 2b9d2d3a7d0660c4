from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 10

@test_case(points=1, hidden=False)
def test_one_component_has_its_moments(sample_mixture):
    """One component N((1, -2), diag(4, 0.25)): 100000 draws [100000, 2] of float64 with its mean and variance."""
    import math
    import torch
    _ = torch.manual_seed(0)
    means, logvars = (torch.tensor([[1.0, -2.0]], dtype=torch.float64), torch.log(torch.tensor([[4.0, 0.25]], dtype=torch.float64)))
    z = sample_mixture(100000, means, logvars)
    assert z.shape == (100000, 2) and z.dtype == torch.float64, 'expected a [100000, 2] tensor of float64'
    assert float((z.mean(0) - means[0]).abs().max()) < 0.03 and float((z.var(0) / logvars[0].exp() - 1).abs().max()) < 0.03, 'wrong mean or variance'

@test_case(points=1, hidden=False)
def test_a_draw_takes_one_component(sample_mixture):
    """Narrow components at (-3, -3) and (3, 3): a draw picks one component for the whole vector, each half the time."""
    import torch
    _ = torch.manual_seed(1)
    means = torch.tensor([[-3.0, -3.0], [3.0, 3.0]], dtype=torch.float64)
    z = sample_mixture(20000, means, torch.full((2, 2), -4.0, dtype=torch.float64))
    assert float((z[:, 0] * z[:, 1] > 0).double().mean()) > 0.99, 'the coordinates of a draw come from different components'
    assert abs(float((z[:, 0] > 0).double().mean()) - 0.5) < 0.03, 'the components are not picked half the time each'

