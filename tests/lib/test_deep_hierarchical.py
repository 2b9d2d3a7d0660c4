"""dgmlib.models.deep_hierarchical: the L-layer hierarchical VAE (bottom-up and top-down inference)."""
import functools
import math

import pytest
import torch

import dgmlib
from dgmlib.distributions import diagonal_normal
from dgmlib.models import DeepHierarchicalVAE, HierarchicalVAE, layerwise_elbo, precision_weighted_merge


def _binary(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) > 0.5).to(torch.get_default_dtype())


# ------------------------------------------------------------------ an exact linear-Gaussian chain

def _linear_gaussian_chain(inference, seed=0):
    """L = 3 one-dimensional layers, x in R^3, every cell linear with a constant variance, and the
    inference cells set to the exact posterior conditionals; returns (model, log p(x) function)."""
    torch.manual_seed(seed)
    model = DeepHierarchicalVAE(3, [1, 1, 1], hidden=(), inference=inference, likelihood="gaussian")
    L = 3
    a, b, v = [], [], []
    with torch.no_grad():
        for cell in model.prior_cells:                          # p(z_i | z_{i+1}) = N(a z + b, v)
            lin = cell.net[0]
            lin.weight[1].zero_()
            lin.weight[0].uniform_(0.7, 1.3)                        # a well-conditioned chain
            lin.bias[1].uniform_(-1.0, 0.5)
            a.append(lin.weight[0, 0].item()), b.append(lin.bias[0].item()), v.append(lin.bias[1].exp().item())
    w, c = model.decoder[0].weight[:, 0].detach().double(), model.decoder[0].bias.detach().double()   # x = w z_1 + c + N(0, I)
    m, s = [0.0] * L, [1.0] * L                                 # prior marginals of z_i
    for i in range(L - 2, -1, -1):
        m[i], s[i] = a[i] * m[i + 1] + b[i], a[i] ** 2 * s[i + 1] + v[i]

    def log_px(x):
        cov = s[0] * torch.outer(w, w) + torch.eye(3, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(w * m[0] + c, cov).log_prob(x.double())

    def set_cell(linear, weight, bias, logvar):
        linear.weight.zero_()
        linear.weight[0] = torch.as_tensor(weight, dtype=linear.weight.dtype)
        linear.bias.copy_(torch.tensor([bias, logvar], dtype=linear.bias.dtype))

    with torch.no_grad():
        if inference == "bottom_up":
            P = 1 / s[0] + w @ w                                  # p(z_1 | x)
            set_cell(model.q_cells[0].net[0], w / P, ((m[0] / s[0] - w @ c) / P).item(), -math.log(P))
            for i in range(1, L):                                 # p(z_{i+1} | z_i, x) = p(z_{i+1} | z_i)
                P = 1 / s[i] + a[i - 1] ** 2 / v[i - 1]
                set_cell(model.q_cells[i].net[0], [a[i - 1] / (v[i - 1] * P)],
                         (m[i] / s[i] - a[i - 1] * b[i - 1] / v[i - 1]) / P, -math.log(P))
        else:                                                     # heads: p(x | z_i) as a Gaussian in z_i
            M, C, S = w.clone(), c.clone(), torch.eye(3, dtype=torch.float64)
            for i in range(L):
                Si = torch.linalg.inv(S)
                lam = (M @ Si @ M).item()
                weight, bias = Si @ M / lam, -(M @ Si @ C).item() / lam
                if i == L - 1:                                    # top: q(z_L|x) is the full posterior p(z_L|x)
                    P = 1 + lam
                    set_cell(model.heads[i].net, weight * lam / P, bias * lam / P, -math.log(P))
                else:
                    set_cell(model.heads[i].net, weight, bias, -math.log(lam))
                    S = S + v[i] * torch.outer(M, M)
                    C, M = M * b[i] + C, M * a[i]
    return model, log_px


@pytest.mark.parametrize("inference", ["bottom_up", "top_down"])
def test_with_the_exact_posterior_every_log_weight_equals_the_closed_form_log_marginal(inference, dtype):
    model, log_px = _linear_gaussian_chain(inference)
    model = model.to(dtype)
    x = 2 * torch.randn(7, 3, dtype=dtype)
    torch.manual_seed(1)
    with torch.no_grad():
        log_w = model.log_weights(x, K=20)                          # every draw: p(x, z) / p(z | x) = p(x)
    exact = log_px(x).to(dtype)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(log_w, exact.expand(20, 7), atol=tol, rtol=tol)
    with torch.no_grad():
        assert torch.allclose(dgmlib.elbo(model, x, K=3), exact, atol=tol, rtol=tol)   # ELBO = log p(x)
    assert torch.allclose(dgmlib.log_marginal_likelihood(model, x, K=50), exact, atol=tol, rtol=tol)


def test_log_marginal_likelihood_of_a_random_linear_gaussian_chain_approaches_the_closed_form():
    model, log_px = _linear_gaussian_chain("top_down", seed=3)
    with torch.no_grad():                                          # a wrong posterior: only the estimate converges
        for head in model.heads:
            head.net.bias.add_(torch.tensor([0.3, 0.4], dtype=head.net.bias.dtype))
    x = torch.randn(5, 3)
    torch.manual_seed(2)
    ll = dgmlib.log_marginal_likelihood(model, x, K=20000)
    with torch.no_grad():
        elbo = dgmlib.elbo(model, x, K=2000)
    exact = log_px(x).to(ll.dtype)
    assert (elbo < exact - 1e-3).all() and torch.allclose(ll, exact, atol=0.02)


# ------------------------------------------------------------------ the merge

def test_precision_weighted_merge_is_the_normalized_product_of_the_two_gaussians(dtype):
    g = torch.Generator().manual_seed(0)
    mu_a, lv_a, mu_b, lv_b = (torch.randn(4, 3, generator=g, dtype=dtype) for _ in range(4))
    mu, lv = precision_weighted_merge(mu_a, lv_a, mu_b, lv_b)
    z = torch.randn(6, 4, 3, generator=g, dtype=dtype)
    gap = (diagonal_normal(mu_a, lv_a).log_prob(z) + diagonal_normal(mu_b, lv_b).log_prob(z)
           - diagonal_normal(mu, lv).log_prob(z))                     # log of the normalizer: the same for every z
    assert torch.allclose(gap, gap[:1].expand_as(gap), atol=1e-5 if dtype == torch.float32 else 1e-12)
    assert torch.allclose(lv.exp(), 1 / (1 / lv_a.exp() + 1 / lv_b.exp()))
    assert torch.allclose(mu, lv.exp() * (mu_a / lv_a.exp() + mu_b / lv_b.exp()))


def test_precision_weighted_merge_golden_values_and_extreme_variances():
    mu, lv = precision_weighted_merge(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([2.0]), torch.tensor([0.0]))
    assert torch.allclose(mu, torch.tensor([1.0])) and torch.allclose(lv, torch.tensor([-math.log(2)]))
    mu, lv = precision_weighted_merge(torch.tensor([1.0, 1.0]), torch.tensor([-80.0, 80.0]),
                                      torch.tensor([5.0, 5.0]), torch.tensor([0.0, 0.0]))
    assert torch.isfinite(mu).all() and torch.allclose(mu, torch.tensor([1.0, 5.0])) and torch.allclose(lv, torch.tensor([-80.0, 0.0]))


# ------------------------------------------------------------------ terms, bounds, sharing

@pytest.mark.parametrize("inference", ["bottom_up", "top_down"])
def test_the_kl_per_layer_sums_to_the_total_kl_term_and_log_w_is_the_sum_of_its_layers(inference, tol):
    torch.manual_seed(0)
    model = DeepHierarchicalVAE(6, [4, 3, 2], hidden=(8,), inference=inference)
    x = _binary(5, 6)
    t = model.terms(x, K=4)
    assert t.kl_per_layer.shape == (3, 5) and t.log_p_layers.shape == (3, 4, 5) and t.z.shape == (4, 5, 9)
    assert torch.allclose(t.kl_per_layer.sum(0), (t.log_qz - t.log_pz).mean(0), rtol=tol, atol=tol)
    assert torch.allclose(t.log_w, t.log_px_z + t.log_p_layers.sum(0) - t.log_q_layers.sum(0), rtol=tol, atol=tol)
    assert torch.allclose(t.log_px_z + t.log_pz, model.log_joint(x, t.z), rtol=tol, atol=tol)


def test_top_down_and_bottom_up_share_the_generative_model_exactly():
    torch.manual_seed(0)
    bu = DeepHierarchicalVAE(6, [4, 3, 2], hidden=(8,), inference="bottom_up")
    td = DeepHierarchicalVAE(6, [4, 3, 2], hidden=(8,), inference="top_down")
    shared = {k: v for k, v in bu.state_dict().items() if k.startswith(("prior_cells.", "decoder."))}
    assert shared.keys() == {k for k in td.state_dict() if k.startswith(("prior_cells.", "decoder."))}
    td.load_state_dict(shared, strict=False)
    x, z = _binary(5, 6), torch.randn(3, 5, 9)
    with torch.no_grad():
        assert torch.equal(bu.log_joint(x, z), td.log_joint(x, z))
        torch.manual_seed(4)
        a = bu.prior_draw(6)
        torch.manual_seed(4)
        assert torch.equal(a, td.prior_draw(6)) and torch.equal(bu.decode_mean(a), td.decode_mean(a))


def test_one_layer_top_down_is_the_one_layer_bottom_up_model(tol):
    torch.manual_seed(0)
    bu = DeepHierarchicalVAE(6, [3], hidden=(8,), inference="bottom_up")
    td = DeepHierarchicalVAE(6, [3], hidden=(8,), inference="top_down")
    state = {k: v for k, v in bu.state_dict().items() if not k.startswith("q_cells")}
    state.update({"up_cells.0.0.0.weight": bu.q_cells[0].net[0].weight, "up_cells.0.0.0.bias": bu.q_cells[0].net[0].bias,
                  "heads.0.net.weight": bu.q_cells[0].net[2].weight, "heads.0.net.bias": bu.q_cells[0].net[2].bias})
    td.load_state_dict(state)
    x = _binary(5, 6)
    torch.manual_seed(1)
    a = bu.log_weights(x, K=3)
    torch.manual_seed(1)
    assert torch.allclose(td.log_weights(x, K=3), a, rtol=tol, atol=tol)


@pytest.mark.parametrize("inference", ["bottom_up", "top_down"])
def test_iwae_bound_with_one_sample_equals_the_elbo_for_the_same_draw(inference, tol):
    torch.manual_seed(0)
    model = DeepHierarchicalVAE(6, [4, 2], hidden=(8,), inference=inference)
    x = _binary(5, 6)
    torch.manual_seed(3)
    e = dgmlib.elbo(model, x, K=1)
    torch.manual_seed(3)
    assert torch.equal(dgmlib.iwae_bound(model, x, K=1), e)
    torch.manual_seed(3)
    assert torch.allclose(layerwise_elbo(model, x), e, rtol=tol, atol=tol)    # beta = 1, no free bits: the ELBO


def test_the_two_level_bottom_up_model_and_hierarchical_vae_share_the_generative_model_when_its_decoder_ignores_z2():
    """HierarchicalVAE's decoder reads [z1, z2] and its inference is q(z2|x) q(z1|x, z2): with the z2
    columns of its decoder zero and the weights copied over, log p(x, z1, z2) agrees; log q cannot."""
    torch.manual_seed(0)
    h = HierarchicalVAE(6, 3, 2, hidden=(8,))
    d = DeepHierarchicalVAE(6, [3, 2], hidden=(8,), inference="bottom_up")
    with torch.no_grad():
        h.decoder[0].weight[:, 3:] = 0.0
        state = d.state_dict()
        for k, v in h.prior_z1.state_dict().items():
            state[f"prior_cells.0.{k}"] = v
        for k, v in h.decoder.state_dict().items():
            state[f"decoder.{k}"] = v[:, :3] if k == "0.weight" else v
        d.load_state_dict(state)
        x, z = _binary(5, 6), torch.randn(4, 5, 5)
        z1, z2 = z[..., :3], z[..., 3:]
        log_joint_h = (h.likelihood.log_prob(x, h.decoder(z)) + diagonal_normal(*h.prior_z1(z2)).log_prob(z1)
                       + h.prior.log_prob(z2))
    assert torch.allclose(d.log_joint(x, z), log_joint_h, atol=1e-5)


# ------------------------------------------------------------------ training and evaluation

def test_fit_trains_a_three_layer_top_down_model_and_reports_active_units_per_layer(digits):
    dgmlib.seed_everything(0)
    model = DeepHierarchicalVAE(64, [8, 4, 2], hidden=(32,), inference="top_down")
    objective = functools.partial(layerwise_elbo, beta=0.5, free_bits=0.1)
    history = dgmlib.fit(model, digits, epochs=4, batch_size=100, objective=objective, progress=False)
    assert history.val[-1] > history.val[0]
    units = model.active_units_per_layer(digits.test)
    assert len(units) == 3 and all(0 <= u <= d for u, d in zip(units, model.z_dims))
    assert model.sample(5).shape == (5, 64) and model.sample_means(5).shape == (5, 64)
    assert model.reconstruct(digits.test[:3]).shape == (3, 64)
    fixed = model.prior_draw(4)
    redrawn = model.prior_draw(4, above=fixed, level=1)             # z_2, z_3 kept, z_1 redrawn
    assert torch.equal(redrawn[:, 8:], fixed[:, 8:]) and not torch.equal(redrawn[:, :8], fixed[:, :8])


def test_free_bits_per_layer_give_a_layer_under_the_threshold_no_kl_gradient():
    torch.manual_seed(0)
    model = DeepHierarchicalVAE(6, [3, 2], hidden=(8,), inference="top_down")
    x = _binary(10, 6)
    torch.manual_seed(1)
    layerwise_elbo(model, x, free_bits=1e6).mean().backward()       # every layer under the threshold
    clamped = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    torch.manual_seed(1)
    model.terms(x).log_px_z.mean().backward()                       # the reconstruction term alone
    assert all(torch.allclose(a, p.grad) for a, p in zip(clamped, model.parameters()))
    torch.manual_seed(1)
    assert torch.allclose(layerwise_elbo(model, x, free_bits=1e6), model.terms(x).log_px_z[0] - 2e6)


def test_round_trip_through_save_and_load(tmp_path, tol):
    torch.manual_seed(0)
    model = DeepHierarchicalVAE(6, [4, 3, 2], hidden=(8,), inference="top_down")
    dgmlib.save_checkpoint(tmp_path / "m.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "m.pt")
    assert isinstance(loaded, DeepHierarchicalVAE) and loaded.config == model.config and loaded.layers == 3
    x = _binary(5, 6)
    model.eval()
    torch.manual_seed(1)
    a = model.log_weights(x, K=3)
    torch.manual_seed(1)
    assert torch.equal(loaded.log_weights(x, K=3), a)


def test_a_checkpoint_of_another_depth_is_refused_with_a_message_naming_l(tmp_path):
    three = DeepHierarchicalVAE(6, [4, 3, 2], hidden=(8,))
    two = DeepHierarchicalVAE(6, [4, 3], hidden=(8,))
    dgmlib.save_checkpoint(tmp_path / "m.pt", three)
    with pytest.raises(ValueError, match="'layers': 3"):
        dgmlib.load_checkpoint(tmp_path / "m.pt", model=two)
    with pytest.raises(ValueError, match="L = 3 stochastic layers, this model has L = 2"):
        two.load_state_dict(three.state_dict())


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("z_dims, layers, match", [
    ([], None, "at least one layer"), ([4, 0], None, r"z_dims\[1\] = 0"), ([4, 2.5], None, r"z_dims\[1\] = 2.5"),
    (4, None, "list of layer sizes"), ([4, 2], 3, r"layers \(L\) = 3 but z_dims lists 2")])
def test_inconsistent_layer_sizes_are_refused(z_dims, layers, match):
    with pytest.raises(ValueError, match=match):
        DeepHierarchicalVAE(6, z_dims, layers=layers)


def test_bad_arguments_and_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="unknown inference 'sideways'"):
        DeepHierarchicalVAE(6, [2], inference="sideways")
    model = DeepHierarchicalVAE(6, [3, 2], hidden=(8,))
    with pytest.raises(ValueError, match=r"x must be \[batch, 6\]"):
        model.log_weights(torch.zeros(2, 5))
    with pytest.raises(ValueError):
        model.log_weights(torch.full((2, 6), 0.5))                      # not binary: outside the Bernoulli support
    with pytest.raises(ValueError, match="K"):
        model.log_weights(torch.zeros(2, 6), K=0)
    with pytest.raises(ValueError, match="level must be between 1 and L = 2"):
        model.prior_draw(3, above=model.prior_draw(3), level=3)
    with pytest.raises(ValueError, match="sum of z_dims"):
        model.decode_mean(torch.zeros(2, 4))
    with pytest.raises(AttributeError, match="no single encoder"):
        model.encoder
    with pytest.raises(ValueError, match="free_bits"):
        layerwise_elbo(model, torch.zeros(2, 6), free_bits=-1)


# ------------------------------------------------------------------ active units with a known count

def _known_units(inference):
    """x in {0,1}^4, z_dims [3, 3], every cell linear: units 0 and 1 of each layer copy a pixel (with
    a tiny variance), so Cov_x(E_q[z_u|x]) = 4 * Var(pixel) ~ 1; unit 2 of the layer read from x is
    N(0, 1) for every x, and unit 2 of the other layer has the conditional mean 3 * (that unit's
    draw), so its posterior mean E_q[z|x] = 0 for every x although its conditional mean varies
    (variance 9) from draw to draw. Exactly 2 units per layer are active."""
    model = DeepHierarchicalVAE(4, [3, 3], hidden=(), inference=inference, likelihood="bernoulli")

    def set_linear(linear, rows):      # rows: output index -> (weights over inputs, bias)
        linear.weight.zero_(), linear.bias.zero_()
        for out, (weights, bias) in rows.items():
            for i, w in weights.items():
                linear.weight[out, i] = w
            linear.bias[out] = bias
    with torch.no_grad():
        if inference == "bottom_up":     # q(z1|x) reads x; q(z2|z1) reads z1
            set_linear(model.q_cells[0].net[0], {0: ({0: 2.0}, 0.0), 1: ({1: 2.0}, 0.0), 3: ({}, -10.0),
                                                 4: ({}, -10.0), 5: ({}, 0.0)})
            set_linear(model.q_cells[1].net[0], {0: ({0: 1.0}, 0.0), 1: ({1: 1.0}, 0.0), 2: ({2: 3.0}, 0.0),
                                                 3: ({}, -10.0), 4: ({}, -10.0), 5: ({}, -10.0)})
        else:                            # q(z2|x) from the top head; q(z1|z2, x) merges head 0 with p(z1|z2)
            set_linear(model.heads[1].net, {0: ({0: 2.0}, 0.0), 1: ({1: 2.0}, 0.0), 3: ({}, -10.0),
                                            4: ({}, -10.0), 5: ({}, 0.0)})
            set_linear(model.heads[0].net, {0: ({2: 2.0}, 0.0), 1: ({3: 2.0}, 0.0), 3: ({}, -10.0),
                                            4: ({}, -10.0), 5: ({}, 10.0)})     # unit 2: the prior decides
            set_linear(model.prior_cells[0].net[0], {2: ({2: 3.0}, 0.0)})        # p(z1_2 | z2) = N(3 z2_2, 1)
    return model


@pytest.mark.parametrize("inference", ["bottom_up", "top_down"])
def test_active_units_per_layer_of_a_model_with_a_known_count(inference):
    torch.manual_seed(0)
    model, x = _known_units(inference), _binary(100, 4)
    for seed in range(2):
        torch.manual_seed(seed)
        assert model.active_units_per_layer(x) == [2, 2]
    torch.manual_seed(0)
    means = model.posterior_means(x)
    exact, varying = (0, 1) if inference == "bottom_up" else (1, 0)   # the layer read from x; the other
    assert torch.equal(means[exact][:, 2], torch.zeros_like(means[exact][:, 2]))
    assert (means[varying][:, 2] ** 2).mean() < 2e-3               # Monte Carlo noise: variance 1e-3 by default
    torch.manual_seed(0)
    assert (model.posterior_means(x, samples=20)[varying][:, 2] ** 2).mean() > 0.2   # 9 / 20 with 20 draws

@pytest.mark.parametrize("inference", ["bottom_up", "top_down"])
def test_batch_norm_uses_batch_statistics_in_training_and_running_averages_in_eval(inference, tol):
    torch.manual_seed(3)
    model = DeepHierarchicalVAE(6, [4, 3], hidden=(8,), inference=inference, batch_norm=True)
    plain = DeepHierarchicalVAE(6, [4, 3], hidden=(8,), inference=inference)
    assert model.config["batch_norm"] is True and "batch_norm" not in plain.config
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    cells = len(model.prior_cells) + 1 + (len(model.q_cells) if inference == "bottom_up" else len(model.up_cells))
    assert len(norms) == cells                       # one per hidden layer of every cell
    x, other = _binary(10, 6, seed=1), _binary(10, 6, seed=2)
    eps_draws = lambda: torch.manual_seed(4)         # noqa: E731  (the same noise in both passes)
    model.train()
    eps_draws(); alone = model.log_weights(x, K=2)[:, :5]
    eps_draws(); mixed = model.log_weights(torch.cat([x[:5], other[:5]]), K=2)[:, :5]
    assert not torch.allclose(alone, mixed, atol=1e-3), "training mode: the batch's statistics"
    model.eval()
    eps_draws(); alone = model.log_weights(x, K=2)[:, :5]
    eps_draws(); mixed = model.log_weights(torch.cat([x[:5], other[:5]]), K=2)[:, :5]
    assert torch.allclose(alone, mixed, rtol=tol, atol=tol), "eval mode: the running averages"


def test_batch_norm_models_train_and_round_trip_through_a_checkpoint(tmp_path, tol):
    torch.manual_seed(5)
    model = DeepHierarchicalVAE(6, [4, 3], hidden=(8,), inference="top_down", batch_norm=True)
    x = _binary(40, 6, seed=3)
    before = model.log_weights(x, K=1).mean().item()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        loss = -dgmlib.elbo(model, x).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        assert dgmlib.elbo(model, x, K=50).mean().item() > before
    dgmlib.save_checkpoint(tmp_path / "bn.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "bn.pt")
    assert loaded.config == model.config
    loaded.eval()                                     # the running averages travel in the checkpoint
    torch.manual_seed(6); a = model.log_weights(x, K=3)
    torch.manual_seed(6); assert torch.equal(loaded.log_weights(x, K=3), a)
