"""Tests of dgmlib.gradients: both estimators are unbiased (checked against closed-form gradients
within Monte Carlo error), the pathwise one has the lower variance on a smooth f, and only the
score function sees the gradient of a step function.

Everything is built in torch's default dtype (a conftest ``--dtype`` option may set it), so the
tolerances come from the Monte Carlo standard error, never from float precision alone.
"""
import math

import pytest
import torch

from dgmlib.gradients import (GradientSamples, reparameterization_gradient,
                              score_function_gradient)

N = 20_000   # samples for the mean checks
Z = 5.0      # standard errors allowed (a 5-sigma miss has probability ~6e-7 per coordinate)

ESTIMATORS = {"reparameterization": reparameterization_gradient,
              "score_function": score_function_gradient}


def params(device, seed: int = 0, d: int = 3):
    """Random (mu, logvar) of size d in the default dtype on ``device``."""
    g = torch.Generator().manual_seed(seed)
    dtype = torch.get_default_dtype()
    mu = torch.randn(d, generator=g, dtype=dtype)
    logvar = 0.5 * torch.randn(d, generator=g, dtype=dtype) - 0.5
    return mu.to(device), logvar.to(device)


def gen(device, seed: int) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def square(z):
    return (z ** 2).sum(-1)


def assert_mean_close(samples: torch.Tensor, expected: torch.Tensor) -> None:
    """|mean - expected| <= Z standard errors (plus a float-precision floor for zero variance)."""
    mean = samples.mean(0)
    se = samples.std(0) / math.sqrt(samples.shape[0])
    floor = 100 * torch.finfo(samples.dtype).eps * (1 + expected.abs())
    assert torch.all((mean - expected).abs() <= Z * se + floor), (mean, expected, se)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_mean_matches_closed_form_gradient_of_expected_square(name, device):
    # E[sum z^2] = sum mu^2 + sigma^2  =>  d/dmu = 2 mu,  d/dlogvar = sigma^2
    mu, logvar = params(device)
    g = ESTIMATORS[name](square, mu, logvar, N, generator=gen(device, 1))
    assert_mean_close(g.mu, 2 * mu)
    assert_mean_close(g.logvar, logvar.exp())


@pytest.mark.parametrize("name", ESTIMATORS)
def test_mean_matches_closed_form_gradient_of_linear_function(name, device):
    # E[a.z + c] = a.mu + c  =>  d/dmu = a,  d/dlogvar = 0
    mu, logvar = params(device)
    a = torch.tensor([1.0, -2.0, 0.5], dtype=mu.dtype, device=device)
    g = ESTIMATORS[name](lambda z: z @ a + 3.0, mu, logvar, N,
                         generator=gen(device, 2))
    assert_mean_close(g.mu, a)
    assert_mean_close(g.logvar, torch.zeros_like(a))


def test_reparameterization_gradient_of_linear_function_is_exact_in_mu(device):
    mu, logvar = params(device)
    a = torch.tensor([1.0, -2.0, 0.5], dtype=mu.dtype, device=device)
    g = reparameterization_gradient(lambda z: z @ a, mu, logvar, 7)
    torch.testing.assert_close(g.mu, a.expand(7, 3))


@pytest.mark.parametrize("seed", range(5))
def test_reparameterization_has_lower_variance_than_score_function_for_square(seed, device):
    # Exact variances of d/dmu_i for f = sum z^2 (other coordinates only add to the score function):
    #   reparameterization 4 sigma^2;  score function >= 15 sigma^2 (mu^4/s^2 + 14 mu^2 + 15 s^2).
    # With 20 000 samples the sample variances are far inside this factor of 3.75 for any seed.
    mu, logvar = params(device, seed)
    g = gen(device, 100 + seed)
    rep = reparameterization_gradient(square, mu, logvar, N, generator=g)
    sf = score_function_gradient(square, mu, logvar, N, generator=g)
    torch.testing.assert_close(rep.mu.var(0), 4 * logvar.exp(), rtol=0.1, atol=0.0)
    assert torch.all(2 * rep.mu.var(0) < sf.mu.var(0))
    assert torch.all(rep.logvar.var(0) < sf.logvar.var(0))


