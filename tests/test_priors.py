import math

import pytest
import torch

import dgmlib


def test_standard_normal_log_prob_golden_value():
    prior = dgmlib.StandardNormal(2)
    assert prior.log_prob(torch.zeros(2)).item() == pytest.approx(-math.log(2 * math.pi), rel=1e-6)
    # log N(1;0,1) per dimension
    assert dgmlib.StandardNormal(1).log_prob(torch.ones(1)).item() == pytest.approx(-1.4189385, abs=1e-6)


def test_standard_normal_kl_is_kl_normal_to_zero_one(tol):
    prior = dgmlib.StandardNormal(3)
    mu, lv = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(prior.kl(mu, lv), dgmlib.kl_normal(mu, lv, 0.0, 0.0), rtol=tol, atol=tol)


def test_standard_normal_samples_follow_the_moments(device, dtype):
    torch.manual_seed(0)
    prior = dgmlib.StandardNormal(3).to(device)
    z = prior.sample(100_000)
    assert z.shape == (100_000, 3) and z.dtype == dtype and z.device.type == device.type
    assert z.mean(0).abs().max() < 0.02          # SE = 1/sqrt(1e5) ~ 0.003
    assert (z.var(0) - 1).abs().max() < 0.03


def test_standard_normal_rejects_wrong_dimension():
    with pytest.raises(ValueError, match="dimensions"):
        dgmlib.StandardNormal(2).log_prob(torch.zeros(5, 3))


def _mixture_peer(mu, logvar):
    from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal
    return MixtureSameFamily(Categorical(logits=torch.zeros(len(mu), dtype=mu.dtype)),
                             Independent(Normal(mu, torch.exp(0.5 * logvar)), 1))


def test_log_mean_normal_equals_mixture_same_family_in_any_chunking(tol):
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(11, 3, generator=g), torch.randn(11, 3, generator=g)
    z = 2 * torch.randn(9, 3, generator=g)
    expected = _mixture_peer(mu, logvar).log_prob(z)
    for chunk in (1, 4, 512):
        assert torch.allclose(dgmlib.log_mean_normal(z, mu, logvar, chunk), expected, rtol=tol, atol=10 * tol)


def test_aggregate_posterior_prior_is_the_mixture_of_encoder_posteriors_and_trains_the_encoder(tol):
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(6, 2, hidden=(8,))
    x = (torch.rand(13, 6) > 0.5).to(torch.get_default_dtype())
    prior = dgmlib.AggregatePosterior(model.encoder, x, chunk=5)
    z = torch.randn(4, 7, 2)
    with torch.no_grad():
        expected = _mixture_peer(*model.encoder(x)).log_prob(z)
    assert torch.allclose(prior.log_prob(z), expected, rtol=tol, atol=10 * tol)
    prior.log_prob(z).sum().backward()
    assert model.encoder.net[0].weight.grad.abs().sum() > 0


def test_aggregate_posterior_samples_follow_the_mixture_moments():
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(6, 2, hidden=(8,))
    x = (torch.rand(5, 6) > 0.5).to(torch.get_default_dtype())
    with torch.no_grad():
        z = dgmlib.AggregatePosterior(model.encoder, x).sample(200_000)
        peer = _mixture_peer(*model.encoder(x))
    assert torch.allclose(z.mean(0), peer.mean, atol=0.01)
    assert torch.allclose(z.var(0), peer.variance, rtol=0.03)
