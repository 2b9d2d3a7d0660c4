"""The priors experiment (dgmlib/experiments/priors.py): its quick run, its staircase warm-up, its
validation score and its table."""
import math

import pytest
import torch

import dgmlib
import dgmlib.experiments
from dgmlib.experiments import priors


def test_priors_experiment_is_registered_and_its_quick_run_fills_the_table():
    assert dgmlib.experiments.spec("priors") is priors.EXPERIMENT
    s = priors.QUICK
    rows = dgmlib.experiments.run("priors", quick=True)["rows"]
    assert {(r["kind"], r["seed"]) for r in rows} == {(k, seed) for k in s.kinds for seed in s.seeds}
    for r in rows:
        assert all(math.isfinite(r[k]) for k in ("test_nll", "train_nll", "test_neg_elbo", "test_kl", "marginal_kl"))
        assert 0 <= r["active_units"] <= s.z_dim and r["best_epoch"] in [c[0] for c in r["curve"]]
        assert [c[0] for c in r["curve"]] == list(range(s.val_every, s.epochs + 1, s.val_every))
        assert r["best_val_ll"] == pytest.approx(max(c[2] for c in r["curve"]), abs=1e-3)
    vamp = next(r for r in rows if r["kind"] == "vampprior")
    assert len(vamp["pseudo_inputs"]) == s.components and len(vamp["pseudo_inputs"][0]) == 64


def test_the_warm_up_raises_the_kl_weight_at_the_start_of_every_validation_block():
    s = priors.PriorsSettings()
    objective, steps_per_epoch = priors.warmup_objective(s, 13), 13
    for block in range(s.epochs // s.val_every):
        for step in (block * s.val_every * steps_per_epoch, (block + 1) * s.val_every * steps_per_epoch - 1):
            objective.set_step(step)
            assert objective.beta == min(1.0, (block + 1) * s.val_every / s.warmup)
    assert objective.analytic_kl is False   # the Monte Carlo KL, as for every prior without a closed form


def test_fit_keeps_the_state_of_the_best_validation_log_likelihood(digits):
    s = priors.QUICK
    dgmlib.seed_everything(0)
    model = priors.build_model("vampprior", digits.dim, s)
    validate = priors.validation_ll(s.val_K, seed=7)
    history = dgmlib.fit(model, digits, epochs=s.epochs, objective=priors.warmup_objective(s, 13),
                         val_every=s.val_every, keep_best=True, validate=validate, progress=False)
    assert history.best_val == max(v for v in history.val if not math.isnan(v))
    assert validate(model, digits.val) == pytest.approx(history.best_val, abs=1e-5)


def test_the_validation_score_draws_the_same_numbers_every_time_and_leaves_the_global_stream_alone(digits):
    model = priors.build_model("standard", digits.dim, priors.QUICK)
    validate = priors.validation_ll(5, seed=3)
    torch.manual_seed(11)
    first = validate(model, digits.val[:50])
    after = torch.rand(3)
    torch.manual_seed(11)
    assert torch.equal(torch.rand(3), after) and validate(model, digits.val[:50]) == first


def test_build_model_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown model kind"):
        priors.build_model("iwae", 64, priors.QUICK)


def test_priors_table_shows_every_kind_with_mean_and_std_beside_the_paper():
    s = priors.QUICK
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
