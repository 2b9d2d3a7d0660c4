"""The results-table machinery: quick runs of every experiment, and the result files."""
import json

import pytest

from dgmlib import experiments


@pytest.fixture(scope="module")
def quick_iwae():
    return experiments.run("iwae", quick=True)


def test_quick_iwae_run_has_one_row_per_trained_model(quick_iwae):
    s = experiments.IWAE_QUICK
    assert [(r["objective"], r["k"]) for r in quick_iwae["rows"]] == [("vae", 1), ("vae", 5), ("iwae", 5)]
    for row in quick_iwae["rows"]:
        # log p(x) (IWAE at eval_K) sits above the ELBO up to Monte Carlo error
        assert -row["test_nll"] >= row["test_elbo"] - 0.5
        assert 0 <= row["active_units"] <= s.z_dim
    assert quick_iwae["settings"] == experiments.settings_record(s) and quick_iwae["quick"] is True
    assert quick_iwae["code"]["dgmlib"]


def test_quick_surgery_run_satisfies_the_identity_and_the_mi_bounds():
    result = experiments.run("surgery", quick=True)
    assert [r["z_dim"] for r in result["rows"]] == list(experiments.SURGERY_QUICK.z_dims)
    for row in result["rows"]:
        assert abs(row["identity_residual"]) < 1e-4
        assert row["mutual_info"] <= row["log_n"]
        assert row["elbo"] == pytest.approx(row["reconstruction"] - row["avg_kl"], abs=1e-4)


def test_quick_flows_run_has_one_row_per_posterior_and_seed():
    result = experiments.run("flows", quick=True)
    s = experiments.FLOWS_QUICK
    assert [(r["posterior"], r["seed"]) for r in result["rows"]] == [(p, 0) for p in s.posteriors]
    params = {r["posterior"]: r["parameters"] for r in result["rows"]}
    assert all(params[p] > params["gaussian"] for p in s.posteriors if p != "gaussian")
    for row in result["rows"]:
        assert row["test_nll"] <= row["test_neg_elbo"] + 0.5   # log p(x) >= ELBO up to MC error


def test_results_round_trip_and_missing_results_name_the_command(quick_iwae, tmp_path):
    path = experiments.save(quick_iwae, tmp_path / "iwae.json")
    assert experiments.load("iwae", path) == json.loads(path.read_text()) == quick_iwae
    with pytest.raises(FileNotFoundError, match="python -m dgmlib.experiments surgery"):
        experiments.load("surgery", tmp_path / "absent.json")
    with pytest.raises(ValueError, match="does not hold results"):
        experiments.load("surgery", path)
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run("gan")


def test_quick_command_line_run_never_overwrites_the_committed_results(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    assert experiments.main(["surgery", "--quick", "--workers", "1"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert "not saved" in capsys.readouterr().out


@pytest.mark.parametrize("name", experiments.names())
def test_committed_results_match_the_current_full_settings(name):
    result = experiments.load(name)   # raises if the committed result file is missing
    assert result["settings"] == experiments.settings_record(experiments.spec(name)["settings"]) and result["quick"] is False
    assert len(result["rows"]) == len(experiments.spec(name)["tasks"](experiments.spec(name)["settings"]))


def test_mean_std_uses_the_sample_standard_deviation():
    assert experiments.mean_std([1.0, 2.0, 3.0]) == "2.00 ± 1.00"
    assert experiments.mean_std([16.444], digits=1) == "16.4"


def test_iwae_table_pools_the_k1_run_and_sets_papers_beside():
    rows = [{"objective": o, "k": k, "seed": s, "test_nll": 16.0 + s + (k == 5) * (o == "vae"),
             "active_units": 4 + s} for s in (0, 1) for k in (1, 5) for o in ("vae", "iwae")
            if not (o == "iwae" and k == 1)]
    record = {"settings": {"ks": [1, 5], "seeds": [0, 1], "z_dim": 20}, "rows": rows}
    caption, frame = experiments.table("iwae", record)
    assert frame.loc[1, "IWAE NLL"] == frame.loc[1, "VAE NLL"] == "16.50 ± 0.71"
    assert frame.loc[5, "VAE NLL"] == "17.50 ± 0.71" and frame.loc[5, "IWAE NLL"] == "16.50 ± 0.71"
    assert frame.loc[5, "paper IWAE NLL"] == 85.54 and "2 seed(s)" in caption


@pytest.mark.parametrize("name", experiments.names())
def test_every_experiment_has_a_table_for_the_book(name):
    assert callable(experiments.spec(name).get("table")), f"{name}: add a 'table' function to its EXPERIMENT"


def test_committed_results_page_matches_the_committed_result_files(tmp_path):
    page = experiments.publish(tmp_path / "results.md")
    assert page.read_text() == experiments.RESULTS_PAGE.read_text(), \
        "book/results.md is stale: run `python -m dgmlib.experiments --publish` (or `make tables`)"
