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


# ---------------------------------------------------------------- free bits and annealing

from dgmlib.objectives import AnnealedELBO, free_bits_elbo, kl_per_group  # noqa: E402
from dgmlib.schedules import Constant, LinearWarmup  # noqa: E402


def _same_terms(model, x, K=1, seed=13):
    torch.manual_seed(seed)
    return model.terms(x, K)


def test_kl_per_group_sums_to_the_closed_form_kl(model, x, tol):
    t = _same_terms(model, x)
    per_dim = kl_per_group(model, t)
    assert per_dim.shape == (5, 3)
    assert torch.allclose(per_dim.sum(-1), dgmlib.kl_normal(t.mu, t.logvar), rtol=tol, atol=tol)
    assert torch.allclose(kl_per_group(model, t, groups=1)[:, 0], per_dim.sum(-1), rtol=tol, atol=tol)
    # golden value: KL(N(1, 1) || N(0, 1)) = 0.5 per dimension
    golden = t._replace(mu=torch.ones(2, 3), logvar=torch.zeros(2, 3))
    assert torch.allclose(kl_per_group(model, golden), torch.full((2, 3), 0.5))


def test_free_bits_equals_the_analytic_elbo_when_every_group_is_above_lambda(model, x, tol):
    torch.manual_seed(13)
    fb = free_bits_elbo(model, x, free_bits=0.0)
    torch.manual_seed(13)
    ref = dgmlib.elbo(model, x, analytic_kl=True)
    assert torch.allclose(fb, ref, rtol=tol, atol=tol)
    t = _same_terms(model, x)
    lam = 0.5 * kl_per_group(model, t).mean(0).min().item()      # below every group's batch mean
    torch.manual_seed(13)
    assert torch.allclose(free_bits_elbo(model, x, free_bits=lam), ref, rtol=tol, atol=tol)


def test_free_bits_is_constant_in_the_kl_of_groups_below_lambda(model, x, tol):
    t = _same_terms(model, x)
    big = 10 * kl_per_group(model, t).mean(0).max().item()       # above every group's batch mean
    torch.manual_seed(13)
    values = free_bits_elbo(model, x, free_bits=big)
    # = reconstruction - (number of groups) * lambda, for every example
    assert torch.allclose(values, t.log_px_z.mean(0) - 3 * big, rtol=tol, atol=tol)
    # no gradient reaches the encoder's variances through the KL: only the reconstruction's
    torch.manual_seed(13)
    model.zero_grad()
    free_bits_elbo(model, x, free_bits=big).mean().backward()
    g_fb = [p.grad.clone() for p in model.encoder.parameters()]
    torch.manual_seed(13)
    model.zero_grad()
    model.terms(x, 1).log_px_z.mean().backward()
    g_rec = [p.grad.clone() for p in model.encoder.parameters()]
    assert all(torch.allclose(a, b, rtol=tol, atol=tol) for a, b in zip(g_fb, g_rec))


def test_free_bits_takes_the_max_of_the_batch_averaged_kl_not_per_example(model, x, tol):
    t = _same_terms(model, x, seed=21)
    kl = kl_per_group(model, t, groups=1)[:, 0].detach()          # [B]
    lam = float(kl.mean()) * 1.02 if float(kl.max()) > float(kl.mean()) * 1.02 else None
    assert lam is not None, "fixture has spread in the KL"
    torch.manual_seed(21)
    out = free_bits_elbo(model, x, free_bits=lam, groups=1)
    # batch mean below lambda: the objective is rec - lambda, although some examples are above it
    assert torch.allclose(out.mean(), t.log_px_z.mean() - lam, rtol=tol, atol=tol)
    per_example = (t.log_px_z.mean(0) - torch.clamp(kl, min=lam)).mean()
    assert not torch.allclose(out.mean(), per_example, rtol=tol, atol=tol)
    # lambda just below the batch mean: the plain ELBO, though some examples are below lambda
    lam = float(kl.mean()) * 0.98
    torch.manual_seed(21)
    out = free_bits_elbo(model, x, free_bits=lam, groups=1)
    assert torch.allclose(out, t.log_px_z.mean(0) - kl, rtol=tol, atol=tol)


def test_free_bits_rejects_bad_groups_and_non_factorized_posteriors(model, x):
    with pytest.raises(ValueError, match="divide"):
        free_bits_elbo(model, x, groups=2)
    with pytest.raises(ValueError, match="free_bits"):
        free_bits_elbo(model, x, free_bits=-1.0)
    flow_model = dgmlib.build_vae(8, 2, hidden=(8,), flow="planar", flow_length=1)
    with pytest.raises(ValueError, match="StandardNormal"):
        free_bits_elbo(flow_model, x)


def test_annealed_elbo_is_beta_elbo_at_the_scheduled_beta(model, x, tol):
    obj = AnnealedELBO(LinearWarmup(10))
    for step, beta in [(0, 0.0), (5, 0.5), (10, 1.0), (50, 1.0)]:
        obj.set_step(step)
        assert obj.beta == beta
        torch.manual_seed(3)
        a = obj(model, x)
        torch.manual_seed(3)
        assert torch.allclose(a, dgmlib.beta_elbo(model, x, beta=beta), rtol=tol, atol=tol)
    obj = AnnealedELBO(Constant(1.0))
    torch.manual_seed(4)
    a = obj(model, x)
    torch.manual_seed(4)
    assert torch.allclose(a, dgmlib.elbo(model, x, analytic_kl=True), rtol=tol, atol=tol)
