from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_a_constant_second_latent(mig_copy_and_coarse_copy):
    """m = 1: z2 is constant and tells nothing, so the gap is 1 (a Python float)."""
    out = mig_copy_and_coarse_copy(8, 1)
    assert isinstance(out, float) and abs(out - 1.0) < 1e-12, 'expected the float 1.0'

