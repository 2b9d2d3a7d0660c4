"""The MNIST-5k variants of the hierarchical (chapter 11) and M2 (chapter 12) tables under the papers'
protocol (issue 25): the hierarchical and M2 variants, their quick runs, their kept models, and the He
initialization of the two model kinds they train."""
import dataclasses
import math

import pytest
import torch

from dgmlib import experiments
from dgmlib.builders import from_config
from dgmlib.experiments import base, hierarchical, semisupervised
from dgmlib.models import DeepHierarchicalVAE, SemiSupervisedVAE


def _check_protocol_settings(e, s):
    assert e.upcoming["mnist"] == dataclasses.replace(e.upcoming["mnist5k"], dataset="mnist")
    assert (s.dataset, s.binarize, s.init) == ("mnist5k", "dynamic", "he")
    assert s.patience is not None and s.patience < s.epochs and s.eval_Ks[-1] >= 5 * s.eval_Ks[0]
    assert experiments.file_name(e.name, "mnist5k") == f"{e.name}-mnist5k.json"
    quick = e.settings_for("mnist5k", quick=True, upcoming=True)
    assert (quick.dataset, quick.binarize, quick.init, quick.patience, quick.eval_Ks) == \
        ("mnist5k", "dynamic", "he", 2, (5, 25))


def test_the_m2_mnist5k_variant_is_the_papers_protocol_and_its_file_matches_it():
    e = semisupervised.EXPERIMENT
    assert e.datasets == ("digits", "mnist5k", "mnist") and e.settings_for("mnist5k") is semisupervised.MNIST5K
    upcoming = e.settings_for("mnist5k", upcoming=True)    # the next table: the matched baseline
    assert upcoming is semisupervised.MNIST5K_NEXT
    assert upcoming == dataclasses.replace(semisupervised.MNIST5K, matched_baseline=True)
    assert "matched_baseline" not in experiments.settings_record(semisupervised.MNIST5K)   # the file matches
    assert e.settings_for("mnist5k", quick=True, upcoming=True).matched_baseline
    _check_protocol_settings(e, semisupervised.MNIST5K)
    assert e.variants["mnist"] == dataclasses.replace(semisupervised.MNIST5K, dataset="mnist")
    record = experiments.load("semisupervised", dataset="mnist5k")
    assert record["settings"] == experiments.settings_record(semisupervised.MNIST5K) and not record["quick"]
    assert len(record["rows"]) == len(e.tasks(semisupervised.MNIST5K)) == 12


def test_the_hierarchical_mnist5k_variant_is_the_papers_protocol_and_next_selects_after_the_warmup():
    e = hierarchical.EXPERIMENT
    assert e.datasets == ("digits", "mnist5k", "mnist") and e.settings_for("mnist5k") is hierarchical.MNIST5K
    _check_protocol_settings(e, hierarchical.MNIST5K)
    assert e.variants["mnist"] == dataclasses.replace(hierarchical.MNIST5K, dataset="mnist")
    upcoming = e.settings_for("mnist5k", upcoming=True)
    assert upcoming is hierarchical.MNIST5K_NEXT
    assert upcoming == dataclasses.replace(hierarchical.MNIST5K, select_after_warmup=True)
    assert "select_after_warmup" not in experiments.settings_record(hierarchical.MNIST5K)   # the file matches


def test_each_table_keeps_the_models_its_chapter_shows_seed_0_only():
    kept = [hierarchical.keep(t) for t in hierarchical.tasks(hierarchical.MNIST5K)]
    assert sorted(k for k in kept if k) == ["L1", "L3_top_down"]
    kept = [(t, semisupervised.keep(t)) for t in semisupervised.tasks(semisupervised.MNIST5K)]
    (task, name), = [(t, k) for t, k in kept if k]              # one M2 model: the paper's alpha, most labels
    assert (task[1], task[2], task[3], name) == (100, 0.1, 0, "m2-100-per-class")


def _check_protocol_record(name: str, record, tmp_path, setting_of):
    s = experiments.spec(name).settings_for("mnist5k", quick=True, upcoming=True)
    assert record["settings"] == experiments.settings_record(s) and record["dataset"] == "mnist5k"
    assert len(record["rows"]) == len(experiments.spec(name).tasks(s))
    for row in record["rows"]:
        assert set(row["test_nll_by_K"]) == {"5", "25"} and row["test_nll"] == row["test_nll_by_K"]["25"]
        assert math.isfinite(row["train_nll"]) and row["test_nll"] > 100          # 784 Bernoulli pixels
        assert 1 <= row["epochs_run"] <= s.epochs
        assert row["best_epoch"] in [e for e, *_ in row["val_curve"]]
        assert max(v for *_, v in row["val_curve"]) == pytest.approx(
            next(v for e, _, v in row["val_curve"] if e == row["best_epoch"]))
    kept_rows = [r for r in record["rows"] if "kept" in r]
    data = base.load_data(s, "cpu")
    for row in kept_rows:
        model = experiments.trained(name, setting_of(row), folder=tmp_path)
        assert not model.training and next(model.parameters()).dtype == torch.get_default_dtype()
        assert model.config["init"] == "he"
        assert base.kept_check(model, data) == pytest.approx(row["kept"]["check_nll"], abs=1e-4)
        assert abs(row["kept"]["check_shift"]) < 0.05
    caption, frame = experiments.table(name, record)
    assert "MNIST-5k" in caption and "8x8" not in caption
    return kept_rows, frame


