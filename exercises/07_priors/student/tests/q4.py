from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_a_equal_zero_is_a_standard_normal(mixture_log_density_at_zero):
    """a = 0: both components are N(0, 1), so log p(0) = -log(2 pi) / 2, a Python float."""
    import math
    out = mixture_log_density_at_zero(0.0)
    assert isinstance(out, float) and abs(out + 0.5 * math.log(2 * math.pi)) < 1e-12, 'expected the float -0.91894'

