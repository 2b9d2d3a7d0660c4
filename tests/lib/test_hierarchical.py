import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal

import dgmlib
from dgmlib.metrics import active_units_per_level
from dgmlib.models import HierarchicalVAE
from dgmlib.priors import VampPrior


def _binary(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) > 0.5).to(torch.get_default_dtype())


def _normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


@pytest.mark.parametrize("prior", ["standard", "vampprior"])
def test_log_weights_are_the_two_level_joint_minus_the_two_level_posterior(prior, tol):
    dgmlib.seed_everything(0)
    model = HierarchicalVAE(6, 3, 2, hidden=(8,), prior=prior, prior_components=4)
    x = _binary(5, 6)
    t = model.terms(x, K=4)
    z1, z2 = t.z[..., :3], t.z[..., 3:]
    with torch.no_grad():
        log_q = _normal(*model.encoder(x)).log_prob(z2) + _normal(
            *model.encoder_z1(torch.cat([x.expand(4, 5, 6), z2], -1))).log_prob(z1)
        if prior == "standard":
            log_p2 = _normal(torch.zeros_like(z2), torch.zeros_like(z2)).log_prob(z2)
        else:
            mu, lv = model.encoder(model.prior.pseudo_inputs)                 # (1/K) sum_k q(z2 | u_k)
            log_p2 = _normal(mu, lv).log_prob(z2.unsqueeze(-2)).logsumexp(-1) - math.log(4)
        log_p = log_p2 + _normal(*model.prior_z1(z2)).log_prob(z1)
        log_px = Independent(Bernoulli(logits=model.decoder(torch.cat([z1, z2], -1))), 1).log_prob(x)
    assert t.log_w.shape == (4, 5) and t.mu.shape == (5, 2)
    assert torch.allclose(t.log_qz, log_q, rtol=tol, atol=10 * tol)
    assert torch.allclose(t.log_pz, log_p, rtol=tol, atol=10 * tol)
    assert torch.allclose(t.log_px_z, log_px, rtol=tol, atol=10 * tol)


def test_vampprior_on_top_uses_the_top_level_encoder():
    model = HierarchicalVAE(6, 3, 2, hidden=(8,), prior="vampprior", prior_components=4)
    assert isinstance(model.prior, VampPrior) and model.prior.encoder is model.encoder and model.prior.dim == 2


def test_the_iwae_bound_grows_with_k_and_log_marginal_likelihood_runs_in_chunks():
    dgmlib.seed_everything(0)
    model = HierarchicalVAE(6, 3, 2, hidden=(8,), prior="vampprior", prior_components=4)
    x = _binary(20, 6)
    torch.manual_seed(1)
    ll = dgmlib.log_marginal_likelihood(model, x, K=2000, chunk=300)
    with torch.no_grad():
        elbo = dgmlib.elbo(model, x, K=500).mean().item()
    assert ll.shape == (20,) and torch.isfinite(ll).all() and ll.mean().item() > elbo
    torch.manual_seed(2)
    again = dgmlib.log_marginal_likelihood(model, x, K=2000, chunk=2000)
    assert abs(ll.mean() - again.mean()) < 0.1                          # the estimate, not the chunking


def test_fit_trains_a_hierarchical_vampprior_model_and_moves_the_pseudo_inputs(digits):
    dgmlib.seed_everything(0)
    model = HierarchicalVAE(64, 4, 2, hidden=(32,), prior="vampprior", prior_components=5)
    before = model.prior.pseudo_inputs.clone()
    history = dgmlib.fit(model, digits, epochs=6, batch_size=100, progress=False)
    assert history.val[-1] > history.val[0]
    assert not torch.equal(model.prior.pseudo_inputs, before)
    samples = model.sample(7)
    assert samples.shape == (7, 64) and samples.min() >= 0 and samples.max() <= 1
    assert model.reconstruct(digits.test[:3]).shape == (3, 64)


def test_active_units_per_level_counts_units_whose_posterior_mean_varies():
    dgmlib.seed_everything(0)
    model = HierarchicalVAE(6, 3, 2, hidden=(8,))
    x = _binary(50, 6)
    model.encoder.net = torch.nn.Linear(6, 4)       # z2: unit 0 copies pixel 0, unit 1 is constant
    model.encoder_z1.net = torch.nn.Linear(8, 6)    # z1: unit 0 reads z2's unit 0, the others constant
    with torch.no_grad():
        for layer, source in ((model.encoder.net, 0), (model.encoder_z1.net, 6)):
            layer.weight.zero_(); layer.bias.zero_()
            layer.weight[0, source] = 2.0
            layer.bias[layer.out_features // 2:] = -30.0           # tiny posterior variances
    assert active_units_per_level(model, x) == (1, 1)


def test_active_units_per_level_do_not_count_a_constant_posterior_mean_with_a_noisy_conditional_mean():
    """z2: unit 0 copies pixel 0, unit 1 is N(0, 1) for every x; z1: unit 0 copies pixel 1, unit 1 has
    the conditional mean 3 * z2_1 (variance 9 over the draws of z2, posterior mean 0 for every x),
    unit 2 is constant. Exactly one unit per level is active."""
    model = HierarchicalVAE(6, 3, 2, hidden=(8,))
    model.encoder.net, model.encoder_z1.net = torch.nn.Linear(6, 4), torch.nn.Linear(8, 6)
    with torch.no_grad():
        for layer in (model.encoder.net, model.encoder_z1.net):
            layer.weight.zero_(), layer.bias.zero_()
        model.encoder.net.weight[0, 0] = 2.0
        model.encoder.net.bias[2] = -17.0                                    # z2_1: logvar 0
        model.encoder_z1.net.weight[0, 1] = 2.0
        model.encoder_z1.net.weight[1, 7] = 3.0                              # reads z2_1
        model.encoder_z1.net.bias[3:] = -17.0
    x = _binary(100, 6)
    for seed in range(2):
        torch.manual_seed(seed)
        assert active_units_per_level(model, x) == (1, 1)
    torch.manual_seed(0)
    mu1, mu2 = model.posterior_means(x)
    assert torch.equal(mu2[:, 1], torch.zeros(100)) and (mu1[:, 1] ** 2).mean() < 2e-3


def test_hierarchical_vae_rejects_wrong_shapes_and_unknown_priors():
    model = HierarchicalVAE(6, 3, 2, hidden=(8,))
    with pytest.raises(ValueError, match="flattened"):
        model.log_weights(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="positive"):
        model.log_weights(torch.zeros(4, 6), K=0)
    with pytest.raises(ValueError, match="unknown prior"):
        HierarchicalVAE(6, 3, 2, prior="laplace")
