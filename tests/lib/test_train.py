import functools
import math
import os

import pytest
import torch

import dgmlib
from dgmlib import train as train_mod


def small_model(seed=0, **kw):
    dgmlib.seed_everything(seed)
    return dgmlib.build_vae(x_dim=64, z_dim=kw.pop("z_dim", 4), hidden=kw.pop("hidden", (32,)), **kw)


def test_fit_improves_the_validation_elbo(digits):
    model = small_model()
    before = train_mod.evaluate(model, digits.val)
    history = dgmlib.fit(model, digits, epochs=15, lr=3e-3, progress=False)
    assert len(history) == 15 and history.epoch == list(range(1, 16))
    # a 64-pixel image starts near 64 log(1/2) = -44 nats; training must gain at least 10
    assert history.val[-1] > before + 10
    assert history.train[-1] > history.train[0]
    assert history.objective == "elbo"


def test_seeded_training_is_bit_for_bit_repeatable_on_cpu(digits):
    runs = []
    for _ in range(2):
        model = small_model(seed=3)
        h = dgmlib.fit(model, digits, epochs=2, seed=5, progress=False)
        runs.append((model.state_dict(), h.train))
    (s1, t1), (s2, t2) = runs
    assert t1 == t2
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_fit_takes_a_tensor_and_partial_objectives(digits):
    model = small_model()
    h = dgmlib.fit(model, digits.train[:256], epochs=2, progress=False,
                   objective=functools.partial(dgmlib.iwae_bound, K=3))
    assert h.objective == "iwae_bound" and all(math.isnan(v) for v in h.val)
    with pytest.raises(TypeError, match="Dataset"):
        dgmlib.fit(model, [[0.0] * 64], epochs=1)


def test_fit_raises_on_nan_names_epoch_and_batch_restores_the_weights_and_keeps_the_last_checkpoint(digits, tmp_path):
    calls = {"n": 0}
    n_batches = math.ceil(len(digits.train) / 128)

    def poisoned(model, x):
        value = dgmlib.elbo(model, x)
        if not model.training:                    # validation stays finite
            return value
        calls["n"] += 1
        return value * math.nan if calls["n"] > n_batches + 2 else value  # NaN from batch 2 of epoch 2

    model = small_model()
    path = tmp_path / "run.pt"
    with pytest.raises(FloatingPointError, match=f"epoch 2, batch 2 \\(of {n_batches}\\)"):
        dgmlib.fit(model, digits, epochs=3, objective=poisoned, checkpoint=path, progress=False)
    restored, history = dgmlib.load_checkpoint(path)
    assert len(history) == 1 and math.isfinite(history.train[0])
    state = model.state_dict()                    # in memory: back at the start of epoch 2 = the checkpoint
    assert all(torch.isfinite(v).all() for v in state.values())
    assert all(torch.equal(state[k], v) for k, v in restored.state_dict().items())


def test_a_non_finite_validation_score_writes_no_checkpoint(digits, tmp_path):
    path = tmp_path / "run.pt"
    history = dgmlib.fit(small_model(), digits, epochs=2, batch_size=256, checkpoint=path, progress=False,
                         validate=_Scores([float("nan"), float("nan")]))
    assert math.isnan(history.val[0]) and history.best_epoch is None and not path.exists()


def test_fit_checks_the_data_before_the_first_step(digits):
    model = small_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bad = digits.train.clone()
    bad[7, 3] = math.nan
    with pytest.raises(ValueError, match=r"the training data contains 1 NaN.*rows \[7\]"):
        dgmlib.fit(model, bad, epochs=1, progress=False)
    with pytest.raises(ValueError, match="binary"):
        dgmlib.fit(model, digits.train * 0.5, epochs=1, progress=False)
    with pytest.raises(ValueError, match="the training data is empty"):
        dgmlib.fit(model, digits.train[:0], epochs=1, progress=False)
    with pytest.raises(ValueError, match="batch_size must be a whole, positive number"):
        dgmlib.fit(model, digits, epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        dgmlib.fit(model, digits, epochs=2.5, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())   # nothing was trained


def test_checkpoint_round_trip_restores_weights_config_and_history(digits, tmp_path, tol):
    model = small_model(z_dim=3)
    history = dgmlib.fit(model, digits, epochs=1, progress=False)
    path = tmp_path / "sub" / "vae.pt"
    dgmlib.save_checkpoint(path, model, history)
    loaded, h2 = dgmlib.load_checkpoint(path)
    assert loaded.config == model.config and not loaded.training
    assert h2 == history
    torch.manual_seed(0)
    a = model.log_weights(digits.test[:5], K=3)
    torch.manual_seed(0)
    b = loaded.log_weights(digits.test[:5], K=3)
    assert torch.allclose(a, b, rtol=tol, atol=tol)
    # loading into an existing model of the same config also works
    fresh = small_model(seed=9, z_dim=3)
    dgmlib.load_checkpoint(path, model=fresh)
    assert all(torch.equal(fresh.state_dict()[k], model.state_dict()[k]) for k in fresh.state_dict())


def test_loading_a_missing_corrupt_or_foreign_file_raises_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        dgmlib.load_checkpoint(tmp_path / "absent.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00not a zip file at all")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        dgmlib.load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="not a dgmlib checkpoint"):
        dgmlib.load_checkpoint(foreign)


