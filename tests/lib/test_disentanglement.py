"""DIP-VAE regularizers and objective; the mutual information gap on golden cases."""
import functools
import math

import pytest
import torch

import dgmlib
from dgmlib import disentanglement as dis
from dgmlib import shapes


def test_dip_off_diagonal_term_of_a_10x10_matrix_of_ones_is_90(dtype):
    t = dis.dip_terms(torch.ones(10, 10, dtype=dtype))
    assert t.off_diagonal.item() == pytest.approx(90.0) and t.diagonal.item() == pytest.approx(0.0)


def test_dip_diagonal_term_of_twice_the_identity_is_10(dtype):
    t = dis.dip_terms(2 * torch.eye(10, dtype=dtype))
    assert t.diagonal.item() == pytest.approx(10.0) and t.off_diagonal.item() == pytest.approx(0.0)


def test_dip_regularizer_weights_the_two_terms_separately(dtype):
    cov = torch.ones(10, 10, dtype=dtype) + torch.eye(10, dtype=dtype)  # off-diagonal 1, diagonal 2
    assert dis.dip_regularizer(cov, lambda_od=2.0, lambda_d=3.0).item() == pytest.approx(2 * 90 + 3 * 10)
    assert dis.default_lambda_d(5.0, "i") == 50.0 and dis.default_lambda_d(5.0, "ii") == 5.0


def test_covariance_is_over_the_batch_axis_with_1_over_n(dtype):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(50, 3, generator=g, dtype=dtype)
    expected = torch.cov(mu.T, correction=0)
    assert torch.allclose(dis.covariance(mu), expected, atol=1e-6)
    assert dis.covariance(mu).shape == (3, 3)


def test_dip_ii_covariance_is_the_aggregate_posterior_covariance_by_total_covariance(dtype):
    # q(z) = mixture of N(mu_b, diag sigma_b^2): compare with the covariance of many samples from it
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(4, 2, generator=g, dtype=dtype)
    logvar = torch.randn(4, 2, generator=g, dtype=dtype) * 0.3
    cov = dis.dip_covariance(mu, logvar, "ii")
    z = mu + (0.5 * logvar).exp() * torch.randn(200_000, 4, 2, generator=g, dtype=dtype)
    assert torch.allclose(cov, torch.cov(z.reshape(-1, 2).T, correction=0), atol=0.02)
    assert torch.allclose(dis.dip_covariance(mu, logvar, "i"), dis.covariance(mu))


def test_dip_vae_objective_is_per_example_elbo_minus_the_whole_batch_regularizer(dtype):
    torch.manual_seed(0)
    model = dgmlib.build_vae(16, 3, hidden=(8,))
    x = (torch.rand(6, 16) > 0.5).to(dtype)
    torch.manual_seed(2)
    value = dis.dip_vae(model, x, lambda_od=2.0, lambda_d=5.0, kind="ii")
    torch.manual_seed(2)
    t = model.terms(x, 1)
    elbo = t.log_px_z.mean(0) - dgmlib.kl_normal(t.mu, t.logvar)
    reg = dis.dip_regularizer(dis.dip_covariance(t.mu, t.logvar, "ii"), 2.0, 5.0)
    assert value.shape == (6,)
    assert torch.allclose(value, elbo - reg, atol=1e-5)
    assert torch.allclose(value.mean(), elbo.mean() - reg, atol=1e-5)


def test_dip_vae_with_zero_lambdas_is_the_analytic_kl_elbo(dtype):
    torch.manual_seed(0)
    model = dgmlib.build_vae(16, 3, hidden=(8,))
    x = (torch.rand(5, 16) > 0.5).to(dtype)
    torch.manual_seed(4)
    a = dis.dip_vae(model, x, lambda_od=0.0, lambda_d=0.0)
    torch.manual_seed(4)
    b = dgmlib.elbo(model, x, analytic_kl=True)
    assert torch.allclose(a, b, atol=1e-5)


def test_dip_vae_trains_with_fit_and_lowers_the_covariance_penalty(dtype):
    s = shapes.load_shapes(300, 50, 50, seed=0)
    penalties = {}
    for lam in (0.0, 20.0):
        torch.manual_seed(0)
        model = dgmlib.build_vae(256, 4, hidden=(32,))
        dgmlib.fit(model, s.data, epochs=8, objective=functools.partial(dis.dip_vae, lambda_od=lam),
                   batch_size=50, progress=False)
        cov = dis.covariance(dis.encode_means(model, s.data.train))
        penalties[lam] = dis.dip_regularizer(cov, 1.0, 10.0).item()
    assert penalties[20.0] < penalties[0.0]


def test_dip_bad_input_raises(dtype):
    with pytest.raises(ValueError, match="kind"):
        dis.dip_covariance(torch.zeros(3, 2), kind="iii")
    with pytest.raises(ValueError, match="logvar"):
        dis.dip_covariance(torch.zeros(3, 2), None, "ii")
    with pytest.raises(ValueError, match="square"):
        dis.dip_terms(torch.zeros(2, 3))


