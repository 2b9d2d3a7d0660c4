import math

import pytest
import torch
from torch import nn

import dgmlib
from dgmlib.models import LinearGaussian


class RecordedWeights(dgmlib.Model):
    """A stand-in model (on the Model contract) whose log weights are a known table, handed out in call order."""

    def __init__(self, table: torch.Tensor):  # [K, N]
        super().__init__()
        self.table, self.calls = table, []
        self.k_used = 0
        self.row_start = 0

    def log_weights(self, x, K):
        rows = x[:, 0].long()
        out = self.table[self.k_used:self.k_used + K][:, rows]
        self.calls.append((K, len(rows)))
        self.k_used += K
        if self.k_used == self.table.shape[0]:
            self.k_used = 0
        return out


def test_log_marginal_likelihood_combines_chunks_exactly(tol):
    table = 30 * torch.randn(10, 7, generator=torch.Generator().manual_seed(0)) - 200
    model = RecordedWeights(table)
    x = torch.arange(7.0).unsqueeze(1)
    ll = dgmlib.log_marginal_likelihood(model, x, K=10, chunk=3, batch_size=4)
    assert torch.allclose(ll, dgmlib.log_mean_exp(table, 0), rtol=tol, atol=tol)
    # two batches of points (4 + 3), four chunks of samples (3 + 3 + 3 + 1) each
    assert model.calls == [(3, 4), (3, 4), (3, 4), (1, 4), (3, 3), (3, 3), (3, 3), (1, 3)]


def test_log_marginal_likelihood_default_passes_hold_whole_sets_of_k_samples(tol):
    table = 30 * torch.randn(10, 7, generator=torch.Generator().manual_seed(1)) - 200
    model = RecordedWeights(table)
    ll = dgmlib.log_marginal_likelihood(model, torch.arange(7.0).unsqueeze(1), K=10)
    assert torch.allclose(ll, dgmlib.log_mean_exp(table, 0), rtol=tol, atol=tol)
    assert model.calls == [(10, 7)], "K = 10 samples of all 7 points fit in one pass of 2**13 rows"


def test_log_marginal_likelihood_is_exact_with_the_true_posterior(tol):
    lg = LinearGaussian.random(5, 2, logvar=math.log(0.3), generator=torch.Generator().manual_seed(1))
    x = torch.randn(9, 5)
    ll = dgmlib.log_marginal_likelihood(lg.as_vae(), x, K=50, chunk=16)
    assert torch.allclose(ll, lg.log_marginal(x), rtol=tol, atol=10 * tol)


def test_log_marginal_likelihood_converges_with_the_prior_as_proposal():
    lg = LinearGaussian.random(3, 1, logvar=0.0, generator=torch.Generator().manual_seed(1))
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    ll = dgmlib.log_marginal_likelihood(lg.as_vae(exact_posterior=False), x, K=20_000, chunk=5000)
    assert torch.allclose(ll, lg.log_marginal(x), atol=0.01)


def test_log_marginal_likelihood_restores_training_mode_and_checks_arguments():
    model = dgmlib.build_vae(4, 2, hidden=(8,)).train()
    dgmlib.log_marginal_likelihood(model, torch.ones(2, 4), K=3)
    assert model.training
    with pytest.raises(ValueError, match="positive"):
        dgmlib.log_marginal_likelihood(model, torch.ones(2, 4), K=0)


class ScaledEncoder(nn.Module):
    def __init__(self, scales):
        super().__init__()
        self.scales = torch.as_tensor(scales)

    def forward(self, x):
        mu = x[:, :len(self.scales)] * self.scales
        return mu, torch.zeros_like(mu)


def test_active_units_counts_posterior_means_that_vary_with_x():
    x = torch.randn(20_000, 3, generator=torch.Generator().manual_seed(0))
    model = dgmlib.LatentVariableModel()
    model.encoder = ScaledEncoder([1.0, 0.05, 0.2])  # variances 1, 0.0025, 0.04
    model.likelihood = dgmlib.GaussianLikelihood()
    au = dgmlib.active_units(model, x, threshold=0.01)
    assert au.count == 2
    assert torch.allclose(au.variance, torch.tensor([1.0, 0.0025, 0.04]), rtol=0.05)


def test_an_encoder_that_ignores_x_has_no_active_units():
    lg = LinearGaussian.random(5, 2, generator=torch.Generator().manual_seed(1))
    au = dgmlib.active_units(lg.as_vae(exact_posterior=False), torch.randn(100, 5))
    assert au.count == 0 and float(au.variance.max()) == 0.0


# ---------------------------------------------------------------- bits per dimension

def test_bits_per_dim_of_a_uniform_model_over_levels_is_log2_of_levels():
    for levels in (2, 17, 256):
        nll = 64 * math.log(levels)                     # -log P of a uniform model over L levels, D = 64
        assert dgmlib.metrics.bits_per_dim(nll, 64) == pytest.approx(math.log2(levels), rel=1e-12)
    # log p = 0 (uniform on the unit cube) -> the discrete log-likelihood -D log L -> log2 L bits/dim
    log_P = dgmlib.metrics.discrete_log_likelihood(0.0, 64, 256)
    assert dgmlib.metrics.bits_per_dim(-log_P, 64) == pytest.approx(8.0, rel=1e-12)


def test_bits_per_dim_conversions_round_trip(tol):
    from dgmlib.metrics import (bits_per_dim, discrete_log_likelihood, nats_from_bits_per_dim,
                                unit_cube_log_density)
    nll = 100 * torch.rand(5) + 1
    assert torch.allclose(nats_from_bits_per_dim(bits_per_dim(nll, 64), 64), nll, rtol=tol)
    log_p = torch.randn(5) * 50
    assert torch.allclose(unit_cube_log_density(discrete_log_likelihood(log_p, 64, 17), 64, 17), log_p, rtol=tol, atol=tol)
    # natural log, not log2: 1 nat per dimension is 1 / ln 2 = 1.4427 bits per dimension
    assert bits_per_dim(64.0, 64) == pytest.approx(1.4426950408889634)
    with pytest.raises(ValueError, match="dim"):
        bits_per_dim(1.0, 0)
    with pytest.raises(ValueError, match="levels"):
        discrete_log_likelihood(1.0, 64, 1)
