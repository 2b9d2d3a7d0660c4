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


def test_fit_raises_on_nan_and_keeps_the_last_finite_checkpoint(digits, tmp_path):
    calls = {"n": 0}
    n_batches = math.ceil(len(digits.train) / 128)

    def poisoned(model, x):
        calls["n"] += 1
        value = dgmlib.elbo(model, x)
        return value * math.nan if calls["n"] > n_batches else value  # NaN from epoch 2 on

    model = small_model()
    path = tmp_path / "run.pt"
    with pytest.raises(FloatingPointError, match="epoch 2"):
        dgmlib.fit(model, digits, epochs=3, objective=poisoned, checkpoint=path, progress=False)
    restored, history = dgmlib.load_checkpoint(path)
    assert len(history) == 1 and math.isfinite(history.train[0])
    assert all(torch.isfinite(v).all() for v in restored.state_dict().values())


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
    # same config, tampered weights: the state dict check catches it
    payload = torch.load(path, weights_only=True)
    payload["state_dict"].pop(next(iter(payload["state_dict"])))
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
