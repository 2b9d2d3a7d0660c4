import math

import pytest
import torch

import dgmlib
from dgmlib.models import LinearGaussian


def test_log_weights_equal_the_sum_of_their_terms_recomputed_by_hand(tol):
    torch.manual_seed(0)
    model = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,))
    x = (torch.rand(4, 6) > 0.5).to(torch.get_default_dtype())
    t = model.terms(x, K=5)
    assert t.z.shape == (5, 4, 3)
    mu, logvar = model.encoder(x)
    by_hand = (dgmlib.bernoulli_log_prob(x, model.decoder(t.z))
               + dgmlib.gaussian_log_prob(t.z, torch.zeros(()), torch.zeros(()))
               - dgmlib.gaussian_log_prob(t.z, mu, logvar))
    assert torch.allclose(t.log_w, by_hand, rtol=tol, atol=tol)


def test_reparameterized_samples_carry_gradients_to_the_encoder():
    model = dgmlib.build_vae(x_dim=6, z_dim=2, hidden=(8,))
    model.log_weights(torch.ones(3, 6), K=2).sum().backward()
    first_layer = model.encoder.net[0].weight
    assert first_layer.grad is not None and first_layer.grad.abs().sum() > 0


def _orthogonal_lg(seed=0, x_dim=5, z_dim=2, logvar=math.log(0.3)):
    return LinearGaussian.random(x_dim, z_dim, logvar=logvar, generator=torch.Generator().manual_seed(seed))


def test_linear_gaussian_with_exact_posterior_has_constant_log_weights_equal_to_log_px(tol):
    lg = _orthogonal_lg()
    vae = lg.as_vae(exact_posterior=True)
    x = torch.randn(7, 5)
    log_w = vae.log_weights(x, K=11)
    exact = lg.log_marginal(x)
    assert torch.allclose(log_w, exact.expand(11, 7), rtol=tol, atol=10 * tol)


def test_linear_gaussian_log_marginal_matches_monte_carlo_over_the_prior():
    lg = _orthogonal_lg(seed=3, logvar=0.0)
    x = torch.randn(2, 5)
    z = torch.randn(200_000, 1, 2, generator=torch.Generator().manual_seed(0))
    log_px_z = dgmlib.gaussian_log_prob(x, z @ lg.W.T + lg.b, lg.logvar)  # [n, 2]
    mc = dgmlib.log_mean_exp(log_px_z, 0)
    assert torch.allclose(mc, lg.log_marginal(x), atol=0.02)


def test_linear_gaussian_posterior_is_diagonal_for_orthogonal_columns(tol):
    lg = _orthogonal_lg()
    _, cov = lg.posterior(torch.zeros(1, 5))
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=tol)


def test_vae_rejects_bad_inputs_with_clear_errors():
    model = dgmlib.build_vae(x_dim=6, z_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match=r"\[batch, D\]"):
        model.log_weights(torch.ones(6), K=1)
    with pytest.raises(ValueError, match="K must be"):
        model.log_weights(torch.ones(2, 6), K=0)
    other = torch.float64 if torch.get_default_dtype() == torch.float32 else torch.float32
    with pytest.raises(ValueError, match="move one of them"):
        model.log_weights(torch.ones(2, 6, dtype=other), K=1)
    with pytest.raises(ValueError, match="x_dim=784"):
        dgmlib.build_vae(x_dim=64, z_dim=2, arch="conv")
    with pytest.raises(ValueError, match="unknown arch"):
        dgmlib.build_vae(x_dim=64, z_dim=2, arch="rnn")


def test_reconstruct_and_sample_means_are_decoder_means_and_sample_draws_binary_pixels():
    torch.manual_seed(0)
    model = dgmlib.build_vae(x_dim=6, z_dim=2, hidden=(8,))
    x = (torch.rand(3, 6) > 0.5).to(torch.get_default_dtype())
    rec = model.reconstruct(x)
    assert torch.allclose(rec, torch.sigmoid(model.decoder(model.encoder(x)[0])))
    torch.manual_seed(1)
    means = model.sample_means(4)
    torch.manual_seed(1)
    z = model.prior.sample(4)
    assert torch.allclose(means, torch.sigmoid(model.decoder(z)))
    s = model.sample(2000)                    # x ~ p(x): 0/1 pixels whose average is the mean image
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    assert torch.allclose(s.mean(0), model.sample_means(20000).mean(0), atol=0.05)


def test_conv_vae_handles_importance_samples_like_a_loop(tol):
    torch.manual_seed(0)
    model = dgmlib.build_vae(x_dim=784, z_dim=3, arch="conv")
    z = torch.randn(2, 4, 3)
    batched = model.decoder(z)
    looped = torch.stack([model.decoder(z[k]) for k in range(2)])
    assert batched.shape == (2, 4, 784)
    assert torch.allclose(batched, looped, rtol=tol, atol=tol)
    x = (torch.rand(4, 784) > 0.5).to(z.dtype)
    mu, logvar = model.encoder(x)
    mu2, _ = model.encoder(x.unsqueeze(0).expand(2, 4, 784))
    assert torch.allclose(mu2[1], mu, rtol=tol, atol=tol)
    assert model.log_weights(x, K=3).shape == (3, 4)


