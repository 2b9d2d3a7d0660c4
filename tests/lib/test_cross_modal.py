"""The cross-modal bound (dgmlib.cross_modal) on a linear-Gaussian pair of modalities, where every
term is exact: the bound, log p(x_t), the gap KL(q(z|x_i) || p(z|x_t)) and a Monte Carlo estimate."""
import math

import pytest
import torch

from dgmlib.cross_modal import (cross_modal_bound, gaussian_kl, gaussian_kl_to_standard,
                                linear_gaussian_cross_modal_bound, linear_gaussian_cross_modal_gap)
from dgmlib.models.linear_gaussian import LinearGaussian

Z = 3


def _pair(dtype, device):
    """One z ~ N(0, I_3); a 'source' view of 6 features and a 'target' view of 4."""
    gen = torch.Generator().manual_seed(0)
    source = LinearGaussian.random(6, Z, logvar=-1.0, orthogonal=False, generator=gen, dtype=dtype)
    target = LinearGaussian.random(4, Z, logvar=-0.5, orthogonal=False, generator=gen, dtype=dtype)
    z = torch.randn(200, Z, generator=gen, dtype=dtype)
    x_s = z @ source.W.T + source.b + (0.5 * source.logvar).exp() * torch.randn(200, 6, generator=gen, dtype=dtype)
    x_t = z @ target.W.T + target.b + (0.5 * target.logvar).exp() * torch.randn(200, 4, generator=gen, dtype=dtype)
    return source.to(device), target.to(device), x_s.to(device), x_t.to(device)


def _tol(dtype):
    return 1e-9 if dtype == torch.float64 else 2e-3


def test_bound_plus_the_posterior_kl_is_log_p_of_the_target(dtype, device):
    """log p(x_t) = bound + KL(q(z|x_i) || p(z|x_t)), each side computed on its own."""
    source, target, x_s, x_t = _pair(dtype, device)
    bound = linear_gaussian_cross_modal_bound(source, target, x_s, x_t)
    gap = linear_gaussian_cross_modal_gap(source, target, x_s, x_t)
    torch.testing.assert_close(bound + gap, target.log_marginal(x_t), rtol=0,
                               atol=_tol(dtype) * 100)
    assert (gap > 0).all()


def test_with_the_target_as_its_own_source_the_bound_is_exact(dtype, device):
    """i = t and q the exact posterior: the ELBO equals log p(x_t)."""
    _, target, _, x_t = _pair(dtype, device)
    torch.testing.assert_close(linear_gaussian_cross_modal_bound(target, target, x_t, x_t),
                               target.log_marginal(x_t), rtol=0, atol=_tol(dtype) * 100)


def test_paired_sources_beat_shuffled_ones(dtype, device):
    """The shared z makes the paired source informative: shuffling the pairs lowers the bound."""
    source, target, x_s, x_t = _pair(dtype, device)
    paired = linear_gaussian_cross_modal_bound(source, target, x_s, x_t).mean()
    shuffled = linear_gaussian_cross_modal_bound(source, target, x_s.roll(1, 0), x_t).mean()
    assert paired > shuffled + 1.0


def test_the_monte_carlo_bound_converges_to_the_closed_form():
    """With an orthogonal source the exact posterior is diagonal, so the Monte Carlo estimator
    (draws z ~ q(z|x_i), diagonal KL) applies; it matches the closed form within 4 standard errors."""
    dtype = torch.float64
    gen = torch.Generator().manual_seed(1)
    source = LinearGaussian.random(6, Z, logvar=-1.0, orthogonal=True, generator=gen, dtype=dtype)
    target = LinearGaussian.random(4, Z, logvar=-0.5, orthogonal=False, generator=gen, dtype=dtype)
    x_s, x_t = torch.randn(5, 6, generator=gen, dtype=dtype), torch.randn(5, 4, generator=gen, dtype=dtype)
    m, S = source.posterior(x_s)
    assert torch.allclose(S, torch.diag(torch.diagonal(S)), atol=1e-12)
    logvar = torch.diagonal(S).log().expand_as(m)
    K = 200_000
    z = m + torch.diagonal(S).sqrt() * torch.randn(K, *m.shape, generator=gen, dtype=dtype)
    mean = z @ target.W.T + target.b
    log_lik = (-0.5 * ((x_t - mean) ** 2).sum(-1) / target.logvar.exp()
               - 0.5 * 4 * (math.log(2 * math.pi) + target.logvar))                 # [K, B]
    mc = cross_modal_bound(log_lik, m, logvar)
    exact = linear_gaussian_cross_modal_bound(source, target, x_s, x_t)
    se = log_lik.std(0) / math.sqrt(K)
    assert ((mc - exact).abs() < 4 * se + 1e-9).all()


def test_the_full_covariance_kls_agree_with_torch(dtype):
    gen = torch.Generator().manual_seed(2)
    A = torch.randn(Z, Z, generator=gen, dtype=dtype)
    cov_q, cov_p = A @ A.T + 0.5 * torch.eye(Z, dtype=dtype), torch.eye(Z, dtype=dtype) * 2.0
    mu_q, mu_p = torch.randn(4, Z, generator=gen, dtype=dtype), torch.randn(4, Z, generator=gen, dtype=dtype)
    mvn = torch.distributions.MultivariateNormal
    ref = torch.distributions.kl_divergence(mvn(mu_q, cov_q), mvn(mu_p, cov_p))
    torch.testing.assert_close(gaussian_kl(mu_q, cov_q, mu_p, cov_p), ref, rtol=1e-4, atol=1e-4)
    ref0 = torch.distributions.kl_divergence(mvn(mu_q, cov_q), mvn(torch.zeros_like(mu_q), torch.eye(Z, dtype=dtype)))
    torch.testing.assert_close(gaussian_kl_to_standard(mu_q, cov_q), ref0, rtol=1e-4, atol=1e-4)


def test_mismatched_modalities_give_clear_errors(dtype, device):
    source, target, x_s, x_t = _pair(dtype, device)
    with pytest.raises(ValueError, match="paired row by row, got 200 source and 199 target"):
        linear_gaussian_cross_modal_bound(source, target, x_s, x_t[:199])
    other = LinearGaussian.random(4, Z + 1, dtype=dtype).to(device)
    with pytest.raises(ValueError, match="share one latent space"):
        linear_gaussian_cross_modal_bound(source, other, x_s, x_t)
    with pytest.raises(ValueError, match=r"\[K, batch\] with the source's batch \(200\)"):
        cross_modal_bound(torch.zeros(3, 199, dtype=dtype), torch.zeros(200, Z, dtype=dtype),
                          torch.zeros(200, Z, dtype=dtype))
