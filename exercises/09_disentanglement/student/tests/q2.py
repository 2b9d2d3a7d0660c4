from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 15

@test_case(points=1.5, hidden=False)
def test_codes_that_copy_the_factors(mig):
    """Every combination of two independent factors (4 and 2 values); codes copy them: MIG = 1; copied twice: MIG = 0."""
    import torch
    f = torch.cartesian_prod(torch.arange(4), torch.arange(2))
    assert abs(float(mig(f.clone(), f)) - 1.0) < 1e-10, 'codes that copy the factors have MIG 1'
    assert abs(float(mig(torch.cat([f, f], 1), f))) < 1e-10, 'each factor copied by two latents: MIG 0'

@test_case(points=1.5, hidden=False)
def test_one_latent_holds_both_factors(mig):
    """One latent holds both factors, the other is constant: gaps H(v)/H(v) = 1 for each factor."""
    import torch
    f = torch.cartesian_prod(torch.arange(4), torch.arange(2))
    codes = torch.stack([f[:, 0] * 2 + f[:, 1], torch.zeros(8, dtype=torch.int64)], 1)
    assert abs(float(mig(codes, f)) - 1.0) < 1e-10, 'expected 1'

