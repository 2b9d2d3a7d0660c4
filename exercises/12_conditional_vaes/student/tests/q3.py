from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_five_nats_from_the_prior(cross_modal_bound):
    """K = 1, log-likelihood -2, q = N(1, 1) in 10 dimensions (KL 5): -7."""
    import torch
    out = cross_modal_bound(torch.tensor([[-2.0]], dtype=torch.float64), torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, 10, dtype=torch.float64))
    assert out.shape == (1,) and abs(float(out[0]) + 7.0) < 1e-12, 'expected [-7]'

@test_case(points=1, hidden=False)
def test_the_mean_over_the_draws(cross_modal_bound):
    """K = 4 draws for B = 2 pairs, q equal to the prior (KL 0): the mean of each column."""
    import torch
    log_lik = torch.tensor([[-1.0, 0.0], [-2.0, -4.0], [-3.0, -4.0], [-6.0, -4.0]], dtype=torch.float64)
    out = cross_modal_bound(log_lik, torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64))
    assert out.shape == (2,) and float((out - torch.tensor([-3.0, -3.0], dtype=torch.float64)).abs().max()) < 1e-12, 'expected [-3, -3]'