def test_truncated_checkpoint_is_reported_as_corrupt(tmp_path):
    path = tmp_path / "vae.pt"
    dgmlib.save_checkpoint(path, small_model())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        dgmlib.load_checkpoint(path)


def test_loading_into_a_mismatched_model_raises(tmp_path):
    path = tmp_path / "vae.pt"
    dgmlib.save_checkpoint(path, small_model(z_dim=4))
    with pytest.raises(ValueError, match="does not match"):
        dgmlib.load_checkpoint(path, model=small_model(z_dim=5))
    # same config, a weight removed: the content hash catches it; with the hash recomputed (a file
    # written by other code), the state dict check does
    payload = torch.load(path, weights_only=True)
    payload["state_dict"].pop(next(iter(payload["state_dict"])))
    torch.save(payload, path)
    with pytest.raises(ValueError, match="is corrupt"):
        dgmlib.load_checkpoint(path)
    payload["sha256"] = dgmlib.checkpoints.content_hash(payload["state_dict"])
    torch.save(payload, path)
    with pytest.raises(ValueError, match="do not fit the model"):
        dgmlib.load_checkpoint(path)


def test_save_is_atomic_and_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "vae.pt"
    model = small_model()
    dgmlib.save_checkpoint(path, model)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(train_mod.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        dgmlib.save_checkpoint(path, small_model(seed=1))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["vae.pt"]  # no temporary file left behind


def test_save_needs_a_config():
    lg = dgmlib.LinearGaussian.random(3, 1)
    with pytest.raises(ValueError, match="no config"):
        dgmlib.save_checkpoint("unused.pt", lg.as_vae())


class _StepRecorder:
    """An objective that records the steps fit announces (a scheduled objective's interface)."""
    __name__ = "step_recorder"

    def __init__(self):
        self.steps = []

    def set_step(self, step):
        self.steps.append(step)

    def __call__(self, model, x):
        return dgmlib.elbo(model, x)


def test_fit_announces_the_optimizer_step_to_scheduled_objectives_and_calls_back_each_epoch(digits):
    model = small_model()
    objective, seen = _StepRecorder(), []
    x = digits.train[:250]
    history = dgmlib.fit(model, x, epochs=3, objective=objective, batch_size=100, progress=False,
                         callback=lambda epoch, m: seen.append((epoch, m is model, m.training)))
    assert objective.steps == list(range(9))        # 3 batches per epoch (100, 100, 50), counted from 0
    assert seen == [(1, True, True), (2, True, True), (3, True, True)]
    assert history.objective == "step_recorder"


def test_fit_with_an_annealed_elbo_warms_the_kl_weight_up(digits):
    from dgmlib.objectives import AnnealedELBO
    from dgmlib.schedules import LinearWarmup

    objective, betas = AnnealedELBO(LinearWarmup(20)), []
    dgmlib.fit(small_model(), digits.train[:500], epochs=5, objective=objective, batch_size=100,
               progress=False, callback=lambda epoch, m: betas.append(objective.beta))
    assert betas == [0.2, 0.45, 0.7, 0.95, 1.0]     # beta at the last step of each epoch (steps 4, 9, ...)


class _Scores:
    """A validate callback returning a known score per call, recording the state and the mode it saw."""

    def __init__(self, scores):
        self.scores, self.states, self.modes = list(scores), [], []

    def __call__(self, model, x):
        self.states.append({k: v.clone() for k, v in model.state_dict().items()})
        self.modes.append((model.training, torch.is_grad_enabled()))
        return self.scores[len(self.states) - 1]


def _same_state(model, state):
    return all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("keep_best", [True, False])
def test_fit_with_keep_best_ends_in_exactly_the_best_validated_state(digits, keep_best):
    model, validate = small_model(), _Scores([1.0, 3.0, 2.0, float("nan"), 0.5])
    history = dgmlib.fit(model, digits, epochs=5, batch_size=256, validate=validate, keep_best=keep_best,
                         progress=False)
    assert history.val == [1.0, 3.0, 2.0, history.val[3], 0.5] and math.isnan(history.val[3])
    assert (history.best_epoch, history.best_val) == (2, 3.0)   # a NaN never counts as an improvement
    assert _same_state(model, validate.states[1 if keep_best else 4])
    assert not _same_state(model, validate.states[4 if keep_best else 1])
    assert validate.modes == [(False, False)] * 5 and not model.training   # eval mode, no gradients


def test_fit_with_patience_stops_at_the_first_check_that_many_epochs_after_the_best(digits):
    validate = _Scores([1.0, 2.0, 1.5, 1.9, 9.0])
    history = dgmlib.fit(small_model(), digits, epochs=20, batch_size=256, validate=validate, patience=2,
                         progress=False)
    assert len(history) == 4 and (history.best_epoch, history.best_val) == (2, 2.0)
    # checks every 3 epochs: the best at 3, none at 6, none at 9 (9 - 3 >= patience 5): stop after 9
    validate, model = _Scores([1.0, 0.5, 0.7, 9.0]), small_model()
    history = dgmlib.fit(model, digits, epochs=30, batch_size=256, val_every=3, validate=validate,
                         patience=5, keep_best=True, progress=False)
    assert len(history) == 9 and history.best_epoch == 3 and len(validate.states) == 3
    assert _same_state(model, validate.states[0])


def test_fit_selects_and_counts_patience_only_from_select_from(digits):
    # the warm-up's scores (epochs 1-3) fall after a high first one: without select_from, patience 2
    # stops at epoch 3 in the epoch-1 state; with select_from=4 the run goes on and selects epoch 5
    scores = [5.0, 2.0, 1.0, 3.0, 4.0, 3.5, 3.0, 2.0]
    model, validate = small_model(), _Scores(scores)
    history = dgmlib.fit(model, digits, epochs=8, batch_size=256, validate=validate, patience=2,
                         keep_best=True, progress=False)
    assert len(history) == 3 and history.best_epoch == 1
    model, validate = small_model(), _Scores(scores)
    history = dgmlib.fit(model, digits, epochs=8, batch_size=256, validate=validate, patience=2,
                         keep_best=True, select_from=4, progress=False)
    assert len(history) == 7 and (history.best_epoch, history.best_val) == (5, 4.0)
    assert history.val[:3] == scores[:3] and _same_state(model, validate.states[4])
    # the best at select_from, then non-finite scores: stop patience epochs later
    history = dgmlib.fit(small_model(), digits, epochs=20, batch_size=256, validate=_Scores([9.0] * 3 + [
        float("nan")] * 17), patience=2, select_from=3, progress=False)
    assert (history.best_epoch, len(history)) == (3, 5)
    with pytest.raises(ValueError, match="select_from"):
        dgmlib.fit(small_model(), digits, epochs=1, select_from=0, progress=False)


def test_fit_records_the_best_validation_objective_without_a_validate_callback(digits):
    history = dgmlib.fit(small_model(), digits, epochs=3, batch_size=256, val_every=2, progress=False)
    validated = [v for v in history.val if not math.isnan(v)]
    assert len(validated) == 2 and history.best_val == max(validated)
    assert history.best_epoch == history.epoch[history.val.index(history.best_val)]
    plain = dgmlib.fit(small_model(), digits.train[:100], epochs=1, progress=False)
    assert plain.best_epoch is None and plain.best_val is None
    old = {k: v for k, v in history.as_dict().items() if k not in ("best_epoch", "best_val")}
    assert dgmlib.History.from_dict(old).best_epoch is None   # checkpoints from before these fields


def test_model_selection_needs_validation_data(digits):
    for options in ({"keep_best": True}, {"patience": 3}, {"validate": lambda m, x: 0.0}):
        with pytest.raises(ValueError, match="validation data"):
            dgmlib.fit(small_model(), digits.train[:100], epochs=1, progress=False, **options)
    with pytest.raises(ValueError, match="patience"):
        dgmlib.fit(small_model(), digits, epochs=1, progress=False, patience=0)


def _float32(model, x):
    return model.to(torch.float32), x.to(torch.float32)


def test_mixed_precision_runs_the_networks_in_bfloat16_and_every_log_density_in_float32(digits):
    from dgmlib.distributions import bernoulli_log_prob, gaussian_log_prob

    model, x = _float32(small_model(hidden=(64, 64)), digits.val[:32])
    dgmlib.seed_everything(1)
    full = model.terms(x, K=3)
    model.autocast = torch.bfloat16
    dgmlib.seed_everything(1)
    mixed = model.terms(x, K=3)
    assert all(t.dtype == torch.float32 for t in mixed)
    # peer computation: the bfloat16 networks' outputs, then float32 densities of them
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mu, logvar = model.encoder(x)
        logits = model.decoder(mixed.z)
    assert mu.dtype == logits.dtype == torch.bfloat16
    assert torch.equal(mixed.mu, mu.float()) and torch.equal(mixed.logvar, logvar.float())
    assert torch.equal(mixed.log_px_z, bernoulli_log_prob(x, logits.float()))
    assert torch.allclose(mixed.log_qz, gaussian_log_prob(mixed.z, mixed.mu, mixed.logvar))
    # bfloat16 keeps 8 bits of mantissa: the weights move, but by far less than a nat per image
    gap = (mixed.log_w - full.log_w).abs()
    assert 0 < gap.max() < 0.05


def test_fit_with_mixed_precision_trains_and_leaves_the_model_in_full_precision(digits):
    model = small_model().to(torch.float32)
    before = train_mod.evaluate(model, digits.val.float())
    history = dgmlib.fit(model, digits.train.float(), epochs=15, lr=3e-3, progress=False,
                         mixed_precision=True)
    after = train_mod.evaluate(model, digits.val.float())
    assert math.isfinite(history.train[-1]) and after > before + 10   # as in full precision (above)
    assert model.autocast is None
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # fit restores the model's own setting after training in the precision it was asked for
    model.autocast = torch.bfloat16
    dgmlib.fit(model, digits.train[:100].float(), epochs=1, progress=False)
    assert model.autocast is torch.bfloat16


def test_mixed_precision_refuses_what_it_does_not_cover(digits):
    from dgmlib import HierarchicalVAE

    with pytest.raises(ValueError, match="float32 parameters"):
        dgmlib.fit(small_model().to(torch.float64), digits.train.double(), epochs=1,
                   progress=False, mixed_precision=True)
    hvae = HierarchicalVAE(64, z1_dim=4, z2_dim=2, hidden=(16,)).to(torch.float32)
    with pytest.raises(ValueError, match="implemented for dgmlib.VAE"):
        dgmlib.fit(hvae, digits.train.float(), epochs=1, progress=False, mixed_precision=True)


def test_fit_synchronizes_with_the_host_once_per_epoch_not_per_batch(device):
    import warnings

    if device.type != "cuda":
        pytest.skip("host synchronization is a GPU matter: run with --device cuda")
    x = torch.bernoulli(torch.full((2048, 64), 0.3)).to(device)

    def syncs(batch_size):
        model = small_model().to(device)
        opt = torch.optim.Adam(model.parameters())
        dgmlib.fit(model, x, epochs=1, batch_size=2048, optimizer=opt, progress=False)  # warm-up
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                dgmlib.fit(model, x, epochs=1, batch_size=batch_size, optimizer=opt, progress=False)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        return sum("synchroniz" in str(w.message) for w in caught)

    per_epoch = syncs(64)
    assert per_epoch >= 1, "the sync debug mode caught nothing: the test would pass vacuously"
    assert syncs(1024) == per_epoch  # 2 batches or 32: the same syncs (the epoch's own)


def _epoch_recorder():
    """An ELBO objective that records the sum of the images of each epoch (per-pixel counts)."""
    seen = []

    def recording_elbo(model, x):
        if model.training:                              # not the validation passes
            seen.append(x.detach().sum(0))
        return dgmlib.elbo(model, x)
    return recording_elbo, seen


def test_fit_redraws_a_dynamically_binarized_training_set_every_epoch_and_is_seeded():
    grey = dgmlib.load("digits", binarize="none")
    dynamic = dgmlib.data.binarize_dynamically(grey)
    counts = {}
    for run in ("a", "b"):
        objective, seen = _epoch_recorder()
        dgmlib.fit(small_model(), dynamic, epochs=2, objective=objective, batch_size=1297, seed=4,
                   progress=False)
        counts[run] = seen
    (e1, e2), (f1, _) = counts["a"], counts["b"]
    assert not torch.equal(e1, e2)                     # fresh Bernoulli draws in the second epoch
    assert torch.equal(e1, f1)                         # the same seed draws the same images
    # the draws follow the grey levels, not the fixed copy: each epoch's pixel counts are within
    # 5 standard deviations of the expected counts sum_n level_nd (seeded, so deterministic)
    mean = grey.train.double().sum(0)
    sd = (grey.train.double() * (1 - grey.train.double())).sum(0).sqrt()
    assert bool(((e1.double() - mean).abs() <= 5 * sd + 1e-9).all())
    objective, seen = _epoch_recorder()
    dgmlib.fit(small_model(), dgmlib.load("digits"), epochs=2, objective=objective, batch_size=1297,
               progress=False)
    assert torch.equal(seen[0], seen[1])               # a static set is the same every epoch