def test_a_quick_upcoming_hierarchical_run_records_the_protocol_and_keeps_its_models(tmp_path):
    record = experiments.run("hierarchical", quick=True, dataset="mnist5k", upcoming=True, keep_dir=tmp_path)
    kept_rows, frame = _check_protocol_record("hierarchical", record, tmp_path, lambda r: r["kind"])
    assert sorted(r["kind"] for r in kept_rows) == ["L1", "L3_top_down"]
    assert experiments.kept(tmp_path) == ["hierarchical-mnist5k-L1", "hierarchical-mnist5k-L3_top_down"]
    assert list(frame.index) == list(hierarchical.QUICK.kinds)
    assert {"-log p(x)", "-log p(x), K = 5", "train -log p(x)", "best epoch"} <= set(frame.columns)
    row = record["rows"][0]
    assert frame.loc[row["kind"], "-log p(x), K = 5"] == f"{row['test_nll_by_K']['5']:.2f}"


def test_a_quick_upcoming_m2_run_records_the_protocol_and_keeps_one_model(tmp_path):
    record = experiments.run("semisupervised", quick=True, dataset="mnist5k", upcoming=True, keep_dir=tmp_path)
    kept_rows, frame = _check_protocol_record("semisupervised", record, tmp_path,
                                              lambda r: f"m2-{r['per_class']}-per-class")
    s = semisupervised.QUICK
    assert [(r["per_class"], r["alpha"], r["seed"]) for r in kept_rows] == [(max(s.per_class), s.alphas[0], 0)]
    assert experiments.kept(tmp_path) == [f"semisupervised-mnist5k-m2-{max(s.per_class)}-per-class"]
    for row in record["rows"]:
        assert row["m2_steps"] == row["epochs_run"] * math.ceil(4000 / s.batch_size)
        if row["alpha"] == s.alphas[0]:   # the baseline takes as many steps as the early-stopped M2
            assert row["classifier_steps"] == row["m2_steps"]
    caption = experiments.table("semisupervised", record)[0]
    assert f"M2 α={s.alphas[0]:g} -log p(x)" in frame.columns and "early-stopped" in caption
    assert record["settings"]["matched_baseline"] and "trained as M2's classifier" in caption


def test_the_m2_objective_is_the_papers_loss_on_the_batch_with_fresh_labelled_draws():
    torch.manual_seed(0)
    model = SemiSupervisedVAE(6, 3, z_dim=2, hidden=(8,))
    levels = torch.rand(9, 6)
    x_l, y_l = torch.bernoulli(levels), torch.arange(9) % 3
    x_u = torch.bernoulli(torch.rand(5, 6))
    fixed = semisupervised.M2Objective(x_l, y_l, 0.1, 0.5, seed=0, labelled_batch=4)
    pick = torch.randperm(9, generator=torch.Generator().manual_seed(40_000))[:4]
    torch.manual_seed(1)
    values = fixed(model, x_u)
    torch.manual_seed(1)
    expected = -model.loss(x_l[pick], y_l[pick], x_u, alpha=0.1, labelled_weight=0.5)
    assert values.shape == (5,) and torch.allclose(values, expected.expand(5))
    dynamic = semisupervised.M2Objective(x_l, y_l, 0.1, 0.5, seed=0, levels=levels, labelled_batch=9)
    draws = torch.Generator().manual_seed(50_000)
    pick = torch.randperm(9, generator=torch.Generator().manual_seed(40_000))
    torch.manual_seed(1)
    values = dynamic(model, x_u)
    torch.manual_seed(1)
    expected = -model.loss(torch.bernoulli(levels[pick], generator=draws), y_l[pick], x_u, alpha=0.1,
                           labelled_weight=0.5)
    assert torch.allclose(values, expected.expand(5))


@pytest.mark.parametrize("build", [lambda init: DeepHierarchicalVAE(784, [8, 4], hidden=(300,), init=init),
                                   lambda init: DeepHierarchicalVAE(784, [8, 4], hidden=(300,), init=init,
                                                                    inference="bottom_up", batch_norm=True),
                                   lambda init: SemiSupervisedVAE(784, 10, z_dim=4, hidden=(300,), init=init)],
                         ids=["top_down", "bottom_up_bn", "m2"])
def test_he_init_draws_every_linear_layer_from_n_0_2_over_fan_in_and_is_recorded_only_when_chosen(build):
    torch.manual_seed(0)
    default, he = build("torch"), build("he")
    assert "init" not in default.config and he.config["init"] == "he"    # old checkpoints load unchanged
    assert from_config(he.config).config == he.config
    assert [k for k, _ in default.state_dict().items()] == [k for k, _ in he.state_dict().items()]
    linears = [m for m in he.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all((m.bias == 0).all() for m in linears)
    for m in linears:
        if m.weight.numel() >= 2000:         # enough draws to measure the spread to within 10 %
            assert m.weight.std().item() == pytest.approx(math.sqrt(2 / m.in_features), rel=0.1)
    with pytest.raises(ValueError, match="unknown init 'nope'"):
        build("nope")