class ElementwiseAffine(torch.nn.Module):
    """z -> a * z + b with a, b free or computed from a context: a Gaussian stays Gaussian."""

    def __init__(self, d, context_dim=None):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor([0.5, -2.0, 3.0][:d]))
        self.b = torch.nn.Parameter(torch.tensor([1.0, 0.0, -1.0][:d]))
        self.ctx = None if context_dim is None else torch.nn.Linear(context_dim, d)

    def forward(self, z, context=None):
        b = self.b if self.ctx is None else self.b + self.ctx(context)
        return self.a * z + b, torch.log(self.a.abs()).sum().expand(z.shape[:-1])


@pytest.mark.parametrize("amortized", [False, True])
def test_posterior_flow_log_density_follows_the_change_of_variables(amortized, tol):
    torch.manual_seed(0)
    base = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,))
    flow = ElementwiseAffine(3, context_dim=8 if amortized else None)
    model = dgmlib.VAE(base.encoder, base.decoder, flow=flow, amortized_flow=amortized)
    x = (torch.rand(4, 6) > 0.5).to(torch.get_default_dtype())
    t = model.terms(x, K=5)
    mu, logvar, h = base.encoder.with_features(x)
    assert torch.allclose(torch.stack(base.encoder(x)), torch.stack([mu, logvar]))
    shift = flow.b if not amortized else flow.b + flow.ctx(h)
    # q_K is the Gaussian N(a mu + b, a^2 sigma^2): its density at z_K by hand
    expected = dgmlib.gaussian_log_prob(t.z, flow.a * mu + shift, logvar + 2 * torch.log(flow.a.abs()))
    assert torch.allclose(t.log_qz, expected, rtol=tol, atol=10 * tol)
    assert torch.allclose(model.reconstruct(x), torch.sigmoid(base.decoder(flow.a * mu + shift)), atol=tol)


def test_models_with_a_posterior_flow_refuse_closed_form_kl_and_surgery():
    base = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,))
    model = dgmlib.VAE(base.encoder, base.decoder, flow=ElementwiseAffine(3))
    x = torch.ones(2, 6)
    with pytest.raises(ValueError, match="no closed-form KL"):
        dgmlib.elbo(model, x, analytic_kl=True)
    with pytest.raises(ValueError, match="posterior flow"):
        dgmlib.elbo_surgery(model, x)
    with pytest.raises(ValueError, match="needs a flow"):
        dgmlib.VAE(base.encoder, base.decoder, amortized_flow=True)


@pytest.mark.parametrize("flow", dgmlib.builders.POSTERIOR_FLOWS)
def test_built_flow_vaes_have_amortized_flows_and_finite_weights(flow):
    torch.manual_seed(0)
    model = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,), flow=flow, flow_length=2)
    assert model.amortized_flow and model.config["flow"] == flow
    x = (torch.rand(4, 6) > 0.5).to(torch.get_default_dtype())
    t = model.terms(x, K=3)
    assert bool(torch.isfinite(t.log_w).all())
    # two inputs with different codes get different transforms of the same z_0
    z0 = torch.ones(2, 3)   # not 0: a reflection leaves the origin where it is
    _, _, h = model.encoder.with_features(x[:2])
    assert not torch.allclose(*model.flow(z0, context=h)[0])


def test_flow_vae_checkpoint_round_trip(tmp_path, tol):
    model = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,), flow="sylvester_householder", flow_length=2)
    dgmlib.save_checkpoint(tmp_path / "m.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "m.pt")
    x = torch.ones(2, 6)
    torch.manual_seed(0)
    a = model.log_weights(x, 4)
    torch.manual_seed(0)
    assert torch.allclose(loaded.log_weights(x, 4), a, rtol=tol, atol=tol)


def test_unknown_posterior_flow_lists_the_valid_ones():
    with pytest.raises(ValueError, match="planar, radial"):
        dgmlib.build_vae(6, 3, flow="glow")


def test_log_joint_is_the_log_weight_plus_the_proposal_density(tol):
    torch.manual_seed(0)
    model = dgmlib.build_vae(x_dim=6, z_dim=3, hidden=(8,))
    x = (torch.rand(4, 6) > 0.5).to(torch.get_default_dtype())
    t = model.terms(x, K=5)
    assert torch.allclose(model.log_joint(x, t.z), t.log_w + t.log_qz, rtol=tol, atol=10 * tol)
    # one z per grid point, broadcast against every x
    grid = torch.randn(7, 1, 3)
    assert torch.allclose(model.log_joint(x, grid), model.log_joint(x, grid.expand(7, 4, 3)), rtol=tol, atol=tol)


def test_linear_gaussian_log_joint_minus_exact_posterior_is_log_px(tol):
    lg = _orthogonal_lg()
    vae = lg.as_vae()
    x = torch.randn(3, 5)
    mean, cov = lg.posterior(x)
    z = mean + 0.3 * torch.randn(3, 2)
    log_post = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov).log_prob(z)
    assert torch.allclose(vae.log_joint(x, z) - log_post, lg.log_marginal(x), rtol=tol, atol=10 * tol)
