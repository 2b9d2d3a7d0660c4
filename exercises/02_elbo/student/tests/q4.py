from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_kl_of_a_gaussian_to_itself(kl_gaussians_1d):
    """The KL of a distribution to itself is 0, a Python float."""
    for m, s in ((0.0, 1.0), (-2.5, 0.3)):
        out = kl_gaussians_1d(m, s, m, s)
        assert isinstance(out, float) and abs(out) < 1e-12, 'expected the float 0.0'

