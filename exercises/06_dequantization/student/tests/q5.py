from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 5

@test_case(points=1, hidden=False)
def test_one_level_holds_all_the_mass(exact_log_prob):
    """L = 1: the single bin [0, 1) has probability 1 (a Python float log P = 0)."""
    out = exact_log_prob(0, 1)
    assert isinstance(out, float) and abs(out) < 1e-12, 'expected the float 0.0'

