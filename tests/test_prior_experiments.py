import math

import pytest
import torch

import dgmlib
import dgmlib.experiments
from dgmlib import prior_experiments as pe


def test_priors_experiment_is_registered_and_its_quick_run_fills_the_table():
    spec = dgmlib.experiments.spec("priors")
    assert spec is pe.EXPERIMENT
    s = spec["quick"]
    record = dgmlib.experiments.run("priors", quick=True)
    rows = record["rows"]
    assert {(r["kind"], r["seed"]) for r in rows} == {(k, seed) for k in s.kinds for seed in s.seeds}
    for r in rows:
        assert all(math.isfinite(r[k]) for k in ("test_nll", "train_nll", "test_neg_elbo", "test_kl", "marginal_kl"))
        assert 0 <= r["active_units"] <= s.z_dim and r["best_epoch"] in [c[0] for c in r["curve"]]
        assert r["best_val_ll"] == pytest.approx(max(c[2] for c in r["curve"]), abs=1e-3)
    vamp = next(r for r in rows if r["kind"] == "vampprior")
    assert len(vamp["pseudo_inputs"]) == s.components and len(vamp["pseudo_inputs"][0]) == 64


def test_train_best_keeps_the_state_with_the_best_validation_score():
    s = pe.QUICK_SETTINGS
    data = dgmlib.load("digits")
    dgmlib.seed_everything(0)
    model = pe.build_model("vampprior", data.dim, s)
    record = pe.train_best(model, data, s, seed=0)
    dgmlib.seed_everything(20_000 + record["best_epoch"] // s.val_every - 1)
    again = dgmlib.log_marginal_likelihood(model, data.val, K=s.val_K).mean().item()
    assert again == pytest.approx(record["best_val_ll"], abs=1e-4)


def test_build_model_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown model kind"):
        pe.build_model("iwae", 64, pe.QUICK_SETTINGS)
