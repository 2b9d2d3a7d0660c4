from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_q_equal_to_the_prior(beta_vae_objective):
    """q = p: the KL is 0 and the objective is the reconstruction term, whatever beta."""
    import torch
    out = beta_vae_objective(torch.tensor([-3.0, -5.0], dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64), 7.0)
    assert out.shape == (2,) and abs(float(out[0]) + 3.0) < 1e-12 and (abs(float(out[1]) + 5.0) < 1e-12), 'expected (-3, -5)'

@test_case(points=1, hidden=False)
def test_beta_four(beta_vae_objective):
    """KL(N(1, 1) || N(0, 1)) over 10 dimensions is 5 nats; beta = 4 subtracts 20."""
    import torch
    out = beta_vae_objective(torch.tensor([-1.0], dtype=torch.float64), torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, 10, dtype=torch.float64), 4.0)
    assert out.shape == (1,) and abs(float(out[0]) - -21.0) < 1e-10, 'expected [-21]'

