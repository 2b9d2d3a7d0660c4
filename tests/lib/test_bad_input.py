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


# ------------------------------------------------------------------ one table: entry points x bad inputs
#
# Every public function and method of the newer modules that takes data is a row of ENTRIES (or of
# LABEL_ENTRIES, for labels); each is tried with every bad input of CASES. Public names that take
# no data are listed in NO_DATA with the reason, and a test walks the modules, so a new entry point
# must be added to one of them.

import inspect
import warnings

from dgmlib import cross_modal, inference_gaps as gaps, mutual_information as mi, semi_supervised as ss
from dgmlib.models import cross_modal_vae as cmv, deep_hierarchical as dh, hierarchical as hier
from dgmlib.models import semi_supervised as m2


def _models():
    torch.manual_seed(0)
    dtype = torch.get_default_dtype()
    return {"vae": dgmlib.build_vae(6, 2, hidden=(8,)).to(dtype),
            "deep": dgmlib.DeepHierarchicalVAE(6, [3, 2], hidden=(8,)).to(dtype),
            "hier": dgmlib.HierarchicalVAE(6, 2, 2, hidden=(8,)).to(dtype),
            "m2": m2.SemiSupervisedVAE(6, 3, z_dim=2, hidden=(8,)).to(dtype),
            "cm": cmv.CrossModalVAE({"img": (6, "bernoulli"), "pos": (2, "gaussian"), "cls": (3, "categorical")},
                                    z_dim=2, hidden=(8,)).to(dtype),
            "lg": dgmlib.LinearGaussian.random(6, 2, generator=torch.Generator().manual_seed(0), dtype=dtype)}


M = _models()
N = 4                                                      # rows of the good batch
LABELS = torch.tensor([0, 2, 1, 2])
POS = torch.randn(N, 2, generator=torch.Generator().manual_seed(2))


def _q(B):
    """A Posterior and noise for B rows of the 2-dimensional VAE."""
    zeros = torch.zeros(B, 2)
    return gaps.Posterior(zeros, zeros, None)


def _trained(history):
    """The epoch means of the pairs that got a batch (with 4 rows, most pairs get none: NaN by design)."""
    return [v for v in history.values() if not math.isnan(v[0])]


def _cm_data(img, cls=LABELS):
    B = len(img)
    return {"img": img, "pos": POS[:B].to(img.dtype), "cls": cls[:B]}


