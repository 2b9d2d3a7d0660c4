from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=0.5, hidden=False)
def test_the_answer_is_a_float(cross_modal_bound_1d):
    """A finite Python float (not a tensor)."""
    import math
    out = cross_modal_bound_1d(2.0, 0.5, 0.3, 1.0, -0.4)
    assert isinstance(out, float) and math.isfinite(out), 'expected a finite Python float'

@test_case(points=0.5, hidden=False)
def test_the_target_is_the_source(cross_modal_bound_1d):
    """a = 1, t2 = s2, x_t = x_i: the exact posterior of the target, so the bound is log N(x_t; 0, 1 + s2)."""
    import math
    for s2, x in ((0.5, 1.0), (2.0, -3.0)):
        out = cross_modal_bound_1d(1.0, s2, s2, x, x)
        expected = -0.5 * math.log(2 * math.pi * (1 + s2)) - x ** 2 / (2 * (1 + s2))
        assert abs(out - expected) < 1e-09, f's2 = {s2}, x = {x}: expected {expected:.6f}'

