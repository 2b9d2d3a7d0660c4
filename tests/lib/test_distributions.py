import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

import dgmlib
from dgmlib.likelihoods import LIKELIHOODS, BernoulliLikelihood, DiscretizedLogisticLikelihood, GaussianLikelihood


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
    bern = LIKELIHOODS.build("bernoulli")
    assert isinstance(bern, BernoulliLikelihood)
    assert torch.equal(bern.log_prob(x, logits), dgmlib.bernoulli_log_prob(x, logits))
    assert torch.allclose(bern.mean(logits), torch.sigmoid(logits))
    gauss = GaussianLikelihood(logvar=math.log(0.25))
    mu = torch.randn(2, 4)
    assert torch.allclose(gauss.log_prob(x, mu),
                          Normal(mu, 0.5).log_prob(x).sum(-1), atol=1e-5)
    with pytest.raises(ValueError, match="bernoulli"):
        LIKELIHOODS.build("poisson")


def test_learned_gaussian_likelihood_has_a_gradient():
    gauss = GaussianLikelihood(learn=True)
    gauss.log_prob(torch.ones(3), torch.zeros(3)).backward()
    # d/dlogvar of -0.5(logvar + x^2 e^-logvar) per dim at logvar=0, x=1: -0.5 + 0.5 = 0
    assert gauss.logvar.grad.item() == pytest.approx(0.0, abs=1e-6)
    gauss.logvar.grad = None
    gauss.log_prob(2 * torch.ones(3), torch.zeros(3)).backward()
    # -0.5 + 0.5 * 4 = 1.5 per dim, 3 dims
    assert gauss.logvar.grad.item() == pytest.approx(4.5, rel=1e-5)


# ---------------------------------------------------------------- discretized logistic

from dgmlib.distributions import (discretized_logistic_log_prob,  # noqa: E402
                                  log_sigmoid_difference)


def _all_levels(levels, loc, log_scale):
    """log P(x = k/(L-1)) for every level k: [L] for scalar parameters."""
    grid = torch.arange(levels, dtype=torch.get_default_dtype()) / (levels - 1)
    return discretized_logistic_log_prob(grid, torch.as_tensor(loc), torch.as_tensor(log_scale), levels, reduce=False)


@pytest.mark.parametrize("levels", [2, 17, 256])
@pytest.mark.parametrize("loc,log_scale", [(0.5, -2.0), (0.03, -4.0), (1.7, 0.5), (-3.0, -7.0)])
def test_discretized_logistic_probabilities_over_all_levels_sum_to_one(levels, loc, log_scale, tol):
    total = _all_levels(levels, loc, log_scale).exp().sum()
    assert total.item() == pytest.approx(1.0, abs=10 * tol)


def test_discretized_logistic_golden_value_of_the_middle_and_edge_bins():
    # L = 3 (x in {0, 1/2, 1}), mu = 1/2, s = 1/4: half width h = 1/4, so the middle bin is
    # sigma(1) - sigma(-1) = tanh(1/2) = 0.46211716 and each edge bin sigma(-1) = 0.26894142
    p = _all_levels(3, 0.5, math.log(0.25)).exp()
    assert torch.allclose(p, torch.tensor([0.26894142, 0.46211716, 0.26894142]), atol=1e-6)


def test_discretized_logistic_matches_a_numerical_integral_of_the_logistic_density():
    L, mu, s = 17, 0.4, 0.08
    def density(t):                                         # logistic density sigma'((t - mu)/s) / s
        z = torch.sigmoid((t - mu) / s)
        return z * (1 - z) / s
    edges = (torch.arange(L + 1, dtype=torch.float64) - 0.5) / (L - 1)
    edges[0], edges[-1] = -4.0, 5.0                           # the edge bins reach (almost) +-infinity
    numeric = torch.stack([torch.trapezoid(density(t), t) for t in
                           (torch.linspace(a, b, 20_001, dtype=torch.float64) for a, b in zip(edges[:-1], edges[1:]))])
    ours = _all_levels(L, mu, math.log(s)).to(torch.float64).exp()
    assert torch.allclose(ours, numeric, atol=1e-6)


@pytest.mark.parametrize("loc", [-1e4, -30.0, 0.5, 30.0, 1e4])
@pytest.mark.parametrize("log_scale", [-50.0, -7.0, 0.0, 7.0, 50.0])
def test_discretized_logistic_is_finite_with_finite_gradients_at_extreme_parameters(loc, log_scale):
    x = torch.tensor([0.0, 0.5, 1.0, 0.25])
    loc_t = torch.full((4,), loc, requires_grad=True)
    ls = torch.full((4,), log_scale, requires_grad=True)
    out = discretized_logistic_log_prob(x, loc_t, ls, levels=17)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(loc_t.grad).all() and torch.isfinite(ls.grad).all()


def test_log_sigmoid_difference_is_accurate_where_the_naive_formula_fails():
    a, b = torch.tensor([40.0, -40.0, 0.3]), torch.tensor([39.9, -40.1, 0.1])
    ours = log_sigmoid_difference(a, b).to(torch.float64)
    a64, b64 = a.double(), b.double()
    # sigma(a) - sigma(b) = sigma(-b) - sigma(-a): exact in float64 through the far tail
    ref = torch.log(torch.where(a64 > 0, torch.sigmoid(-b64) - torch.sigmoid(-a64), torch.sigmoid(a64) - torch.sigmoid(b64)))
    assert torch.allclose(ours, ref, rtol=1e-5)
    assert torch.log(torch.sigmoid(a[:1]) - torch.sigmoid(b[:1])).item() == -math.inf  # naive, in float32


def test_discretized_logistic_likelihood_module_and_build_vae(tol):
    lik = LIKELIHOODS.build("discretized_logistic")
    assert isinstance(lik, DiscretizedLogisticLikelihood) and lik.levels == 17
    assert LIKELIHOODS.build("discretized_logistic_256").levels == 256
    loc = torch.rand(2, 5)
    x = torch.randint(0, 17, (2, 5)).to(loc.dtype) / 16
    assert torch.allclose(lik.log_prob(x, loc), discretized_logistic_log_prob(x, loc, lik.log_scale, 17), rtol=tol)
    probs = lik.probs(loc)
    assert probs.shape == (2, 5, 17) and torch.allclose(probs.sum(-1), torch.ones(2, 5), atol=10 * tol)
    assert torch.allclose(lik.mean(loc), probs @ (torch.arange(17, dtype=loc.dtype) / 16), rtol=tol)
    per_pixel = DiscretizedLogisticLikelihood(17, scale="decoder")
    params = torch.cat([loc, torch.full_like(loc, -2.0)], -1)
    assert torch.allclose(per_pixel.log_prob(x, params), lik.log_prob(x, loc), rtol=tol)
    sample = lik.sample(loc)
    assert torch.equal(sample * 16, torch.round(sample * 16))
    model = dgmlib.build_vae(64, 4, hidden=(16,), likelihood="discretized_logistic")
    grey = dgmlib.load("digits", binarize=False).test[:3].to(next(model.parameters()).dtype)
    assert model.log_weights(grey, K=2).shape == (2, 3) and model.config["likelihood"] == "discretized_logistic"
    with pytest.raises(ValueError, match="levels"):
        DiscretizedLogisticLikelihood(levels=1)