#: name -> (call(x), support: values outside the likelihood's support are refused, min batch size)
ENTRIES = {
    # inference_gaps
    "inference_gaps.refine_posterior": (lambda x: gaps.refine_posterior(M["vae"], x, steps=2, K=2, eval_K=3, check_K=3, warn=False), True, 1),
    "inference_gaps.inference_gaps": (lambda x: gaps.inference_gaps(M["vae"], x, steps=2, K=2, eval_K=3, ll_K=3, warn=False), True, 1),
    "inference_gaps.encoder_posterior": (lambda x: gaps.encoder_posterior(M["vae"], x), False, 1),
    "inference_gaps.log_weights_given": (lambda x: gaps.log_weights_given(M["vae"], x, _q(len(x)), torch.zeros(2, len(x), 2)), True, 1),
    "inference_gaps.log_marginal_given": (lambda x: gaps.log_marginal_given(M["vae"], x, _q(len(x)), K=3), True, 1),
    # mutual_information
    "mutual_information.encoder_scores": (lambda x: mi.encoder_scores(M["vae"], x), False, 2),
    # semi_supervised (the training loops of M2 and its baseline)
    "semi_supervised.fit_semi_supervised": (lambda x: ss.fit_semi_supervised(M["m2"], x, LABELS[:len(x)], x, epochs=1, alpha=0.1), True, 1),
    "semi_supervised.fit_conditional": (lambda x: ss.fit_conditional(M["m2"], x, LABELS[:len(x)], epochs=1), True, 1),
    "semi_supervised.fit_classifier": (lambda x: ss.fit_classifier(x, LABELS[:len(x)], 3, hidden=(4,), epochs=1), False, 1),
    # cross_modal (the closed-form bound of two linear-Gaussian views)
    "cross_modal.linear_gaussian_cross_modal_bound": (lambda x: cross_modal.linear_gaussian_cross_modal_bound(M["lg"], M["lg"], x, x), False, 1),
    "cross_modal.linear_gaussian_cross_modal_gap": (lambda x: cross_modal.linear_gaussian_cross_modal_gap(M["lg"], M["lg"], x, x), False, 1),
    # the M2 model
    "SemiSupervisedVAE.classifier_log_probs": (lambda x: M["m2"].classifier_log_probs(x), True, 1),
    "SemiSupervisedVAE.labelled_elbo": (lambda x: M["m2"].labelled_elbo(x, LABELS[:len(x)]), True, 1),
    "SemiSupervisedVAE.labelled_bounds": (lambda x: M["m2"].labelled_bounds(x), True, 1),
    "SemiSupervisedVAE.unlabelled_elbo": (lambda x: M["m2"].unlabelled_elbo(x), True, 1),
    "SemiSupervisedVAE.terms": (lambda x: M["m2"].terms(x, 2), True, 1),
    "SemiSupervisedVAE.log_weights": (lambda x: M["m2"].log_weights(x, 2), True, 1),
    "SemiSupervisedVAE.loss": (lambda x: M["m2"].loss(x, LABELS[:len(x)], x), True, 1),
    "SemiSupervisedVAE.encode": (lambda x: M["m2"].encode(x, LABELS[:len(x)]), False, 1),
    "SemiSupervisedVAE.posterior_mean": (lambda x: M["m2"].posterior_mean(x), False, 1),
    "SemiSupervisedVAE.predict": (lambda x: M["m2"].predict(x), True, 1),
    "elbo(SemiSupervisedVAE)": (lambda x: dgmlib.elbo(M["m2"], x), True, 1),
    "evaluate(SemiSupervisedVAE)": (lambda x: dgmlib.evaluate(M["m2"], x), True, 1),
    "active_units(SemiSupervisedVAE)": (lambda x: dgmlib.active_units(M["m2"], x), False, 1),
    # the cross-modal VAE (x is the Bernoulli modality "img")
    "CrossModalVAE.check": (lambda x: M["cm"].check("img", x), True, 1),
    "CrossModalVAE.encode": (lambda x: M["cm"].encode("img", x), True, 1),
    "CrossModalVAE.log_likelihood": (lambda x: M["cm"].log_likelihood("img", x, torch.zeros(2, len(x), 2)), True, 1),
    "CrossModalVAE.bound": (lambda x: M["cm"].bound("img", "img", x, x, K=2), True, 1),
    "CrossModalVAE.bound (source)": (lambda x: M["cm"].bound("img", "pos", x, POS[:len(x)]), True, 1),
    "CrossModalVAE.predict": (lambda x: M["cm"].predict("img", "pos", x), True, 1),
    "cross_modal_vae.fit_cross_modal": (lambda x: _trained(cmv.fit_cross_modal(M["cm"], _cm_data(x), epochs=1)), True, 1),
    "cross_modal_vae.fit_direct (target)": (lambda x: cmv.fit_direct(POS[:len(x)], x, "bernoulli", hidden=(4,), epochs=1), True, 1),
    "cross_modal_vae.fit_direct (source)": (lambda x: cmv.fit_direct(x, POS[:len(x)], "gaussian", hidden=(4,), epochs=1), False, 1),
    # the deep hierarchical VAE
    "DeepHierarchicalVAE.terms": (lambda x: M["deep"].terms(x, 2), True, 1),
    "DeepHierarchicalVAE.log_weights": (lambda x: M["deep"].log_weights(x, 2), True, 1),
    "DeepHierarchicalVAE.log_joint": (lambda x: M["deep"].log_joint(x, torch.zeros(len(x), 5)), True, 1),
    "DeepHierarchicalVAE.log_joint_layers": (lambda x: M["deep"].log_joint_layers(x, [torch.zeros(len(x), 3), torch.zeros(len(x), 2)]), True, 1),
    "DeepHierarchicalVAE.reconstruct": (lambda x: M["deep"].reconstruct(x), False, 1),
    "DeepHierarchicalVAE.posterior_means": (lambda x: M["deep"].posterior_means(x, samples=3), False, 1),
    "DeepHierarchicalVAE.active_units_per_layer": (lambda x: M["deep"].active_units_per_layer(x, samples=3), False, 1),
    "deep_hierarchical.layerwise_elbo": (lambda x: dh.layerwise_elbo(M["deep"], x, beta=0.5, free_bits=0.1), True, 1),
    # the two-level hierarchical VAE
    "HierarchicalVAE.terms": (lambda x: M["hier"].terms(x, 2), True, 1),
    "HierarchicalVAE.log_weights": (lambda x: M["hier"].log_weights(x, 2), True, 1),
    "HierarchicalVAE.reconstruct": (lambda x: M["hier"].reconstruct(x), False, 1),
    "HierarchicalVAE.posterior_means": (lambda x: M["hier"].posterior_means(x, samples=3), False, 1),
    "metrics.active_units_per_level": (lambda x: dgmlib.active_units_per_level(M["hier"], x, samples=3), False, 1),
}