@pytest.fixture
def factors():
    return shapes.all_factors()  # the full product: the four factors are exactly independent


def test_mig_is_one_when_each_latent_copies_one_factor(factors, dtype):
    result = dis.mutual_info_gap(factors.to(dtype), factors)
    assert result.mig == pytest.approx(1.0, abs=1e-9)
    assert torch.allclose(result.gaps, torch.ones(4, dtype=torch.float64))
    # the entropies are those of uniform factors: log 3, log 3, log 8, log 8 nats
    expected = torch.tensor([math.log(3), math.log(3), math.log(8), math.log(8)], dtype=torch.float64)
    assert torch.allclose(result.entropy, expected)


def test_mig_is_one_under_any_monotone_rescaling_and_permutation_of_the_copies(factors, dtype):
    z = factors.to(dtype)[:, [2, 0, 3, 1]] * torch.tensor([3.0, -1.0, 0.5, 7.0], dtype=dtype) + 4
    z = torch.cat([z, torch.zeros(len(z), 2, dtype=dtype)], 1)        # two dead latents
    assert dis.mutual_info_gap(z, factors).mig == pytest.approx(1.0, abs=1e-9)


def test_mig_is_zero_when_two_latents_copy_the_same_factors(factors, dtype):
    z = factors.to(dtype)
    assert dis.mutual_info_gap(torch.cat([z, z], 1), factors).mig == pytest.approx(0.0, abs=1e-9)


def test_mig_is_near_zero_for_latents_independent_of_the_factors(dtype):
    g = torch.Generator().manual_seed(0)
    f = shapes.sample_factors(20_000, g)
    z = torch.randn(20_000, 5, generator=g, dtype=dtype)
    assert dis.mutual_info_gap(z, f).mig < 0.01


def test_mig_is_zero_when_one_latent_holds_all_factors_and_others_copy_them(factors, dtype):
    # one latent holds all four factors (a scrambled combination code), and four others
    # copy one factor each: every factor has two fully informative latents, so every gap is 0
    g = torch.Generator().manual_seed(0)
    f = factors.repeat(20, 1)
    combo = ((f[:, 0] * 3 + f[:, 1]) * 8 + f[:, 2]) * 8 + f[:, 3]
    scrambled = torch.randperm(576, generator=g)[combo].to(dtype)     # all factors, no order
    z = torch.cat([scrambled[:, None], f.to(dtype)], 1)
    result = dis.mutual_info_gap(z, f, bins=576)
    assert result.mig == pytest.approx(0.0, abs=1e-9)


def test_mig_does_not_penalize_one_latent_that_carries_two_factors(factors, dtype):
    # a known blind spot of MIG (Chen et al., 2018): z_0 = (x, y) jointly, z_1 = shape, z_2 = scale
    code = (factors[:, 2] * 8 + factors[:, 3]).to(dtype)
    z = torch.stack([code, factors[:, 0].to(dtype), factors[:, 1].to(dtype)], 1)
    assert dis.mutual_info_gap(z, factors, bins=64).mig == pytest.approx(1.0, abs=1e-9)


def test_mig_normalizes_by_the_factor_entropy_not_by_the_latent_entropy(factors, dtype):
    # z_0 = (shape, scale) jointly: I(z_0; shape) = H(shape) = log 3 while H(z_0) = log 9
    z = torch.stack([(factors[:, 0] * 3 + factors[:, 1]).to(dtype), torch.zeros(576, dtype=dtype)], 1)
    result = dis.mutual_info_gap(z, factors, bins=9)
    assert result.gaps[0].item() == pytest.approx(1.0) and result.gaps[2].item() == pytest.approx(0.0)
    assert result.mutual_info[0, 0].item() == pytest.approx(math.log(3))


def test_discrete_mutual_info_matches_a_hand_computed_table(dtype):
    # a = b on half of the points, independent otherwise: p(a, b) = [[3/8, 1/8], [1/8, 3/8]]
    a = torch.tensor([0, 0, 0, 1, 0, 1, 1, 1])[:, None]
    b = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])[:, None]
    expected = 2 * (3 / 8) * math.log((3 / 8) / (1 / 4)) + 2 * (1 / 8) * math.log((1 / 8) / (1 / 4))
    assert dis.discrete_mutual_info(a, b).item() == pytest.approx(expected)
    assert dis.discrete_entropy(b).item() == pytest.approx(math.log(2))


def test_mig_bad_input_raises(factors, dtype):
    with pytest.raises(ValueError, match="d >= 2"):
        dis.mutual_info_gap(torch.zeros(576, 1), factors)
    with pytest.raises(ValueError, match="NaN"):
        dis.mutual_info_gap(torch.full((576, 2), float("nan")), factors)
    with pytest.raises(ValueError, match="zero entropy"):
        dis.mutual_info_gap(torch.randn(576, 2), torch.zeros(576, 1, dtype=torch.int64))
