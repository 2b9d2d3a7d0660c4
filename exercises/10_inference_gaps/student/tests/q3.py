from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 5

@test_case(points=1, hidden=False)
def test_the_answer_is_a_positive_float(MI_ANSWER):
    """A positive, finite Python float."""
    import math
    assert isinstance(MI_ANSWER, float) and math.isfinite(MI_ANSWER) and (MI_ANSWER > 0), 'expected a positive Python float'