GREY = 0.5


def _nan(x):
    x = x.clone()
    x[1, 2] = math.nan
    return x


#: bad input -> (make it from the good batch, the error: (type, message pattern))
CASES = {
    "wrong feature count": (lambda x: x[:, :5], (ValueError, r"\[batch, 6\].*got shape \(4, 5\)")),
    "NaN": (_nan, (ValueError, r"contains 1 NaN and 0 infinite values \(rows \[1\]\)")),
    "outside the support": (lambda x: x * 0 + GREY, (ValueError, r"binary|0 or 1")),
    "empty batch": (lambda x: x[:0], (ValueError, r"is empty|B >= 2")),
    "batch of one": (lambda x: x[:1], None),        # works (finite values), or needs B >= 2 and says so
}

CELLS = [(entry, case) for entry in ENTRIES for case in CASES]
#: cells where the bad input is not bad: the entry works on it (checked: finite values), and why
NOT_BAD = {("semi_supervised.fit_classifier", "wrong feature count"): "it builds its network for the width of x",
           ("cross_modal_vae.fit_direct (source)", "wrong feature count"): "it builds its network for the width of x",
           ("cross_modal_vae.fit_direct (target)", "wrong feature count"): "it builds its network for the width of x"}


def _finite(out) -> bool:
    """Every number in a (nested) result is finite."""
    if isinstance(out, torch.Tensor):
        return not out.is_floating_point() or bool(torch.isfinite(out).all())
    if isinstance(out, float):
        return math.isfinite(out)
    if isinstance(out, dict):
        return all(_finite(v) for v in out.values())
    if isinstance(out, (tuple, list)):
        return all(_finite(v) for v in out)
    return True


