from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_the_example(cyclical_beta):
    """P = 100, R = 0.5 at steps 0, 25, 50, 99, 100, 125, 250."""
    values = [cyclical_beta(t, 100, 0.5) for t in (0, 25, 50, 99, 100, 125, 250)]
    assert all((isinstance(v, float) for v in values)), 'expected Python floats'
    assert values == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0], f'expected [0, 0.5, 1, 1, 0, 0.5, 1], got {values}'

@test_case(points=1, hidden=False)
def test_ratio_one(cyclical_beta):
    """Ratio 1: the weight rises over the whole cycle."""
    assert abs(cyclical_beta(30, 40, 1.0) - 0.75) < 1e-12 and cyclical_beta(40, 40, 1.0) == 0.0, 'expected 0.75 at step 30 and 0 at step 40'

