import math

import pytest

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


def test_priors_table_shows_every_kind_with_mean_and_std_beside_the_paper():
    s = pe.QUICK_SETTINGS
    rows = [{"kind": k, "seed": seed, "test_nll": 20.0 + seed, "train_nll": 19.0, "test_neg_elbo": 21.0,
             "test_kl": 3.0, "marginal_kl": 0.5, "active_units": 2, "active_units_z1": 1 if k.startswith("hvae") else None,
             "best_epoch": 4} for k in s.kinds for seed in (0, 1)]
    record = {"settings": dgmlib.experiments.settings_record(s), "rows": rows}
    caption, table = dgmlib.experiments.table("priors", record)
    assert list(table.index) == list(s.kinds) and "Tomczak" in caption
    assert table.loc["standard", "-log p(x)"] == "20.50 ± 0.71"           # mean and sample std of 20, 21
    assert table.loc["standard", "test - train"] == "1.50 ± 0.71"
    assert table.loc["vampprior", "paper -log p(x)"] == "85.57" and table.loc["flow", "paper -log p(x)"] == ""
    assert table.loc["standard", "active z1"] == "" and table.loc["hvae_standard", "active z1"] == "1.0 ± 0.0"