@pytest.mark.parametrize("entry, case", CELLS, ids=[f"{e}-{c}" for e, c in CELLS])
def test_every_entry_point_refuses_each_bad_input_by_name_or_gives_finite_values(entry, case):
    call, support, min_batch = ENTRIES[entry]
    make, error = CASES[case]
    x = make(binary(N, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # refine_posterior's convergence notes
        if (case == "outside the support" and not support) or (entry, case) in NOT_BAD:
            assert _finite(call(x))                           # e.g. encoding alone takes any finite input
        elif case == "batch of one" and min_batch > 1:
            with pytest.raises(ValueError, match=r"B >= 2"):
                call(x)
        elif error is None:
            assert _finite(call(x))
        else:
            with pytest.raises(error[0], match=error[1]):
                call(x)


# labels: name -> call(x, y) for the entry points that take class labels (3 classes)
LABEL_ENTRIES = {
    "SemiSupervisedVAE.labelled_elbo": lambda x, y: M["m2"].labelled_elbo(x, y),
    "SemiSupervisedVAE.loss": lambda x, y: M["m2"].loss(x, y, x),
    "SemiSupervisedVAE.encode": lambda x, y: M["m2"].encode(x, y),
    "SemiSupervisedVAE.decode_means": lambda x, y: M["m2"].decode_means(torch.zeros(len(y), 2), y),
    "SemiSupervisedVAE.sample": lambda x, y: M["m2"].sample(len(y), y),
    "SemiSupervisedVAE.sample_means": lambda x, y: M["m2"].sample_means(len(y), y),
    "semi_supervised.fit_semi_supervised": lambda x, y: ss.fit_semi_supervised(M["m2"], x, y, x, epochs=1, alpha=0.1),
    "semi_supervised.fit_conditional": lambda x, y: ss.fit_conditional(M["m2"], x, y, epochs=1),
    "semi_supervised.fit_classifier": lambda x, y: ss.fit_classifier(x, y, 3, hidden=(4,), epochs=1),
    "models.semi_supervised.check_labels": lambda x, y: m2.check_labels(y, 3, len(x)),
    "CrossModalVAE.encode (labels)": lambda x, y: M["cm"].encode("cls", y),
    "CrossModalVAE.bound (label source)": lambda x, y: M["cm"].bound("cls", "img", y, x),
    "CrossModalVAE.bound (label target)": lambda x, y: M["cm"].bound("img", "cls", x, y),
    "CrossModalVAE.log_likelihood (labels)": lambda x, y: M["cm"].log_likelihood("cls", y, torch.zeros(2, len(x), 2)),
    "CrossModalVAE.predict (labels)": lambda x, y: M["cm"].predict("cls", "img", y),
    "cross_modal_vae.fit_cross_modal (labels)": lambda x, y: _trained(cmv.fit_cross_modal(M["cm"], _cm_data(x, y), epochs=1)),
    "cross_modal_vae.fit_direct (label target)": lambda x, y: cmv.fit_direct(x, y, "categorical", hidden=(4,), epochs=1),
}
#: the families differ in one case: M2 takes whole numbers stored as floats, the cross-modal VAE refuses floats
CROSS_MODAL = {name for name in LABEL_ENTRIES if "ross" in name or "fit_direct" in name}

LABEL_CASES = {   # case -> (labels from the good ones, expected for M2, expected for the cross-modal VAE)
    "int32": (lambda y: y.int(), None, None),
    "uint8": (lambda y: y.to(torch.uint8), None, None),
    "whole floats": (lambda y: y.to(torch.get_default_dtype()), None, (TypeError, "integer tensor")),
    "fractional floats": (lambda y: y.to(torch.get_default_dtype()) + 0.5, (ValueError, "whole class indices"),
                          (TypeError, "integer tensor")),
    "bool": (lambda y: y > 0, (ValueError, "bool"), (TypeError, "integer tensor")),
    "above the range": (lambda y: y + 3, (ValueError, r"0\.\.2"), (ValueError, r"0\.\.2")),
    "-1": (lambda y: y - 1, (ValueError, r"-1"), (ValueError, r"0\.\.2|>= 0")),
    "wrong length": (lambda y: y[:3], (ValueError, r"one label per image|paired|\[batch\]|4 and 3"),
                     (ValueError, r"paired|4 and 3|rows")),
}
LABEL_CELLS = [(entry, case) for entry in LABEL_ENTRIES for case in LABEL_CASES]
#: cells where the labels are not bad for that entry point (checked: finite values), and why
LABELS_NOT_BAD = {**{(entry, "wrong length"): "it reads the number of rows from the labels alone"
                     for entry in ("SemiSupervisedVAE.decode_means", "SemiSupervisedVAE.sample",
                                   "SemiSupervisedVAE.sample_means", "CrossModalVAE.encode (labels)",
                                   "CrossModalVAE.predict (labels)")},
                  ("cross_modal_vae.fit_direct (label target)", "above the range"):
                      "it has no fixed number of classes: it builds its output for the largest label"}


@pytest.mark.parametrize("entry, case", LABEL_CELLS, ids=[f"{e}-{c}" for e, c in LABEL_CELLS])
def test_every_entry_point_that_takes_labels_converts_integers_and_refuses_the_rest_by_name(entry, case):
    make, for_m2, for_cm = LABEL_CASES[case]
    expected = for_cm if entry in CROSS_MODAL else for_m2
    x, y = binary(N, 6), make(LABELS)
    if (entry, case) in LABELS_NOT_BAD:
        expected = None
    if expected is None:
        assert _finite(LABEL_ENTRIES[entry](x, y))
    else:
        with pytest.raises(expected[0], match=expected[1]):
            LABEL_ENTRIES[entry](x, y)


# ------------------------------------------------------------------ no entry point forgotten

#: public names of the walked modules that take no data tensor, with the reason
NO_DATA = {
    "inference_gaps": {"Posterior": "a record", "Refinement": "a record", "Gaps": "a record"},
    "mutual_information": {
        "barber_agakov": "takes log-densities: SCORE_ENTRIES", "infonce": "takes a score matrix: SCORE_ENTRIES",
        "nwj": "takes a score matrix: SCORE_ENTRIES", "correlated_gaussian": "draws its own data",
        "correlated_gaussian_mi": "a closed form of (d, rho)", "gaussian_entropy": "a closed form of d",
        "gaussian_conditional_log_prob": "the closed-form test bed of the bounds (no model)",
        "gaussian_log_ratio_scores": "the closed-form test bed of the bounds (no model)",
        "SeparableCritic": "a critic network; its scores go through infonce / nwj",
        "fit_critic": "draws its batches from sample(); the bounds check them",
        "generative_barber_agakov": "draws its own data from the model"},
    "semi_supervised": {"labelled_subset": "labels only: test_semi_supervised_training",
                        "accuracy": "compares two label vectors (shapes checked)"},
    "cross_modal": {"cross_modal_bound": "takes log-likelihoods and posterior parameters",
                    "gaussian_kl_to_standard": "a closed form of Gaussian parameters",
                    "gaussian_kl": "a closed form of Gaussian parameters"},
    "models.semi_supervised": {"marginalize_labels": "takes bounds and log q(y|x)", "UnlabelledTerms": "a record",
                               "SemiSupervisedVAE.log_prior_y": "no argument", "SemiSupervisedVAE.analytic_kl": "refuses",
                               "SemiSupervisedVAE.check_support": "the check itself",
                               "SemiSupervisedVAE.check_input": "the check itself"},
    "models.cross_modal_vae": {"prediction_error": "scores given predictions (shapes checked)"},
    "models.deep_hierarchical": {"precision_weighted_merge": "Gaussian parameters", "LayerTerms": "a record",
                                 "DeepHierarchicalVAE.split": "latent z", "DeepHierarchicalVAE.decode_mean": "latent z",
                                 "DeepHierarchicalVAE.prior_draw": "draws its own latents",
                                 "DeepHierarchicalVAE.sample": "draws", "DeepHierarchicalVAE.sample_means": "draws",
                                 "DeepHierarchicalVAE.load_state_dict": "weights, not data",
                                 "DeepHierarchicalVAE.check_input": "the check itself",
                                 "DeepHierarchicalVAE.check_support": "the check itself",
                                 "DeepHierarchicalVAE.analytic_kl": "refuses"},
    "models.hierarchical": {"HierarchicalVAE.analytic_kl": "Gaussian parameters",
                            "HierarchicalVAE.check_input": "the check itself",
                            "HierarchicalVAE.check_support": "the check itself",
                            "HierarchicalVAE.decode_mean": "latent z", "HierarchicalVAE.prior_draw": "draws",
                            "HierarchicalVAE.sample": "draws", "HierarchicalVAE.sample_means": "draws"},
}
WALKED = {"inference_gaps": gaps, "mutual_information": mi, "semi_supervised": ss, "cross_modal": cross_modal,
          "models.semi_supervised": m2, "models.cross_modal_vae": cmv, "models.deep_hierarchical": dh,
          "models.hierarchical": hier}
# the short names the tables use for the functions of a module (a method is "Class.method")
SHORT = {"models.semi_supervised": "models.semi_supervised", "models.cross_modal_vae": "cross_modal_vae",
         "models.deep_hierarchical": "deep_hierarchical", "models.hierarchical": "hierarchical"}


def _public_names(prefix, module):
    names = set()
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        names.add(name)
        if inspect.isclass(obj) and issubclass(obj, torch.nn.Module) and obj.__module__.startswith("dgmlib.models"):
            own = {n for klass in obj.__mro__ if klass.__module__.startswith("dgmlib.models")
                   for n, f in vars(klass).items() if not n.startswith("_") and inspect.isfunction(f)}
            names |= {f"{name}.{n}" for n in own}
    return names


def test_every_public_name_of_the_walked_modules_is_in_a_table_or_says_why_it_takes_no_data():
    tabled = set(ENTRIES) | set(LABEL_ENTRIES) | set(SCORE_ENTRIES)
    missing = []
    for prefix, module in WALKED.items():
        for name in sorted(_public_names(prefix, module)):
            short = name if "." in name and name.split(".")[0][0].isupper() else f"{SHORT.get(prefix, prefix)}.{name}"
            if name in NO_DATA.get(prefix, {}) or any(t == short or t.startswith(short + " ") for t in tabled):
                continue
            if inspect.isclass(getattr(module, name, None)):
                continue                                              # a class: its methods are walked
            missing.append(f"{prefix}: {name}")
    assert not missing, f"public names in no bad-input table and not in NO_DATA: {missing}"


# score matrices and log-densities of the mutual-information bounds: name -> call(t), t [B, B]
SCORE_ENTRIES = {
    "mutual_information.infonce": lambda t: mi.infonce(t),
    "mutual_information.nwj": lambda t: mi.nwj(t),
    "mutual_information.barber_agakov": lambda t: mi.barber_agakov(t.diagonal(), log_marginal=t.mean(1)),
}
SCORE_CASES = {
    "NaN": (_nan, (ValueError, r"contains 1 NaN values \(rows \[1\]\)")),
    "empty batch": (lambda t: t[:0, :0], (ValueError, r"B >= 2")),
    "batch of one": (lambda t: t[:1, :1], (ValueError, r"B >= 2")),
    "-inf off the diagonal": (lambda t: torch.where(torch.eye(len(t), dtype=torch.bool), t, -math.inf), None),
}
SCORE_CELLS = [(entry, case) for entry in SCORE_ENTRIES for case in SCORE_CASES]


@pytest.mark.parametrize("entry, case", SCORE_CELLS, ids=[f"{e}-{c}" for e, c in SCORE_CELLS])
def test_the_mutual_information_bounds_refuse_nan_and_too_small_batches(entry, case):
    make, error = SCORE_CASES[case]
    t = make(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))
    if error is None:                       # a valid log-density of 0: the bounds stay finite
        assert torch.isfinite(SCORE_ENTRIES[entry](t)) or entry.endswith("barber_agakov")
    else:
        with pytest.raises(error[0], match=error[1]):
            SCORE_ENTRIES[entry](t)
