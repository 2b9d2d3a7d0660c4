from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 5

@test_case(points=1, hidden=False)
def test_the_answer_is_a_float(planar_log_det):
    """A Python float, finite."""
    import math
    assert isinstance(planar_log_det, float) and math.isfinite(planar_log_det), 'expected a finite Python float'

