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


@pytest.mark.parametrize("name", [n for n in experiments.names() if experiments._available(n)])
def test_committed_results_match_the_current_full_settings(name):
    path = experiments.RESULTS_DIR / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{name} results not computed yet")
    result = experiments.load(name)
    assert result["settings"] == experiments.settings_record(experiments.spec(name)["settings"]) and result["quick"] is False
    assert len(result["rows"]) == len(experiments.spec(name)["tasks"](experiments.spec(name)["settings"]))
