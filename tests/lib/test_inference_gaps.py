"""dgmlib.inference_gaps: per-point refinement of q and the approximation / amortization split,
checked on the linear-Gaussian model, where log p(x) and the posterior are exact."""
import math
import warnings

import pytest
import torch

import dgmlib
from dgmlib.inference_gaps import (Posterior, encoder_posterior, inference_gaps, log_marginal_given,
                                   log_weights_given, refine_posterior)


def linear_gaussian(dtype, device, seed=0, x_dim=6, z_dim=3, n=20):
    """An orthogonal-W model (diagonal exact posterior) and data drawn from it."""
    g = torch.Generator().manual_seed(seed)
    lg = dgmlib.LinearGaussian.random(x_dim, z_dim, logvar=math.log(0.5), generator=g, dtype=dtype, device=device)
    z = torch.randn(n, z_dim, generator=g, dtype=dtype).to(device)
    x = z @ lg.W.T + lg.b + math.sqrt(0.5) * torch.randn(n, x_dim, generator=g, dtype=dtype).to(device)
    return lg, x


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def test_log_weights_given_follow_the_change_of_variables_of_the_flow(tol):
    torch.manual_seed(0)
    model = dgmlib.build_vae(8, 3, hidden=(16,), flow="planar", flow_length=2)
    x = torch.bernoulli(torch.full((5, 8), 0.5))
    q = encoder_posterior(model, x)
    eps = torch.randn(4, 5, 3)
    z0 = q.mu + torch.exp(0.5 * q.logvar) * eps
    z, log_det = model.flow(z0, context=q.context)
    log_q = dgmlib.diagonal_normal(q.mu, q.logvar).log_prob(z0) - log_det
    expected = model.log_joint(x, z) - log_q
    assert torch.allclose(log_weights_given(model, x, q, eps), expected, rtol=tol, atol=tol)


def test_log_weights_given_are_log_px_at_the_exact_posterior(dtype, device, tol):
    lg, x = linear_gaussian(dtype, device)
    vae = lg.as_vae(exact_posterior=True)
    q = encoder_posterior(vae, x)
    lw = log_weights_given(vae, x, q, torch.randn(7, *q.mu.shape, dtype=dtype, device=device))
    assert lw.shape == (7, len(x)) and lw.dtype == dtype and lw.device.type == device.type
    assert torch.allclose(lw, lg.log_marginal(x).expand_as(lw), rtol=tol, atol=10 * tol)
    assert torch.allclose(log_marginal_given(vae, x, q, K=30, chunk=7), lg.log_marginal(x), rtol=tol, atol=10 * tol)


def test_refined_elbo_reaches_log_px_when_the_exact_posterior_is_diagonal(dtype, device):
    lg, x = linear_gaussian(dtype, device)
    vae = lg.as_vae(exact_posterior=False)            # a bad encoder: q(z|x) = p(z) for every x
    torch.manual_seed(1)
    r = refine_posterior(vae, x, steps=600, lr=0.05, K=8, eval_K=2000)
    mean, cov = lg.posterior(x)
    assert r.posterior.context is None and r.elbo.dtype == dtype
    assert torch.allclose(r.posterior.mu, mean, atol=0.02)
    assert torch.allclose(r.posterior.logvar, torch.diagonal(cov).log().expand_as(mean), atol=0.05)
    # approximation gap ~ 0: the refined ELBO is log p(x) within the optimizer's tolerance
    assert torch.allclose(r.elbo, lg.log_marginal(x), atol=5e-3)
    assert bool(r.converged.all()) and bool(r.improved.all())


def test_bad_encoder_has_a_positive_amortization_gap_that_refinement_recovers(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=2)
    torch.manual_seed(2)
    gaps = inference_gaps(lg.as_vae(exact_posterior=False), x, steps=600, eval_K=2000, ll_K=2000)
    exact_total = lg.log_marginal(x) - gaps.elbo_amortized
    assert bool((gaps.amortization > 0.5).all())
    assert torch.allclose(gaps.approximation, torch.zeros_like(gaps.approximation), atol=0.01)
    assert torch.allclose(gaps.amortization, exact_total, atol=0.01)
    assert torch.allclose(gaps.log_px, lg.log_marginal(x), atol=1e-3)


