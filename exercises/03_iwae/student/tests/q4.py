from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_constant_weights_have_no_gap(elbo_gap):
    """s = 0: the weights are constant, and the ELBO is exact: a Python float 0."""
    for m in (0.0, -120.0):
        out = elbo_gap(m, 0.0)
        assert isinstance(out, float) and abs(out) < 1e-12, 'expected the float 0.0'

