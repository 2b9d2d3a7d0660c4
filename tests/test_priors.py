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
