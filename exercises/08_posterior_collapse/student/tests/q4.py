from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_a_linear_rise_over_the_whole_cycle(mean_beta):
    """R = 1: beta rises linearly from 0 to 1 over the whole cycle; its average is 1/2, a Python float."""
    out = mean_beta(1.0)
    assert isinstance(out, float) and abs(out - 0.5) < 1e-12, 'expected the float 0.5'