def test_exact_encoder_has_no_gap_of_either_kind(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=3)
    torch.manual_seed(3)
    gaps = quiet(inference_gaps, lg.as_vae(exact_posterior=True), x, steps=50, eval_K=500, ll_K=500)
    for gap in (gaps.approximation, gaps.amortization, gaps.total):   # Adam may step off and back
        assert torch.allclose(gap, torch.zeros_like(gap), atol=5e-3)


def test_the_two_gaps_sum_to_the_total_gap(tol):
    torch.manual_seed(4)
    model = dgmlib.build_vae(10, 2, hidden=(16,))
    x = torch.bernoulli(torch.full((12, 10), 0.3))
    gaps = quiet(inference_gaps, model, x, steps=30, eval_K=50, ll_K=100)
    assert torch.allclose(gaps.approximation + gaps.amortization, gaps.total, rtol=tol, atol=tol)
    assert torch.equal(gaps.total, gaps.log_px - gaps.elbo_amortized)
    assert bool((gaps.amortization >= 0).all()), "refinement never lowers the bound"
    torch.manual_seed(5)
    refined = quiet(refine_posterior, model, x, steps=30, eval_K=50)
    again = inference_gaps(model, x, ll_K=100, refinement=refined)
    assert torch.equal(again.elbo_refined, refined.elbo) and torch.equal(again.elbo_amortized, refined.start_elbo)
    with pytest.raises(ValueError, match="refinement is for 12 points"):
        inference_gaps(model, x[:5], refinement=refined)


