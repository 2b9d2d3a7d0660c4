"""Tests for dgmlib.dequantization: the uniform and variational bounds against exact discrete
log-likelihoods, the noise density q(u|x), and the dequantized flow as a latent-variable model."""
import math

import pytest
import torch

import dgmlib
from dgmlib.dequantization import (VariationalDequantizer, build_dequantized_flow,
                                   checkerboard, dequantize, quantize, uniform_dequantization_bound)
from dgmlib.metrics import bits_per_dim, log_marginal_likelihood
from dgmlib.objectives import elbo, iwae_bound

L, D = 17, 3


def grey(n, dim=D, levels=L, seed=0):
    """n random images of ``dim`` pixels on the grid k / (L - 1)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, levels, (n, dim), generator=g).to(torch.get_default_dtype()) / (levels - 1)


def histogram_log_density(logits):
    """A factorized density on the unit cube that is constant within each of the L bins per pixel:
    p(y) = prod_i L * pi_{i, floor(L y_i)}, pi = softmax(logits) [D, L]. Its discrete model is
    P(k) = prod_i pi_{i, k_i} exactly."""
    log_pi = torch.log_softmax(logits, -1)
    def log_density(y):
        k = torch.floor(y * logits.shape[-1]).clamp(0, logits.shape[-1] - 1).long()
        return (torch.gather(log_pi.expand(*k.shape, -1), -1, k.unsqueeze(-1)).squeeze(-1)
                + math.log(logits.shape[-1])).sum(-1)
    return log_density, log_pi


def power_log_density(a):
    """p(y) = prod_i a_i y_i^(a_i - 1) on the unit cube (CDF y^a): P(k) = prod_i ((k+1)/L)^a - (k/L)^a."""
    def log_density(y):
        return (torch.log(a) + (a - 1) * torch.log(y)).sum(-1)
    def exact(k, levels):
        return torch.log(((k + 1) / levels) ** a - (k / levels) ** a).sum(-1)
    return log_density, exact


def test_a_uniform_density_on_the_unit_cube_gives_exactly_log2_levels_bits_per_dim():
    x = grey(6, dim=64)
    bound = uniform_dequantization_bound(lambda y: y.new_zeros(y.shape[:-1]), x, L, K=3)
    assert torch.allclose(bound, torch.full_like(bound, -64 * math.log(L)))
    assert torch.allclose(bits_per_dim(-bound, 64), torch.full_like(bound, math.log2(L)))


def test_the_uniform_bound_is_tight_for_a_density_constant_within_each_bin(tol):
    logits = torch.randn(D, L, generator=torch.Generator().manual_seed(1))
    log_density, log_pi = histogram_log_density(logits)
    x = grey(20)
    k = quantize(x, L).long()
    exact = torch.gather(log_pi.expand(20, D, L), -1, k.unsqueeze(-1)).squeeze(-1).sum(-1)
    bound = uniform_dequantization_bound(log_density, x, L, K=50)
    assert torch.allclose(bound, exact, rtol=tol, atol=tol)


def test_the_uniform_bound_is_below_the_exact_discrete_log_likelihood():
    a = torch.tensor([0.6, 1.0, 2.0], dtype=torch.float64)
    log_density, exact = power_log_density(a)
    x = grey(8).to(torch.float64)
    k = quantize(x, L)
    # the expectation over u, per pixel, by a fine midpoint rule (the model factorizes)
    u = (torch.arange(20_000, dtype=torch.float64) + 0.5) / 20_000
    y = dequantize(k.unsqueeze(-1), u, L)                                 # [8, D, 20000]
    per_pixel = (torch.log(a)[:, None] + (a[:, None] - 1) * torch.log(y)).mean(-1) - math.log(L)
    bound = per_pixel.sum(-1)
    gap = exact(k, L) - bound
    assert (gap > 1e-4).all(), "Jensen's gap is positive for a density that varies within a bin"
    mc = uniform_dequantization_bound(log_density, x, L, K=20_000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(mc, bound, atol=0.04)          # ~5 standard errors at K = 20000


def test_variational_noise_density_integrates_to_one_over_the_unit_square():
    torch.manual_seed(0)
    q = VariationalDequantizer(2, layers=2, hidden=(16,)).to(torch.float64)
    n = 800
    centres = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    u = torch.stack(torch.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    x = torch.tensor([[0.25, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        mass = q.log_prob(u.unsqueeze(1), x).exp().mean()
    assert mass.item() == pytest.approx(1.0, abs=5e-3)


def test_variational_noise_samples_lie_in_the_cube_with_the_density_of_the_inverse_flow(tol):
    torch.manual_seed(1)
    q = VariationalDequantizer(D, layers=3, hidden=(16,))
    x = grey(5)
    u, log_q = q(x, K=4)
    assert u.shape == (4, 5, D) and log_q.shape == (4, 5)
    assert ((u > 0) & (u < 1)).all()
    assert torch.allclose(q.log_prob(u, x), log_q, rtol=100 * tol, atol=100 * tol)


def test_the_variational_bound_is_strictly_below_the_exact_log_likelihood():
    torch.manual_seed(2)
    a = torch.tensor([0.5, 2.0, 1.0])
    log_density, exact = power_log_density(a)
    x = grey(4)
    q = VariationalDequantizer(D, layers=2, hidden=(16,))
    with torch.no_grad():
        u, log_q = q(x, K=20_000)
        log_w = log_density(dequantize(quantize(x, L), u, L)) - D * math.log(L) - log_q   # [K, B]
    bound, se = log_w.mean(0), log_w.std(0) / math.sqrt(log_w.shape[0])
    truth = exact(quantize(x, L), L)
    assert (bound < truth + 3 * se).all()
    # the gap is KL(q(u|x) || p(u|x)) > 0: q is not the noise posterior p((k+u)/L) L^-D / P(k)
    assert (truth - bound > 3 * se).all()


@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_the_flow_density_on_the_unit_square_integrates_to_one_without_margin(alpha):
    torch.manual_seed(5)
    model = build_dequantized_flow(2, L, layers=2, hidden=(16,), alpha=alpha).to(torch.float64)
    n = 1000
    centres = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    y = torch.stack(torch.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        mass = model.log_density(y).exp().mean().item()
    if alpha == 0:
        assert mass == pytest.approx(1.0, abs=5e-3)
    else:   # the flow's mass outside the logit box [logit(alpha), logit(1 - alpha)]^2 is lost
        assert 0.1 < mass < 0.995


def test_dequantized_flow_is_a_latent_variable_model_for_the_library_objectives():
    torch.manual_seed(3)
    x = grey(7, dim=16)
    for kind in ("uniform", "variational"):
        model = build_dequantized_flow(16, L, kind, layers=2, hidden=(16,), deq_layers=2, deq_hidden=(8,))
        terms = model.terms(x, K=5)
        assert terms.log_w.shape == (5, 7) and terms.u.shape == (5, 7, 16)
        if kind == "uniform":
            assert torch.equal(terms.log_q, torch.zeros(5, 7))
        assert torch.allclose(terms.log_w, terms.log_density - 16 * math.log(L) - terms.log_q)
        torch.manual_seed(4)
        e, w = elbo(model, x, K=200), iwae_bound(model, x, K=200)
        assert (w >= e - 1e-4).all()
        assert log_marginal_likelihood(model, x, K=20, chunk=7).shape == (7,)
        sample = model.sample(5)
        assert sample.shape == (5, 16) and torch.equal(sample * (L - 1), torch.round(sample * (L - 1)))


def test_training_a_dequantized_flow_on_digits_beats_the_uniform_model():
    data = dgmlib.load("digits", binarize=False)
    torch.manual_seed(0)
    model = build_dequantized_flow(64, data.levels, "uniform", layers=2, hidden=(32,))
    dgmlib.fit(model, data, epochs=5, lr=3e-3, batch_size=100, progress=False)
    bpd = bits_per_dim(-elbo(model, data.test.to(next(model.parameters()).dtype), K=2).mean(), 64)
    assert bpd < math.log2(data.levels) - 0.5


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="off-grid"):
        quantize(torch.tensor([[0.03]]), L)
    with pytest.raises(ValueError, match="NaN"):
        quantize(torch.tensor([[float("nan")]]), L)
    with pytest.raises(ValueError, match="unknown dequantization"):
        build_dequantized_flow(4, L, "gaussian")
    model = build_dequantized_flow(4, L, layers=1, hidden=(4,))
    with pytest.raises(ValueError, match=r"\[batch, 4\]"):
        model.terms(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="K must"):
        model.terms(torch.zeros(2, 4), K=0)


def test_checkerboard_masks_alternate_on_square_images():
    m = checkerboard(64).reshape(8, 8)
    assert m[0, 0] and not m[0, 1] and not m[1, 0] and m[1, 1] and m.sum() == 32
    assert torch.equal(checkerboard(64, 1), ~checkerboard(64))
    assert torch.equal(checkerboard(5), torch.tensor([True, False, True, False, True]))


def test_quick_experiment_has_one_row_per_model_and_seed_in_bits_per_dim():
    from dgmlib import experiments
    record = experiments.run("dequantization", quick=True)
    s = record["settings"]
    assert {(r["model"], r["seed"]) for r in record["rows"]} == {(m, seed) for m in s["models"] for seed in s["seeds"]}
    for r in record["rows"]:
        assert 0 < r["test_iw_bpd"] <= r["test_bound_bpd"] + 0.05 and math.isfinite(r["test_bound_bpd"])
        assert r["test_bound_bpd"] == pytest.approx(-r["test_bound_nats"] / (64 * math.log(2)))
    caption, table = experiments.table("dequantization", record)
    assert list(table.index) == list(s["models"]) and "bits per dimension" in caption.lower()


def test_independent_pixels_is_the_smoothed_count_frequency_and_scores_like_categoricals(device):
    from dgmlib.metrics import independent_pixels, independent_pixels_log_prob

    k = torch.tensor([[0, 2], [0, 1], [2, 1], [0, 1]], device=device).to(torch.get_default_dtype())
    log_pi = independent_pixels(k, 3, pseudo_count=1.0)
    # pixel 0: levels (0, 1, 2) seen (3, 0, 1) times of N = 4; (n + 1) / (4 + 3)
    expected = torch.tensor([[4, 1, 2], [1, 4, 2]], device=device, dtype=log_pi.dtype) / 7
    assert log_pi.device == k.device and log_pi.dtype == k.dtype
    assert torch.allclose(log_pi.exp(), expected)
    x = torch.randint(0, 3, (50, 2), generator=torch.Generator().manual_seed(0)).to(device)
    peer = torch.distributions.Categorical(logits=log_pi).log_prob(x).sum(-1)   # [N, D] -> [N]
    assert torch.allclose(independent_pixels_log_prob(log_pi, x), peer)
    assert torch.allclose(independent_pixels(k, 3, pseudo_count=0.0).exp()[0],
                          torch.tensor([0.75, 0.0, 0.25], device=device, dtype=log_pi.dtype))


@pytest.mark.parametrize("bad", [[[0, 3]], [[0.5, 1]], [[float("nan"), 1]], [[-1, 0]]])
def test_independent_pixels_rejects_levels_off_the_grid(bad):
    from dgmlib.metrics import independent_pixels

    with pytest.raises(ValueError, match="levels"):
        independent_pixels(torch.tensor(bad), 3)
    with pytest.raises(ValueError, match="pixels"):
        dgmlib.independent_pixels_log_prob(torch.zeros(3, 3), torch.zeros(2, 2))


# --- image flows: a multi-scale convolutional flow with uniform / variational dequantization ---

def _randomized(module, std=0.2, seed=0):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn_like(p))
    return module


def test_image_dequantizer_log_q_is_the_change_of_variables_through_its_flow_and_sigmoid(tol):
    from torch.autograd.functional import jacobian

    from dgmlib.dequantization import image_dequantizer

    torch.manual_seed(0)
    q = _randomized(image_dequantizer((1, 4, 4), couplings=2, hidden=4))
    x = grey(2, dim=16, levels=5)
    torch.manual_seed(7)
    u, log_q = q(x, K=3)
    torch.manual_seed(7)
    eps = torch.randn(3, 2, 16)                                        # the same draws
    assert u.shape == (3, 2, 16) and ((u > 0) & (u < 1)).all()
    for k, b in [(0, 0), (2, 1)]:
        J = jacobian(lambda v: q.noise.flow(v, context=2 * x[b] - 1)[0], eps[k, b])   # eps -> u
        direct = (-0.5 * eps[k, b] ** 2 - 0.5 * math.log(2 * math.pi)).sum() - torch.linalg.slogdet(J).logabsdet
        torch.testing.assert_close(log_q[k, b], direct, rtol=10 * tol, atol=10 * tol)
    torch.testing.assert_close(q.log_prob(u, x), log_q, rtol=100 * tol, atol=100 * tol)


def _grid(n, dim, dtype):
    """The n^dim midpoints of the unit cube, [n^dim, dim]."""
    c = (torch.arange(n, dtype=dtype) + 0.5) / n
    return torch.stack(torch.meshgrid(*[c] * dim, indexing="ij"), -1).reshape(-1, dim)


def test_image_flow_dequantization_bounds_lie_below_the_exact_discrete_log_likelihood():
    from dgmlib.dequantization import build_dequantized_image_flow

    levels, dim = 3, 4                                                 # 2x2 images, 3 grey levels
    torch.manual_seed(0)
    options = dict(scales=2, couplings=2, hidden=4, blocks=1, actnorm=False, deq_couplings=2, deq_hidden=4,
                   alpha=0.05)
    uniform = build_dequantized_image_flow((1, 2, 2), levels, "uniform", **options).to(torch.float64)
    x = torch.tensor([[0, 0.5, 1, 1], [0.5, 0.5, 0, 1], [0, 0, 0, 0]], dtype=torch.float64)
    _randomized(uniform.density, std=0.05)                             # log P(k) from -6.4 to -3.9 nats
    variational = build_dequantized_image_flow((1, 2, 2), levels, "variational", **options).to(torch.float64)
    variational.density.load_state_dict(uniform.density.state_dict())   # the same density p
    _randomized(variational.dequantizer, std=0.3, seed=1)
    u = _grid(16, dim, torch.float64)                                  # midpoint rule over the noise cube
    k = quantize(x, levels)
    with torch.no_grad():
        log_p = uniform.log_density(dequantize(k, u[:, None], levels)) - dim * math.log(levels)   # [16^4, 3]
        exact = torch.logsumexp(log_p, 0) - math.log(len(u))           # log P(k) = log E_u[p((k+u)/L)] L^-D
        uniform_bound = log_p.mean(0)
        torch.manual_seed(1)
        log_w = uniform.log_weights(x, K=4000)
        mc_variational = variational.log_weights(x, K=4000)
    se = log_w.std(0) / math.sqrt(4000)
    assert (exact - uniform_bound > 0.2).all(), "Jensen's gap of the uniform noise is positive"
    assert ((log_w.mean(0) - uniform_bound).abs() < 5 * se).all()      # the model's bound is that integral
    assert torch.allclose(torch.logsumexp(log_w, 0) - math.log(4000), exact, atol=0.15)   # IW -> log P(k)
    v_bound, v_se = mc_variational.mean(0), mc_variational.std(0) / math.sqrt(4000)
    assert (v_bound < exact - 3 * v_se).all()                          # KL(q || noise posterior) > 0


def test_dequantized_image_flow_is_a_latent_variable_model_for_the_library_objectives():
    from dgmlib.dequantization import build_dequantized_image_flow

    torch.manual_seed(3)
    x = grey(7, dim=16)
    for kind in ("uniform", "variational"):
        model = build_dequantized_image_flow((1, 4, 4), L, kind, scales=3, couplings=1, hidden=4, blocks=1,
                                             deq_couplings=2, deq_hidden=4)
        terms = model.terms(x, K=5)
        assert terms.log_w.shape == (5, 7) and terms.u.shape == (5, 7, 16)
        assert torch.allclose(terms.log_w, terms.log_density - 16 * math.log(L) - terms.log_q)
        torch.manual_seed(4)
        log_w = model.log_weights(x, K=50)
        torch.manual_seed(4)
        assert torch.equal(elbo(model, x, K=50), log_w.mean(0)) and torch.isfinite(log_w).all()
        torch.manual_seed(4)
        assert torch.allclose(iwae_bound(model, x, K=50), torch.logsumexp(log_w, 0) - math.log(50))
        assert log_marginal_likelihood(model, x, K=10, chunk=7).shape == (7,)
        sample = model.sample(5)
        assert sample.shape == (5, 16) and torch.equal(sample * (L - 1), torch.round(sample * (L - 1)))


def test_training_a_dequantized_image_flow_on_digits_beats_the_uniform_model():
    from dgmlib.dequantization import build_dequantized_image_flow

    data = dgmlib.load("digits", binarize=False)
    torch.manual_seed(0)
    model = build_dequantized_image_flow((1, 8, 8), data.levels, "variational", scales=2, couplings=2, hidden=8,
                                         blocks=1, deq_couplings=1, deq_hidden=4)
    dgmlib.fit(model, data, epochs=3, lr=3e-3, batch_size=100, progress=False)
    bpd = bits_per_dim(-elbo(model, data.test.to(next(model.parameters()).dtype), K=2).mean(), 64)
    assert bpd < math.log2(data.levels) - 0.5


def test_a_trained_image_flow_checkpoint_keeps_its_actnorm_statistics(tmp_path):
    from dgmlib.dequantization import build_dequantized_image_flow

    torch.manual_seed(0)
    model = build_dequantized_image_flow((1, 4, 4), L, "uniform", scales=2, couplings=1, hidden=4, blocks=1)
    model.log_weights(grey(20, dim=16, seed=1), K=2)                   # the data-dependent init
    dgmlib.save_checkpoint(tmp_path / "flow.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "flow.pt")
    assert loaded.config["model"] == "dequantized_image_flow"
    x = grey(5, dim=16, seed=2)                                        # data that would give another init
    torch.manual_seed(1)
    expected = model.log_weights(x, K=3)
    torch.manual_seed(1)
    assert torch.equal(loaded.log_weights(x, K=3), expected)


def test_bad_image_flow_settings_raise_clear_errors():
    from dgmlib.dequantization import build_dequantized_image_flow

    with pytest.raises(ValueError, match="unknown dequantization"):
        build_dequantized_image_flow((1, 4, 4), L, "gaussian")
    with pytest.raises(ValueError, match=r"shape must be \(C, H, W\)"):
        build_dequantized_image_flow((16,), L)
    with pytest.raises(ValueError, match=r"\[batch, 16\]"):
        build_dequantized_image_flow((1, 4, 4), L, scales=2, hidden=4).terms(torch.zeros(2, 15))


def test_the_image_table_builds_multiscale_flows_and_keeps_the_dense_flow_as_one_row():
    from dgmlib.experiments import dequantization as table
    from dgmlib.flows import MultiScaleFlow

    s = table.MNIST5K_IMAGES
    assert s.models == ("uniform", "variational", "dense_uniform", "vae") and s.dataset == "mnist5k"
    torch.manual_seed(0)
    uniform, variational = (table.build_model(s, m, 784, 256) for m in ("uniform", "variational"))
    assert isinstance(uniform.flow, MultiScaleFlow) and uniform.dequantizer is None
    assert uniform.config["model"] == "dequantized_image_flow" and uniform.config["hidden"] == [16, 32, 32]
    assert isinstance(variational.dequantizer.noise.flow.flows[0], MultiScaleFlow)
    dense = table.build_model(s, "dense_uniform", 784, 256)
    assert dense.config["model"] == "dequantized_flow" and dense.config["hidden"] == [256] and dense.dequantizer is None
    assert table.build_model(table.QUICK, "uniform", 64, 17).config["model"] == "dequantized_flow"   # the digits
    gpu = table.MNIST_IMAGES_GPU
    assert (gpu.image_couplings, gpu.image_hidden, gpu.image_blocks, gpu.epochs, gpu.dataset) == \
        ((2, 2, 4), (32, 48, 64), 3, 200, "mnist")
    with pytest.raises(ValueError, match="square grey images"):
        table.build_model(s, "uniform", 780, 256)


def test_the_image_table_caption_names_the_multiscale_flows_and_the_dense_row():
    from dgmlib import experiments
    from dgmlib.experiments import dequantization as table
    from dgmlib.experiments.base import settings_record

    s = settings_record(table.MNIST5K_IMAGES)
    rows = [{"model": m, "seed": seed, "test_bound_bpd": 1.2 + i + seed / 10, "test_iw_bpd": 1.1 + i,
             "train_bound_bpd": 1.0 + i, "best_epoch": 10, "parameters": 100 * (i + 1)}
            for i, m in enumerate(s["models"]) for seed in (0, 1)]
    caption, frame = experiments.table("dequantization", {"settings": s, "rows": rows})
    assert list(frame.index) == ["uniform", "variational", "dense_uniform", "vae"]
    assert frame.loc["uniform", "test bound"] == "1.250 ± 0.071" and frame.loc["vae", "parameters"] == 400
    assert "multi-scale convolutional flows (3 scales, 2/2/2 couplings" in caption and "(dense_uniform)" in caption
    assert "1.078" in frame.loc["uniform", "paper (MNIST)"] and "1.043" in frame.loc["variational", "paper (MNIST)"]


def test_a_quick_image_table_task_trains_a_multiscale_flow_at_784_pixels_in_bits_per_dim():
    from dgmlib.experiments import dequantization as table

    row = table.run_task(table.QUICK_IMAGES, "variational", 0, "cpu")
    assert row["model"] == "variational" and row["epochs_run"] == 1
    assert row["parameters"] == sum(p.numel() for p in table.build_model(table.QUICK_IMAGES, "variational", 784,
                                                                          256).parameters())
    assert 0 < row["test_iw_bpd"] <= row["test_bound_bpd"] + 0.05 < 8       # below the 8 bits of a uniform model
    assert row["test_bound_bpd"] == pytest.approx(-row["test_bound_nats"] / (784 * math.log(2)))
    assert "test_iw_bpd_K4" not in row                                     # no K sweep asked for


def test_an_image_table_with_a_k_sweep_records_the_iw_bound_at_each_k_and_more_draws_tighten_it():
    import dataclasses

    from dgmlib.experiments import dequantization as table

    s = dataclasses.replace(table.QUICK_IMAGES, iw_K=2, iw_Ks=(16,))
    row = table.run_task(s, "uniform", 0, "cpu")
    assert row["test_iw_bpd_K2"] == row["test_iw_bpd"]
    assert row["test_iw_bpd_K16"] < row["test_iw_bpd_K2"] <= row["test_bound_bpd"] + 0.05


@pytest.mark.parametrize("temperature", [0.0, 0.7, 1.0])
def test_a_flow_sample_at_temperature_t_is_the_flow_of_t_times_a_standard_normal_draw(temperature):
    from dgmlib.dequantization import build_dequantized_image_flow

    torch.manual_seed(3)
    model = build_dequantized_image_flow((1, 4, 4), L, "uniform", scales=2, couplings=1, hidden=4, blocks=1)
    model.log_weights(grey(8, dim=16), K=2)                              # ActNorm's data-dependent init
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))                            # away from the identity start
        torch.manual_seed(5)
        eps = torch.randn(6, 16, dtype=next(model.parameters()).dtype)
        y = torch.sigmoid(model.density.flow(temperature * eps)[0])      # the logit transform's inverse
        y = (y - model.squash.alpha) / (1 - 2 * model.squash.alpha)
        want = torch.floor(y * L).clamp(0, L - 1) / (L - 1)
    torch.manual_seed(5)
    got = model.sample(6, temperature=temperature)
    assert torch.allclose(got, want)
    if temperature == 0.0:                                               # every draw is the base's mode
        assert (got == got[0]).all()
    else:
        assert not (got == got[0]).all()
    torch.manual_seed(5)
    if temperature == 1.0:
        assert torch.equal(model.sample(6), got)                         # the default samples the model


@pytest.mark.parametrize("bad", [-0.5, float("nan"), "warm"])
def test_a_negative_or_non_numeric_temperature_is_refused(bad):
    model = build_dequantized_flow(16, L, "uniform", layers=2, hidden=(8,))
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=bad)
