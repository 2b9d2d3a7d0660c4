from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_one_posterior_is_its_own_aggregate(marginal_kl_far_apart):
    """N = 1: the aggregate posterior is the posterior, and the marginal KL is the average KL (a float)."""
    out = marginal_kl_far_apart(3.5, 1)
    assert isinstance(out, float) and abs(out - 3.5) < 1e-12, 'expected the float 3.5'

