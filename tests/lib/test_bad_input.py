"""Bad input gives a clear error, never a silent wrong number: one test per case that a new user
hit (issue: "Bad input never gives a silent wrong number"), per entry point, and a property-based
sweep over shapes and values of the objectives."""
import math
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import dgmlib
from dgmlib import validation


def vae(D=6, d=2, **kw):
    torch.manual_seed(0)
    return dgmlib.build_vae(D, d, hidden=(8,), **kw)


def binary(n=4, D=6, seed=0):
    return torch.randint(0, 2, (n, D), generator=torch.Generator().manual_seed(seed)).to(torch.get_default_dtype())


# ------------------------------------------------------------------ checkpoints

def test_a_checkpoint_with_64_bytes_overwritten_in_the_middle_is_refused(tmp_path):
    path = tmp_path / "vae.pt"
    dgmlib.save_checkpoint(path, dgmlib.build_vae(64, 8, hidden=(128,)))
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 64] = bytes(range(64))
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"vae\.pt"):
        dgmlib.load_checkpoint(path)


def test_truncated_foreign_and_missing_checkpoint_files_are_refused_by_name(tmp_path):
    path = tmp_path / "vae.pt"
    dgmlib.save_checkpoint(path, vae())
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        dgmlib.load_checkpoint(path)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a dgmlib checkpoint"):
        dgmlib.load_checkpoint(tmp_path / "foreign.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="text.pt"):
        dgmlib.load_checkpoint(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        dgmlib.load_checkpoint(tmp_path / "absent.pt")


def test_a_float64_model_comes_back_float64(tmp_path):
    model = vae().double()
    dgmlib.save_checkpoint(tmp_path / "m.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "m.pt")
    assert next(loaded.parameters()).dtype == torch.float64
    x = binary().double()
    torch.manual_seed(3)
    a = model.eval().log_weights(x, 4)
    torch.manual_seed(3)
    assert torch.equal(loaded.log_weights(x, 4), a)


def test_a_save_killed_mid_write_keeps_the_old_file_and_the_next_save_removes_its_temporary(tmp_path):
    path = tmp_path / "m.pt"
    dgmlib.save_checkpoint(path, vae())
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, time, torch, dgmlib
        def stall(fd):
            print("writing", flush=True); time.sleep(60)
        os.fsync = stall
        dgmlib.save_checkpoint({str(path)!r}, dgmlib.build_vae(6, 3, hidden=(8,)))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stale = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert stale and path.read_bytes() == before            # the old checkpoint is intact
    dgmlib.load_checkpoint(path)
    dgmlib.save_checkpoint(path, vae())
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


# ------------------------------------------------------------------ data outside the model's support

def test_grey_levels_fed_to_a_bernoulli_model_are_refused():
    model, grey = vae(), binary() * 0.5 + 0.25
    for call in (lambda: dgmlib.elbo(model, grey), lambda: dgmlib.iwae_bound(model, grey, K=3),
                 lambda: dgmlib.log_marginal_likelihood(model, grey, K=10),
                 lambda: dgmlib.elbo_surgery(model, grey)):
        with pytest.raises(ValueError, match="binary"):
            call()
    levels = dgmlib.load("digits", binarize=False).train[:4]          # 0..16 / 16
    with pytest.raises(ValueError, match="binary"):
        dgmlib.build_vae(64, 2, hidden=(8,)).log_weights(levels, 2)


def test_off_grid_values_are_refused_by_a_discretized_likelihood():
    model = vae(likelihood="discretized_logistic")
    with pytest.raises(ValueError, match="grey levels"):
        model.log_weights(torch.full((2, 6), 0.03), 2)
    assert torch.isfinite(model.log_weights(torch.full((2, 6), 0.25), 2)).all()   # 4/16 is on the grid


# ------------------------------------------------------------------ NaN and inf

@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_data_is_refused_at_every_entry_point(value):
    model, x = vae(), binary()
    x[1, 2] = value
    calls = {"elbo": lambda: dgmlib.elbo(model, x), "iwae_bound": lambda: dgmlib.iwae_bound(model, x),
             "log_weights": lambda: model.log_weights(x, 2),
             "log_marginal_likelihood": lambda: dgmlib.log_marginal_likelihood(model, x, K=5),
             "active_units": lambda: dgmlib.active_units(model, x),
             "elbo_surgery": lambda: dgmlib.elbo_surgery(model, x), "marginal_kl": lambda: dgmlib.marginal_kl(model, x)}
    for name, call in calls.items():
        counts = "1 NaN and 0 infinite" if math.isnan(value) else "0 NaN and 1 infinite"
        with pytest.raises(ValueError, match=rf"x contains {counts} values \(rows \[1\]\)"):
            call()


def test_log_marginal_likelihood_refuses_to_return_non_finite_rows():
    model = vae()
    with torch.no_grad():
        model.decoder[-1].bias[0] = math.nan
    with pytest.raises(FloatingPointError, match="not finite for 4 of 4"):
        dgmlib.log_marginal_likelihood(model, binary(), K=5)


# ------------------------------------------------------------------ shapes, K, sizes

def test_a_wrong_feature_count_names_the_expected_shape():
    with pytest.raises(ValueError, match=r"\[batch, 6\].*got shape \(4, 5\)"):
        dgmlib.elbo(vae(), binary(D=5))
    hvae = dgmlib.HierarchicalVAE(6, 2, 2, hidden=(8,))
    with pytest.raises(ValueError, match=r"\[batch, 6\]"):
        hvae.log_weights(binary(D=7), 2)


def test_linear_gaussian_refuses_inputs_that_would_broadcast():
    lg = dgmlib.LinearGaussian.random(2, 1, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"\[batch, 2\].*got shape \(2, 1\)"):
        lg.log_marginal(torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"\[batch, 2\]"):
        lg.posterior(torch.zeros(2))


@pytest.mark.parametrize("K", [0, -1, 2.5, True, "5", None])
def test_the_number_of_samples_must_be_a_whole_number_of_at_least_one(K):
    model, x = vae(), binary()
    for call in (lambda: model.log_weights(x, K), lambda: dgmlib.iwae_bound(model, x, K=K),
                 lambda: dgmlib.log_marginal_likelihood(model, x, K=K)):
        with pytest.raises(ValueError, match=f"K must be a whole, positive number.*got {K!r}"):
            call()


def test_batch_sizes_and_chunks_of_zero_and_empty_data_are_refused():
    model = vae()
    with pytest.raises(ValueError, match="batch_size must be a whole, positive number"):
        dgmlib.log_marginal_likelihood(model, binary(), K=5, batch_size=0)
    with pytest.raises(ValueError, match="chunk must be"):
        dgmlib.log_marginal_likelihood(model, binary(), K=5, chunk=0)
    with pytest.raises(ValueError, match="x is empty"):
        dgmlib.log_marginal_likelihood(model, binary(n=0), K=5)
    with pytest.raises(ValueError, match="x is empty"):
        dgmlib.active_units(model, binary(n=0))


def test_wrong_dtype_and_non_tensor_inputs_are_refused():
    model = vae()
    with pytest.raises(ValueError, match="move one of them"):
        model.log_weights(binary().to(torch.float16), 2)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model.log_weights([[0.0] * 6], 2)


def test_priors_and_flows_name_the_dimension_they_expect():
    for prior in (dgmlib.StandardNormal(3), dgmlib.MixtureOfGaussians(3, 4), dgmlib.FlowPrior(3, 1, (8,))):
        with pytest.raises(ValueError, match=r"\[\.\.\., 3\]"):
            prior.log_prob(torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"expected \[\.\.\., 3\]"):
        dgmlib.flows.PlanarFlow(3)(torch.zeros(5, 2))


def test_vampprior_pseudo_inputs_follow_the_encoders_dtype_and_device(device):
    encoder = dgmlib.nets.mlp_encoder(6, (8,), 2).to(device=device, dtype=torch.float64)
    prior = dgmlib.VampPrior(encoder, 5, x_dim=6)
    assert prior.pseudo_inputs.dtype == torch.float64 and prior.pseudo_inputs.device.type == device.type
    z = torch.zeros(3, 2, dtype=torch.float64, device=device)
    assert torch.isfinite(prior.log_prob(z)).all() and prior.sample(4).dtype == torch.float64


def test_value_checks_can_be_switched_off_and_come_back_on():
    model, grey = vae(), binary() * 0.5
    with validation.off():
        assert not validation.enabled()
        model.log_weights(grey, 2)                    # no value check: the caller checked the data
        with pytest.raises(ValueError, match=r"\[batch, 6\]"):
            model.log_weights(binary(D=5), 2)          # shape checks stay
    assert validation.enabled()
    with pytest.raises(ValueError, match="binary"):
        model.log_weights(grey, 2)


# ------------------------------------------------------------------ a property-based sweep

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(0, 4), cols=st.integers(4, 8), K=st.one_of(st.integers(-1, 4), st.floats(-1, 4)),
       fill=st.sampled_from([0.0, 1.0, 0.5, 2.0, math.nan, math.inf]), objective=st.sampled_from(["elbo", "iwae"]))
def test_objectives_either_return_finite_per_example_values_or_raise_a_clear_error(rows, cols, K, fill, objective):
    model = MODEL
    x = torch.zeros(rows, cols)
    if rows:
        x[0, 0] = fill
    f = dgmlib.elbo if objective == "elbo" else dgmlib.iwae_bound
    valid = rows >= 1 and cols == 6 and fill in (0.0, 1.0) and K == int(K) and K >= 1
    if valid:
        out = f(model, x, K=K)
        assert out.shape == (rows,) and torch.isfinite(out).all() and bool((out <= 0).all())
    else:
        with pytest.raises(ValueError, match=r"^(x|K) "):
            f(model, x, K=K)


MODEL = dgmlib.build_vae(6, 2, hidden=(8,))
