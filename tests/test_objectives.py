import math

import pytest
import torch

import dgmlib
from dgmlib.models import LinearGaussian


@pytest.fixture
def model():
    torch.manual_seed(0)
    return dgmlib.build_vae(x_dim=8, z_dim=3, hidden=(16,))


@pytest.fixture
def x():
    return (torch.rand(5, 8, generator=torch.Generator().manual_seed(1)) > 0.5).to(torch.get_default_dtype())


def test_iwae_bound_with_one_sample_equals_elbo(model, x, tol):
    torch.manual_seed(7)
    iwae = dgmlib.iwae_bound(model, x, K=1)
    torch.manual_seed(7)
    elbo = dgmlib.elbo(model, x, K=1)
    assert torch.allclose(iwae, elbo, rtol=tol, atol=tol)


def test_elbo_is_the_mean_and_iwae_the_log_mean_exp_of_the_same_weights(model, x, tol):
    torch.manual_seed(3)
    log_w = model.log_weights(x, K=6)
    torch.manual_seed(3)
    assert torch.allclose(dgmlib.elbo(model, x, K=6), log_w.mean(0), rtol=tol, atol=tol)
    torch.manual_seed(3)
    assert torch.allclose(dgmlib.iwae_bound(model, x, K=6), dgmlib.log_mean_exp(log_w, 0), rtol=tol, atol=tol)


def test_analytic_kl_elbo_equals_reconstruction_minus_closed_form_kl(model, x, tol):
    torch.manual_seed(5)
    t = model.terms(x, K=4)
    torch.manual_seed(5)
    analytic = dgmlib.elbo(model, x, K=4, analytic_kl=True)
    expected = t.log_px_z.mean(0) - dgmlib.kl_normal(t.mu, t.logvar)
    assert torch.allclose(analytic, expected, rtol=tol, atol=tol)


def test_analytic_and_monte_carlo_elbo_agree_in_expectation(model, x):
    torch.manual_seed(0)
    K = 20_000
    t = model.terms(x, K=K)
    mc, analytic = t.log_w, t.log_px_z - dgmlib.kl_normal(t.mu, t.logvar)
    se = (mc - analytic).std(0) / math.sqrt(K)
    assert bool(((mc.mean(0) - analytic.mean(0)).abs() < 4 * se + 1e-4).all())


def test_beta_elbo_is_the_elbo_at_beta_one_and_linear_in_beta(model, x, tol):
    values = {}
    for beta in (0.0, 1.0, 2.0):
        torch.manual_seed(11)
        values[beta] = dgmlib.beta_elbo(model, x, beta=beta)
    torch.manual_seed(11)
    assert torch.allclose(values[1.0], dgmlib.elbo(model, x, analytic_kl=True), rtol=tol, atol=tol)
    # L(beta) = rec - beta KL: equal steps in beta give equal steps in the objective
    assert torch.allclose(values[0.0] - values[1.0], values[1.0] - values[2.0], rtol=tol, atol=tol)
    assert bool((values[0.0] >= values[1.0]).all())  # KL >= 0


def test_elbo_plus_kl_to_the_true_posterior_is_log_px_on_the_linear_gaussian():
    # q = p(z) (an encoder that ignores x): ELBO = log p(x) - KL(p(z) || p(z|x)), closed form
    lg = LinearGaussian.random(4, 2, logvar=math.log(0.5), generator=torch.Generator().manual_seed(2))
    vae = lg.as_vae(exact_posterior=False)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    mean, cov = lg.posterior(x)
    post = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    prior = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
    kl = torch.distributions.kl_divergence(prior, post)
    torch.manual_seed(0)
    K = 100_000
    log_w = vae.log_weights(x, K)
    se = log_w.std(0) / math.sqrt(K)
    assert bool(((log_w.mean(0) + kl - lg.log_marginal(x)).abs() < 4 * se).all())


def test_iwae_bound_tightens_with_k_towards_log_px_on_the_linear_gaussian():
    lg = LinearGaussian.random(4, 2, logvar=math.log(0.5), generator=torch.Generator().manual_seed(2))
    vae = lg.as_vae(exact_posterior=False)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    torch.manual_seed(0)
    log_w = vae.log_weights(x, K=4096 * 64)                       # [262144, 3]
    # L_K in expectation: the mean over many replicates of K samples
    small = log_w.reshape(8192, 32, 3)
    bounds = {K: dgmlib.log_mean_exp(small[:, :K], 1).mean(0) for K in (1, 2, 8, 32)}
    for k_small, k_large in [(1, 2), (2, 8), (8, 32)]:
        assert bool((bounds[k_small] < bounds[k_large]).all())
    exact = lg.log_marginal(x)
    large = dgmlib.log_mean_exp(log_w.reshape(64, 4096, 3), 1)     # 64 replicates of K = 4096
    assert bool((bounds[32] < exact).all())
    assert bool(((exact - large.mean(0)).abs() < 4 * large.std(0) / 8 + 1e-3).all())
