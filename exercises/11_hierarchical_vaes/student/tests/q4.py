from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 10

@test_case(points=2, hidden=False)
def test_the_answer_is_a_negative_float(q4_answer):
    """A negative, finite Python float (a log-density of a continuous x can be positive, but not this one)."""
    import math
    assert isinstance(q4_answer, float) and math.isfinite(q4_answer) and (q4_answer < 0), 'expected a negative Python float'

