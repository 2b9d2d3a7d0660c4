"""dgmlib.mutual_information: the Barber-Agakov, InfoNCE and NWJ bounds against the closed-form
mutual information of correlated Gaussians, I = -d/2 log(1 - rho^2)."""
import math

import pytest
import torch

import dgmlib
from dgmlib.mutual_information import (SeparableCritic, barber_agakov, correlated_gaussian,
                                       correlated_gaussian_mi, encoder_scores, fit_critic,
                                       gaussian_conditional_log_prob, gaussian_entropy,
                                       gaussian_log_ratio_scores, generative_barber_agakov, infonce, nwj)


def samples(n, d, rho, seed, dtype):
    return correlated_gaussian(n, d, rho, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_golden_values_of_the_closed_forms():
    assert correlated_gaussian_mi(1, math.sqrt(0.75)) == pytest.approx(math.log(2))   # 1 - rho^2 = 1/4
    assert correlated_gaussian_mi(10, 0.0) == 0.0
    assert gaussian_entropy(1) == pytest.approx(1.4189385332)                         # 0.5 log(2 pi e)


def test_samples_have_the_requested_correlation(dtype):
    x, y = samples(200_000, 2, 0.6, 0, dtype)
    assert x.dtype == dtype and y.shape == (200_000, 2)
    corr = ((x * y).mean(0) - x.mean(0) * y.mean(0)) / (x.std(0) * y.std(0))
    assert torch.allclose(corr, torch.full((2,), 0.6, dtype=dtype), atol=0.01)


def test_pointwise_scores_are_the_log_density_ratio(tol, dtype):
    x, y = samples(5, 3, 0.7, 1, dtype)
    scores = gaussian_log_ratio_scores(x, y, 0.7)
    normal = torch.distributions.Normal(torch.zeros((), dtype=dtype), torch.ones((), dtype=dtype))
    for i, j in [(0, 0), (1, 3), (4, 2)]:
        cond = gaussian_conditional_log_prob(x[i:i + 1], y[j:j + 1], 0.7)[0]
        assert torch.allclose(scores[i, j], cond - normal.log_prob(y[j]).sum(), rtol=tol, atol=tol)
    # the MI is the expected pointwise MI of the joint pairs
    x, y = samples(50_000, 3, 0.7, 2, dtype)
    diag = gaussian_conditional_log_prob(x, y, 0.7) - normal.log_prob(y).sum(-1)
    assert abs(diag.mean().item() - correlated_gaussian_mi(3, 0.7)) < 4 * diag.std().item() / math.sqrt(50_000)


@pytest.mark.parametrize("rho", [0.3, 0.8, 0.95])
def test_barber_agakov_with_the_exact_conditional_equals_the_truth_in_expectation(rho, dtype):
    d, n = 4, 100_000
    x, y = samples(n, d, rho, 3, dtype)
    log_q = gaussian_conditional_log_prob(x, y, rho)
    est = barber_agakov(log_q, entropy=gaussian_entropy(d))
    se = log_q.std().item() / math.sqrt(n)
    assert est.dtype == dtype and abs(est.item() - correlated_gaussian_mi(d, rho)) < 4 * se
    # the Monte Carlo entropy form gives the same expectation
    normal = torch.distributions.Normal(torch.zeros((), dtype=dtype), torch.ones((), dtype=dtype))
    terms = log_q - normal.log_prob(y).sum(-1)
    mc = barber_agakov(log_q, log_marginal=normal.log_prob(y).sum(-1))
    assert abs(mc.item() - correlated_gaussian_mi(d, rho)) < 4 * terms.std().item() / math.sqrt(n)


def test_barber_agakov_with_a_wrong_conditional_is_below_the_truth_by_the_expected_kl(dtype):
    d, rho, s, n = 3, 0.8, 2.0, 100_000        # q(y|x) has s times the true standard deviation
    x, y = samples(n, d, rho, 4, dtype)
    est = barber_agakov(gaussian_conditional_log_prob(x, y, rho, scale=s), entropy=gaussian_entropy(d)).item()
    kl = d * (math.log(s) + 1 / (2 * s ** 2) - 0.5)     # KL(N(0, 1) || N(0, s^2)) per dimension
    assert est < correlated_gaussian_mi(d, rho)
    assert est == pytest.approx(correlated_gaussian_mi(d, rho) - kl, abs=0.02)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_infonce_with_the_optimal_critic_is_below_the_truth(rho, dtype):
    d, B, reps = 5, 64, 200
    truth = correlated_gaussian_mi(d, rho)
    est = torch.stack([infonce(gaussian_log_ratio_scores(*samples(B, d, rho, 100 + r, dtype), rho))
                       for r in range(reps)])
    mean, se = est.mean().item(), est.std().item() / math.sqrt(reps)
    assert mean <= truth + 3 * se and mean <= math.log(B)
    if truth < 0.5 * math.log(B):             # far from the ceiling the bias is small
        assert mean > truth - 0.2


def test_infonce_never_exceeds_log_batch_size_whatever_the_critic(dtype):
    B = 16
    ceiling = torch.tensor(math.log(B), dtype=dtype)            # log B rounded to the scores' dtype
    g = torch.Generator().manual_seed(5)
    for scale in (1.0, 1e3, 1e30):
        for scores in (scale * torch.randn(B, B, generator=g, dtype=dtype),
                       torch.diag(torch.full((B,), scale, dtype=dtype)),   # a critic that is sure
                       torch.zeros(B, B, dtype=dtype)):                    # a critic that knows nothing
            est = infonce(scores)
            assert torch.isfinite(est) and bool(est <= ceiling)
    assert infonce(torch.diag(torch.full((B,), 1e4, dtype=dtype))) == ceiling
    assert infonce(torch.zeros(B, B)).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_nwj_with_the_optimal_critic_is_unbiased_and_below_the_truth(rho, dtype):
    d, B, reps = 2, 64, 300
    truth = correlated_gaussian_mi(d, rho)
    est = torch.stack([nwj(1 + gaussian_log_ratio_scores(*samples(B, d, rho, 200 + r, dtype), rho))
                       for r in range(reps)])
    mean, se = est.mean().item(), est.std().item() / math.sqrt(reps)
    assert mean <= truth + 3 * se and abs(mean - truth) < 4 * se
    # a critic off by a constant is a looser bound: f* + c gives I - (e^c - 1 - c) in expectation
    worse = torch.stack([nwj(1.5 + gaussian_log_ratio_scores(*samples(B, d, rho, 200 + r, dtype), rho))
                         for r in range(reps)])
    assert worse.mean().item() == pytest.approx(truth - (math.exp(0.5) - 1.5), abs=4 * se + 0.02)


def test_nwj_golden_value_and_no_overflow():
    # f = 0 everywhere: 0 - e^{-1} * 1
    assert nwj(torch.zeros(3, 3)).item() == pytest.approx(-math.exp(-1.0))
    big = torch.full((4, 4), 50.0)
    assert nwj(big).item() == pytest.approx(50.0 - math.exp(49.0), rel=1e-5)


@pytest.mark.parametrize("bound", [infonce, nwj])
def test_bounds_reject_bad_score_matrices(bound):
    with pytest.raises(ValueError, match="scores must be a square"):
        bound(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="scores must be a square"):
        bound(torch.zeros(3))
    with pytest.raises(ValueError, match="B >= 2"):
        bound(torch.zeros(1, 1))


def test_barber_agakov_rejects_bad_inputs():
    with pytest.raises(ValueError, match="log_q must be a \\[B\\]"):
        barber_agakov(torch.zeros(3, 2), entropy=1.0)
    with pytest.raises(ValueError, match="B >= 2"):
        barber_agakov(torch.zeros(1), entropy=1.0)
    with pytest.raises(ValueError, match="log_marginal must have the shape"):
        barber_agakov(torch.zeros(4), log_marginal=torch.zeros(5))
    with pytest.raises(ValueError, match="exactly one"):
        barber_agakov(torch.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        gaussian_conditional_log_prob(torch.zeros(4, 2), torch.zeros(5, 2), 0.5)
    with pytest.raises(ValueError, match="rho"):
        correlated_gaussian(4, 2, 1.0)


def test_a_trained_separable_critic_gives_a_bound_below_the_truth():
    torch.manual_seed(6)
    d, rho, B = 2, 0.8, 128
    g = torch.Generator().manual_seed(7)
    critic = SeparableCritic(d, d, hidden=32, embed=8)
    curve = fit_critic(critic, lambda: correlated_gaussian(B, d, rho, generator=g), infonce, steps=150, lr=3e-3)
    assert len(curve) == 150 and sum(curve[-20:]) / 20 > sum(curve[:20]) / 20 + 0.3
    with torch.no_grad():
        est = torch.stack([infonce(critic(*correlated_gaussian(B, d, rho, generator=g))) for _ in range(50)])
    assert est.mean().item() < correlated_gaussian_mi(d, rho) + 0.05
    with pytest.raises(ValueError, match="same number of samples"):
        critic(torch.zeros(3, d), torch.zeros(4, d))


def test_encoder_scores_give_the_elbo_surgery_mutual_information(tol):
    torch.manual_seed(8)
    model = dgmlib.build_vae(12, 3, hidden=(16,))
    x = torch.bernoulli(torch.full((40, 12), 0.4))
    torch.manual_seed(9)
    scores, log_prior = encoder_scores(model, x)
    torch.manual_seed(9)
    surgery = dgmlib.elbo_surgery(model, x, samples=1)
    assert scores.shape == (40, 40) and log_prior.shape == (40,)
    assert infonce(scores).item() == pytest.approx(surgery.mutual_info, rel=tol, abs=tol)
    assert infonce(scores).item() <= surgery.log_n
    # the index-code MI lies between 0 and log N, NWJ with the prior as marginal is finite
    assert torch.isfinite(nwj(1 + scores - log_prior[:, None]))
    est = generative_barber_agakov(model, 500)
    assert torch.isfinite(est)


def test_vae_estimators_refuse_flow_posteriors():
    model = dgmlib.build_vae(8, 2, hidden=(16,), flow="planar", flow_length=1)
    with pytest.raises(ValueError, match="posterior flow"):
        encoder_scores(model, torch.zeros(4, 8))
    with pytest.raises(ValueError, match="posterior flow"):
        generative_barber_agakov(model, 10)
