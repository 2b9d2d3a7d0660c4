from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_the_answer_is_a_probability(posterior_first):
    """A Python float between 0 and 1."""
    assert isinstance(posterior_first, float) and 0.0 <= posterior_first <= 1.0, 'expected a Python float in [0, 1]'

