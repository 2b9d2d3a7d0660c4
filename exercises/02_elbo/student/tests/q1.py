from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 10

@test_case(points=1, hidden=False)
def test_kl_of_a_unit_shift(kl_standard_normal):
    """KL(N(1, 1) || N(0, 1)) over 10 dimensions is 10 * 0.5 = 5."""
    import torch
    one, zero = (torch.ones(10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64))
    out = kl_standard_normal(one, zero)
    assert out.shape == () and abs(float(out) - 5.0) < 1e-10, 'expected a 0-dimensional tensor holding 5'

@test_case(points=1, hidden=False)
def test_kl_of_the_prior_to_itself(kl_standard_normal):
    """The KL of the prior to itself is 0, one value per row."""
    import torch
    out = kl_standard_normal(torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64))
    assert out.shape == (3,) and float(out.abs().max()) < 1e-12, 'expected three zeros'

