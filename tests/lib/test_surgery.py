"""ELBO surgery: avg KL = index-code MI + marginal KL (Hoffman & Johnson, 2016)."""
import math

import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

import dgmlib
from dgmlib.metrics import elbo_surgery


@pytest.fixture
def model_and_x():
    dgmlib.seed_everything(0)
    model = dgmlib.build_vae(x_dim=10, z_dim=2, hidden=(16,))
    with torch.no_grad():  # spread the posterior means apart, as training does
        model.encoder.net[-1].weight.mul_(10)
    x = (torch.rand(40, 10) > 0.5).to(torch.get_default_dtype())
    return model, x


def test_average_kl_is_mutual_information_plus_marginal_kl(model_and_x, tol):
    model, x = model_and_x
    s = elbo_surgery(model, x, samples=3, chunk=7)
    assert s.avg_kl == pytest.approx(s.mutual_info + s.marginal_kl, rel=tol, abs=tol)
    assert s.elbo == pytest.approx(s.reconstruction - s.avg_kl, rel=tol, abs=tol)
    assert 0 <= s.mutual_info <= s.log_n == pytest.approx(math.log(40))


def test_surgery_terms_match_a_mixture_distribution_peer_on_the_same_samples(model_and_x, tol):
    model, x = model_and_x
    torch.manual_seed(5)
    s = elbo_surgery(model, x, samples=2, chunk=64)  # one chunk: the samples are one randn call
    torch.manual_seed(5)
    mu, logvar = model.encoder(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(2, *mu.shape)
    q_each = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    q_agg = MixtureSameFamily(Categorical(logits=torch.zeros(len(x))), q_each)
    own, agg = q_each.log_prob(z), q_agg.log_prob(z)
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1).log_prob(z)
    rec = dgmlib.bernoulli_log_prob(x, model.decoder(z))
    with torch.no_grad():
        expected = [rec.mean(), (own - agg).mean(), (agg - prior).mean()]
    got = [s.reconstruction, s.mutual_info, s.marginal_kl]
    assert got == pytest.approx([float(e) for e in expected], rel=10 * tol, abs=10 * tol)


class IgnoresX(nn.Module):
    z_dim = 2

    def forward(self, x):
        mu = torch.full((x.shape[0], 2), 0.3, dtype=x.dtype)
        return mu, torch.full_like(mu, -1.0)


def test_mutual_information_is_zero_when_the_encoder_ignores_x(model_and_x, tol):
    model, x = model_and_x
    model.encoder = IgnoresX()
    s = elbo_surgery(model, x, samples=500)
    assert s.mutual_info == pytest.approx(0.0, abs=tol)
    assert s.marginal_kl == pytest.approx(s.avg_kl, rel=tol, abs=tol)
    # avg KL is the closed form of one Gaussian against N(0, I)
    closed = dgmlib.kl_normal(torch.full((2,), 0.3), torch.full((2,), -1.0)).item()
    assert s.avg_kl == pytest.approx(closed, rel=0.03)  # 20000 samples


def test_marginal_kl_vanishes_when_the_prior_is_the_aggregated_posterior(model_and_x):
    model, x = model_and_x
    model.prior = dgmlib.AggregatePosterior(model.encoder, x)
    s = elbo_surgery(model, x, samples=2, chunk=16)
    assert s.marginal_kl == pytest.approx(0.0, abs=1e-4)
    assert s.avg_kl == pytest.approx(s.mutual_info, abs=1e-4)


def test_aggregate_posterior_log_prob_equals_the_mixture_density(model_and_x, tol):
    model, x = model_and_x
    z = torch.randn(30, 2)
    with torch.no_grad():
        mu, logvar = model.encoder(x)
        mix = MixtureSameFamily(Categorical(logits=torch.zeros(len(x))),
                                Independent(Normal(mu, torch.exp(0.5 * logvar)), 1))
        expected = mix.log_prob(z)
    got = dgmlib.aggregate_posterior_log_prob(model, x, z, chunk=7)
    assert torch.allclose(got, expected, rtol=10 * tol, atol=10 * tol)