def test_refinement_never_returns_a_bound_below_the_start(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=5)
    vae = lg.as_vae(exact_posterior=True)             # the start is optimal: any move is worse
    torch.manual_seed(5)
    start = encoder_posterior(vae, x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = refine_posterior(vae, x, steps=3, lr=1.0, eval_K=200)
    assert any("below the encoder's" in str(w.message) for w in caught)
    assert not bool(r.improved.any())
    assert bool((r.elbo >= r.start_elbo).all())
    assert torch.equal(r.posterior.mu, start.mu) and torch.equal(r.posterior.logvar, start.logvar)


def test_too_few_steps_are_reported_as_not_converged(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=6)
    torch.manual_seed(6)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        r = refine_posterior(lg.as_vae(exact_posterior=False), x, steps=5, lr=0.05, eval_K=100)
    assert not bool(r.converged.any())
    assert bool(r.improved.all()) and bool((r.elbo > r.start_elbo).all())
    assert r.trace.shape == (2, len(x))               # checks at step 0 and at the end


def test_flow_models_refine_the_flow_context_and_leave_the_model_alone():
    torch.manual_seed(7)
    model = dgmlib.build_vae(8, 2, hidden=(16,), flow="planar", flow_length=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.bernoulli(torch.full((6, 8), 0.5))
    r = quiet(refine_posterior, model, x, steps=40, eval_K=50)
    start = encoder_posterior(model, x)
    assert r.posterior.context.shape == start.context.shape == (6, 16)
    assert not torch.equal(r.posterior.context, start.context)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert bool((r.elbo >= r.start_elbo).all())


def test_refinement_rejects_bad_inputs_with_clear_errors():
    model = dgmlib.build_vae(8, 2, hidden=(16,))
    x = torch.zeros(3, 8)
    with pytest.raises(ValueError, match=r"\[batch, D\]"):
        refine_posterior(model, torch.zeros(8))
    with pytest.raises(ValueError, match="steps"):
        refine_posterior(model, x, steps=0)
    other = torch.float64 if torch.get_default_dtype() == torch.float32 else torch.float32
    with pytest.raises(ValueError, match="model is"):
        refine_posterior(model, x.to(other))
    q = Posterior(torch.zeros(3, 2), torch.zeros(3, 2), None)
    with pytest.raises(ValueError, match="eps must be"):
        log_weights_given(model, x, q, torch.zeros(4, 3, 5))


# ------------------------------------------------------------------ the input check that fit runs

def _vae_and_data(n=6):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    return dgmlib.build_vae(64, 2, hidden=(8,)), torch.randint(0, 2, (n, 64), generator=g).to(torch.get_default_dtype())


def test_a_wrong_feature_count_gets_dgmlibs_message_naming_both_counts():
    model, x = _vae_and_data()
    for call in (lambda: refine_posterior(model, x[:, :63], steps=2), lambda: inference_gaps(model, x[:, :63], steps=2),
                 lambda: encoder_posterior(model, x[:, :63])):
        with pytest.raises(ValueError, match=r"x must be \[batch, 64\] .* got shape \(6, 63\)"):
            call()


def test_nan_rows_are_refused_by_row_before_any_optimization():
    model, x = _vae_and_data()
    x[3, 4] = math.nan
    x[5, 0] = math.nan
    r = quiet(refine_posterior, model, _vae_and_data()[1], steps=2)
    for call in (lambda: refine_posterior(model, x, steps=2), lambda: inference_gaps(model, x, steps=2, ll_K=5),
                 lambda: inference_gaps(model, x, refinement=r, ll_K=5),
                 lambda: log_marginal_given(model, x, r.posterior, K=5),
                 lambda: log_weights_given(model, x, r.posterior, torch.zeros(2, 6, 2))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")            # no "did not converge" warning before the error
            with pytest.raises(ValueError, match=r"x contains 2 NaN and 0 infinite values \(rows \[3, 5\]\)"):
                call()


def test_grey_levels_are_refused_by_a_bernoulli_model_as_fit_refuses_them(digits):
    model, _ = _vae_and_data()
    grey = dgmlib.load("digits", binarize=False).train[:5].to(torch.get_default_dtype())
    with pytest.raises(ValueError, match="binary") as fit_error:
        dgmlib.fit(model, grey, epochs=1, progress=False)
    r = quiet(refine_posterior, model, digits.train[:5], steps=2)
    for call in (lambda: inference_gaps(model, grey, steps=2, ll_K=5), lambda: refine_posterior(model, grey, steps=2),
                 lambda: inference_gaps(model, grey, refinement=r, ll_K=5),
                 lambda: log_marginal_given(model, grey, r.posterior, K=5)):
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == str(fit_error.value).replace("the training data", "x")

def test_path_gradient_vanishes_at_the_exact_posterior_and_the_full_gradient_does_not(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=8)
    vae = lg.as_vae(exact_posterior=True)             # the encoder returns p(z|x) exactly
    q = encoder_posterior(vae, x)
    leaves = [q.mu.clone().requires_grad_(True), q.logvar.clone().requires_grad_(True)]
    eps = torch.randn(16, *q.mu.shape, dtype=dtype, device=device)
    grads = {}
    for path in (True, False):
        loss = -log_weights_given(vae, x, Posterior(*leaves, None), eps, path_gradient=path).mean(0).sum()
        grads[path] = torch.cat([g.flatten() for g in torch.autograd.grad(loss, leaves)])
    # log w is constant in z at the exact posterior: only the score term of the full gradient remains
    assert grads[True].abs().max() < 1e-3
    assert grads[False].abs().max() > 0.1


def test_refinement_with_the_full_gradient_also_reaches_log_px(dtype, device):
    lg, x = linear_gaussian(dtype, device, seed=9)
    torch.manual_seed(9)
    r = refine_posterior(lg.as_vae(exact_posterior=False), x, steps=600, lr=0.05, K=8, eval_K=2000,
                         path_gradient=False)
    assert torch.allclose(r.elbo, lg.log_marginal(x), atol=0.02)
    assert bool(r.improved.all())