def test_leave_one_out_baseline_keeps_the_mean_and_lowers_the_variance(device):
    # A large constant offset in f inflates the score-function variance; a baseline removes it.
    mu, logvar = params(device)
    f = lambda z: square(z) + 50.0  # noqa: E731
    plain = score_function_gradient(f, mu, logvar, N, generator=gen(device, 3))
    loo = score_function_gradient(f, mu, logvar, N, generator=gen(device, 3),
                                  baseline="leave_one_out")
    assert_mean_close(loo.mu, 2 * mu)
    assert_mean_close(loo.logvar, logvar.exp())
    assert torch.all(10 * loo.mu.var(0) < plain.mu.var(0))


def test_score_function_sees_the_gradient_of_a_step_function_and_reparameterization_does_not(device):
    # E[1{z > 0}] = Phi(m), m = mu / sigma:
    #   d/dmu = phi(m) / sigma,  d/dlogvar = -phi(m) * mu / (2 sigma)
    dtype = torch.get_default_dtype()
    mu = torch.tensor([0.0, 0.5, -0.3], dtype=dtype, device=device)
    logvar = torch.tensor([0.0, -0.5, 0.4], dtype=dtype, device=device)
    step = lambda z: (z > 0).to(z.dtype).sum(-1)  # noqa: E731
    sigma = (0.5 * logvar).exp()
    m = mu / sigma
    phi = torch.exp(-0.5 * m ** 2) / math.sqrt(2 * math.pi)
    sf = score_function_gradient(step, mu, logvar, N, generator=gen(device, 4),
                                 baseline="leave_one_out")
    assert_mean_close(sf.mu, phi / sigma)
    assert_mean_close(sf.logvar, -phi * mu / (2 * sigma))
    rep = reparameterization_gradient(step, mu, logvar, 100)
    assert torch.all(rep.mu == 0) and torch.all(rep.logvar == 0)
    assert torch.all((phi / sigma) > 0.3)  # the true gradient the pathwise estimator misses


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_dtype_and_device_follow_the_inputs(name, dtype, device):
    mu = torch.zeros(2, 3, dtype=dtype, device=device)
    logvar = torch.zeros_like(mu)
    g = ESTIMATORS[name](lambda z: (z ** 2).sum((-1, -2)), mu, logvar, 11)
    assert isinstance(g, GradientSamples)
    for t in g:
        assert t.shape == (11, 2, 3) and t.dtype == dtype and t.device == mu.device


@pytest.mark.parametrize("name", ESTIMATORS)
def test_the_same_generator_seed_gives_the_same_estimates(name, device):
    mu, logvar = params(device)
    a = ESTIMATORS[name](square, mu, logvar, 5, generator=gen(device, 7))
    b = ESTIMATORS[name](square, mu, logvar, 5, generator=gen(device, 7))
    torch.testing.assert_close(a.mu, b.mu, rtol=0, atol=0)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_inputs_that_require_grad_are_left_untouched(name, device):
    mu, logvar = params(device)
    mu.requires_grad_(True)
    with torch.no_grad():  # works inside no_grad too
        g = ESTIMATORS[name](square, mu, logvar, 4)
    assert mu.grad is None and not g.mu.requires_grad


def test_bad_arguments_raise(device):
    mu = torch.zeros(3, device=device)
    with pytest.raises(ValueError, match="same shape"):
        reparameterization_gradient(square, mu, torch.zeros(2, device=device), 4)
    with pytest.raises(ValueError, match="positive"):
        score_function_gradient(square, mu, mu, 0)
    with pytest.raises(ValueError, match="one value per sample"):
        score_function_gradient(lambda z: z, mu, mu, 4)
    with pytest.raises(ValueError, match="unknown baseline"):
        score_function_gradient(square, mu, mu, 4, baseline="mean")


# ---------------------------------------------------------------------------------------------
# gradient_snr: |E[g]| / std[g] of a model's stochastic gradient (Rainforth et al., 2018)

from functools import partial  # noqa: E402

import dgmlib  # noqa: E402
from dgmlib.gradients import GradientSNR, gradient_snr  # noqa: E402


class _Scale(torch.nn.Module):
    """objective(x) = a * sum(x) + b * noise: a has a deterministic gradient, b a pure-noise one."""

    def __init__(self):
        super().__init__()
        dtype = torch.get_default_dtype()
        self.a = torch.nn.Parameter(torch.tensor(1.5, dtype=dtype))
        self.b = torch.nn.Parameter(torch.tensor(0.3, dtype=dtype))
        self.unused = torch.nn.Parameter(torch.tensor(2.0, dtype=dtype))


