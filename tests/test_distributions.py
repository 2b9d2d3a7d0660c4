import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

import dgmlib
from dgmlib.distributions import BernoulliLikelihood, GaussianLikelihood, make_likelihood


def test_kl_of_unit_shift_over_ten_dims_is_five():
    kl = dgmlib.kl_normal(torch.ones(10), torch.zeros(10))
    assert kl.item() == pytest.approx(5.0, rel=1e-6)


def test_kl_of_identical_gaussians_is_zero(tol):
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(dgmlib.kl_normal(mu, logvar, mu, logvar), torch.zeros(4), atol=tol)


def test_kl_normal_equals_torch_kl_divergence(tol):
    g = torch.Generator().manual_seed(0)
    mu_q, lv_q, mu_p, lv_p = (torch.randn(5, 4, generator=g) for _ in range(4))
    ours = dgmlib.kl_normal(mu_q, lv_q, mu_p, lv_p)
    ref = kl_divergence(Independent(Normal(mu_q, (0.5 * lv_q).exp()), 1),
                        Independent(Normal(mu_p, (0.5 * lv_p).exp()), 1))
    assert torch.allclose(ours, ref, rtol=tol, atol=tol)


def test_kl_normal_matches_monte_carlo_within_standard_error():
    g = torch.Generator().manual_seed(1)
    mu_q, lv_q = torch.randn(3, generator=g), 0.5 * torch.randn(3, generator=g)
    mu_p, lv_p = torch.randn(3, generator=g), 0.5 * torch.randn(3, generator=g)
    q, p = dgmlib.diagonal_normal(mu_q, lv_q), dgmlib.diagonal_normal(mu_p, lv_p)
    n = 200_000
    z = mu_q + (0.5 * lv_q).exp() * torch.randn(n, 3, generator=g)
    diff = q.log_prob(z) - p.log_prob(z)
    se = diff.std() / math.sqrt(n)
    assert abs(diff.mean() - dgmlib.kl_normal(mu_q, lv_q, mu_p, lv_p)) < 4 * se


def test_gaussian_log_prob_golden_value():
    # log N(1; 0, 1) = -0.5 log(2 pi) - 0.5 = -1.4189385
    val = dgmlib.gaussian_log_prob(torch.ones(1), torch.zeros(1), torch.zeros(1))
    assert val.item() == pytest.approx(-1.4189385, abs=1e-6)


def test_gaussian_log_prob_equals_torch_normal(tol):
    x, mu, lv = torch.randn(6, 5), torch.randn(6, 5), torch.randn(6, 5)
    ref = Normal(mu, (0.5 * lv).exp()).log_prob(x).sum(-1)
    assert torch.allclose(dgmlib.gaussian_log_prob(x, mu, lv), ref, rtol=tol, atol=tol)


def test_bernoulli_log_prob_has_no_two_pi_term():
    # at logits 0 every pixel has probability 1/2, so log p = D log(1/2) exactly
    D = 7
    val = dgmlib.bernoulli_log_prob(torch.ones(D), torch.zeros(D))
    assert val.item() == pytest.approx(D * math.log(0.5), rel=1e-6)


def test_bernoulli_log_prob_equals_torch_bernoulli(tol):
    x = (torch.rand(4, 9) > 0.5).to(torch.get_default_dtype())
    logits = 3 * torch.randn(4, 9)
    ref = Bernoulli(logits=logits).log_prob(x).sum(-1)
    assert torch.allclose(dgmlib.bernoulli_log_prob(x, logits), ref, rtol=tol, atol=tol)


def test_bernoulli_log_prob_is_finite_for_huge_logits():
    x = torch.tensor([1.0, 0.0, 1.0, 0.0])
    logits = torch.tensor([200.0, -200.0, -200.0, 200.0])
    val = dgmlib.bernoulli_log_prob(x, logits)
    # two confident right answers (~0) and two confident wrong ones (-200 each)
    assert torch.isfinite(val) and val.item() == pytest.approx(-400.0, rel=1e-6)


def test_bernoulli_log_prob_broadcasts_over_samples():
    x = (torch.rand(3, 5) > 0.5).to(torch.get_default_dtype())
    logits = torch.randn(4, 3, 5)
    out = dgmlib.bernoulli_log_prob(x, logits)
    assert torch.allclose(out[2], dgmlib.bernoulli_log_prob(x, logits[2]))


def test_log_mean_exp_is_exact_on_small_values(tol):
    x = torch.randn(5, 3)
    ref = torch.log(torch.exp(x).mean(0))
    assert torch.allclose(dgmlib.log_mean_exp(x, 0), ref, rtol=tol, atol=tol)


def test_log_mean_exp_stays_finite_near_minus_1e4():
    x = torch.tensor([-1e4, -1e4 + math.log(3.0)])
    # mean of exp = e^-1e4 (1 + 3) / 2 = 2 e^-1e4
    val = dgmlib.log_mean_exp(x, 0)
    assert torch.isfinite(val)
    assert val.item() == pytest.approx(-1e4 + math.log(2.0), abs=1e-3)
    assert torch.log(torch.exp(x).mean()).item() == -math.inf  # the naive formula fails


def test_likelihood_modules():
    logits = torch.randn(2, 4)
    x = (torch.rand(2, 4) > 0.5).to(logits.dtype)
    bern = make_likelihood("bernoulli")
    assert isinstance(bern, BernoulliLikelihood)
    assert torch.equal(bern.log_prob(x, logits), dgmlib.bernoulli_log_prob(x, logits))
    assert torch.allclose(bern.mean(logits), torch.sigmoid(logits))
    gauss = GaussianLikelihood(logvar=math.log(0.25))
    mu = torch.randn(2, 4)
    assert torch.allclose(gauss.log_prob(x, mu),
                          Normal(mu, 0.5).log_prob(x).sum(-1), atol=1e-5)
    with pytest.raises(ValueError, match="bernoulli"):
        make_likelihood("poisson")


def test_learned_gaussian_likelihood_has_a_gradient():
    gauss = GaussianLikelihood(learn=True)
    gauss.log_prob(torch.ones(3), torch.zeros(3)).backward()
    # d/dlogvar of -0.5(logvar + x^2 e^-logvar) per dim at logvar=0, x=1: -0.5 + 0.5 = 0
    assert gauss.logvar.grad.item() == pytest.approx(0.0, abs=1e-6)
    gauss.logvar.grad = None
    gauss.log_prob(2 * torch.ones(3), torch.zeros(3)).backward()
    # -0.5 + 0.5 * 4 = 1.5 per dim, 3 dims
    assert gauss.logvar.grad.item() == pytest.approx(4.5, rel=1e-5)
