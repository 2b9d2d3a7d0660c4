import math

import pytest
import torch

import dgmlib
from dgmlib.importance import importance_resample
from dgmlib.models import LinearGaussian


def one_dim_model(seed=0):
    lg = LinearGaussian.random(3, 1, logvar=math.log(0.2), generator=torch.Generator().manual_seed(seed))
    x = torch.randn(2, 3, generator=torch.Generator().manual_seed(seed + 1))
    mean, cov = lg.posterior(x)
    return lg, x, mean.squeeze(1), cov.squeeze()


def test_resampling_from_the_exact_posterior_keeps_the_posterior():
    lg, x, mean, var = one_dim_model()
    torch.manual_seed(0)
    z = importance_resample(lg.as_vae(exact_posterior=True), x, K=5, n=40_000).squeeze(-1)  # [n, 2]
    se = math.sqrt(var / 40_000)
    assert torch.allclose(z.mean(0), mean, atol=5 * se)
    assert torch.allclose(z.var(0), var.expand(2), rtol=0.05)


def test_with_one_proposal_resampling_returns_the_proposal():
    lg, x, _, _ = one_dim_model()
    torch.manual_seed(0)
    z = importance_resample(lg.as_vae(exact_posterior=False), x, K=1, n=40_000)
    # q = p(z) = N(0, 1)
    assert z.mean().abs() < 0.03 and (z.var() - 1).abs() < 0.05


def test_with_many_proposals_resampling_approaches_the_true_posterior():
    lg, x, mean, var = one_dim_model()
    torch.manual_seed(0)
    z = importance_resample(lg.as_vae(exact_posterior=False), x, K=1000, n=4000).squeeze(-1)
    # the prior is a poor proposal (posterior sd ~ 0.3), yet q_EW lands on the posterior
    assert torch.allclose(z.mean(0), mean, atol=0.03)
    assert torch.allclose(z.var(0), var.expand(2), rtol=0.1)
    assert bool((var < 0.5).all())  # the test is informative: posterior far from the prior