def _scale_objective(model, x):
    noise = torch.randn(x.shape[0], dtype=x.dtype, device=x.device)
    return model.a * x.sum(-1) + model.b * noise


def test_gradient_snr_of_a_deterministic_gradient_is_infinite(device):
    model = _Scale().to(device)
    x = torch.rand(5, 3, device=device)
    snr = gradient_snr(model, x, _scale_objective, params={"a": [model.a]}, repeats=10)
    assert torch.isinf(snr["a"].snr).all()
    assert snr["a"].std.item() == 0.0
    torch.testing.assert_close(snr["a"].mean, x.sum(-1).mean().reshape(1))


def test_gradient_snr_of_a_pure_noise_gradient_is_near_zero(device):
    # d/db = mean of B standard normals: mean 0, so |mean over R repeats| / std ~ |N(0, 1/R)|
    dgmlib.seed_everything(0)
    model = _Scale().to(device)
    x = torch.rand(4, 3, device=device)
    repeats = 2000
    snr = gradient_snr(model, x, _scale_objective, params={"b": [model.b]}, repeats=repeats)
    assert snr["b"].snr.item() < Z / math.sqrt(repeats)
    torch.testing.assert_close(snr["b"].std.item(), 1 / math.sqrt(4), rtol=0.1, atol=0.0)


def test_gradient_snr_gives_zero_for_an_unused_parameter_and_groups_in_order(device):
    model = _Scale().to(device)
    x = torch.rand(4, 3, device=device)
    snr = gradient_snr(model, x, _scale_objective, repeats=5)
    assert list(snr) == ["all"] and isinstance(snr["all"], GradientSNR)
    assert snr["all"].snr.shape == (3,)                       # a, b, unused
    assert snr["all"].snr[2].item() == 0.0 and snr["all"].mean[2].item() == 0.0


def test_gradient_snr_defaults_to_encoder_and_decoder_groups_of_a_vae(device):
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(16, 2, hidden=(8,)).to(device)
    x = torch.rand(6, 16, device=device).bernoulli()
    snr = gradient_snr(model, x, partial(dgmlib.iwae_bound, K=3), repeats=4)
    assert list(snr) == ["encoder", "decoder"]
    for name in snr:
        n_params = sum(p.numel() for p in getattr(model, name).parameters())
        assert snr[name].snr.shape == (n_params,) and snr[name].mean.dtype == torch.get_default_dtype()
        assert math.isfinite(snr[name].average) and snr[name].average >= 0


def test_gradient_snr_needs_two_repeats(device):
    model = _Scale().to(device)
    with pytest.raises(ValueError, match="repeats"):
        gradient_snr(model, torch.rand(2, 3, device=device), _scale_objective, repeats=1)


def test_gradient_snr_of_elbo_grows_like_sqrt_of_samples_averaged_on_linear_gaussian(device):
    # The K-sample ELBO averages K i.i.d. single-sample gradients: same mean, std / sqrt(K), so
    # every parameter's SNR is sqrt(K) times its K = 1 value. Here q(z|x) = p(z) and the
    # decoder's loadings W are the parameters.
    gen = torch.Generator().manual_seed(0)
    lg = dgmlib.LinearGaussian.random(x_dim=4, z_dim=2, logvar=-0.5, generator=gen)
    lg.W = torch.nn.Parameter(lg.W)                          # a buffer becomes a parameter
    lg = lg.to(device)
    vae = lg.as_vae(exact_posterior=False)
    x = (torch.randn(8, 4, generator=gen) + lg.b.cpu()).to(device)
    ratios = []
    for seed, K in ((1, 1), (2, 16)):
        dgmlib.seed_everything(seed)
        ratios.append(gradient_snr(vae, x, partial(dgmlib.elbo, K=K), params={"W": [lg.W]},
                                   repeats=1500)["W"])
    per_param = ratios[1].snr / ratios[0].snr                 # [8], each close to sqrt(16) = 4
    assert torch.all(ratios[0].snr > 0.2), "every W entry needs a clear signal for this check"
    torch.testing.assert_close(per_param.median().item(), 4.0, rtol=0.12, atol=0.0)
    torch.testing.assert_close(ratios[1].average / ratios[0].average, 4.0, rtol=0.12, atol=0.0)
