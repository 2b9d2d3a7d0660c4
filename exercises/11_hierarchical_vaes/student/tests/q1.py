from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 15

@test_case(points=1.5, hidden=False)
def test_two_unit_variances(merge):
    """Two unit variances: the mean is halfway, the variance halves."""
    import math
    import torch
    mu, logvar = merge(torch.tensor([0.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64))
    assert abs(float(mu[0]) - 1.0) < 1e-12 and abs(float(logvar[0]) + math.log(2)) < 1e-12, 'expected mu = 1, logvar = -log 2'

@test_case(points=1.5, hidden=False)
def test_variances_one_and_three(merge):
    """Variances 1 and 3, means 0 and 4: precision 1 + 1/3, mean 1."""
    import math
    import torch
    mu, logvar = merge(torch.tensor([0.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64), torch.tensor([math.log(3)], dtype=torch.float64))
    assert abs(float(mu[0]) - 1.0) < 1e-12 and abs(float(logvar[0]) - math.log(0.75)) < 1e-12, 'expected mu = 1, logvar = log 3/4'

