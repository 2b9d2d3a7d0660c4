"""tools/tables.py: the appendix page book/results.md matches the committed result files, and
recomputed records carry the git commit they were made at."""
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("dgm_tables", ROOT / "tools" / "tables.py")
tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tables)


def test_committed_results_page_matches_the_committed_result_files(tmp_path):
    page = tables.publish(tmp_path / "results.md")
    assert page.read_text() == tables.PAGE.read_text(), \
        "book/results.md is stale: run `python tools/tables.py publish` (or `make tables`)"


def test_the_page_has_one_section_per_experiment_in_chapter_order():
    import dgmlib.experiments as experiments
    text = tables.PAGE.read_text()
    positions = [text.index(f"## {experiments.spec(n).title}") for n in experiments.EXPERIMENTS]
    assert positions == sorted(positions)


def test_run_stamps_the_commit_and_saves_where_told(monkeypatch, tmp_path):
    import dgmlib.experiments as experiments
    run = experiments.run
    monkeypatch.setattr(experiments, "run", lambda name, workers, device, dataset=None:
                        run(name, quick=True, dataset=dataset))
    [path] = tables.run(["surgery"], out=tmp_path)
    record = experiments.load("surgery", path)
    if (ROOT / ".git").exists():
        assert len(record["code"]["commit"]) == 40 and isinstance(record["code"]["dgmlib_dirty"], bool)
    assert record["code"]["dgmlib"] and path == tmp_path / "surgery.json"


def test_a_variant_run_is_saved_under_its_data_set_and_published_beside_the_digits(monkeypatch, tmp_path):
    import dgmlib.experiments as experiments
    run = experiments.run
    monkeypatch.setattr(experiments, "run", lambda name, workers, device, dataset=None:
                        run(name, quick=True, dataset=dataset))
    [path] = tables.run(["iwae"], out=tmp_path, dataset="mnist5k")
    assert path == tmp_path / "iwae-mnist5k.json"
    tables.run(["iwae"], out=tmp_path)
    page = tables.publish(tmp_path / "results.md", results=tmp_path).read_text()
    assert page.count("## IWAE vs VAE") == 1 + 2             # the section and its two data sets
    assert "### IWAE vs VAE (Burda et al., 2016): MNIST-5k (784 pixels)" in page
    assert page.index(": 8x8 digits") < page.index(": MNIST-5k")


def test_an_unknown_data_set_fails_before_any_run(monkeypatch):
    monkeypatch.setattr(tables, "run", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match="experiment .gaps. has no settings for data set .mnist5k."):
        tables.main(["run", "gaps", "--dataset", "mnist5k"])


def test_an_unknown_name_fails_before_any_run(monkeypatch):
    monkeypatch.setattr(tables, "run", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match="unknown experiment"):
        tables.main(["run", "iwae", "nope"])


def test_a_stopped_table_resumes_from_the_partial_folder_of_its_commit_device_and_protocol(monkeypatch, tmp_path):
    import dgmlib.experiments as experiments
    run = experiments.run
    monkeypatch.setattr(experiments, "run", lambda name, workers, device, dataset=None, partial_dir=None:
                        run(name, quick=True, dataset=dataset, partial_dir=partial_dir))
    monkeypatch.setattr(tables, "code_version", lambda: {"dgmlib": "x", "commit": "0123456789abcdef",
                                                         "dgmlib_dirty": False})
    folder = tmp_path / "partial" / "surgery-0123456789ab-cpu"
    stopped = run("surgery", quick=True, partial_dir=folder)       # the rows a stopped run left
    [path] = tables.run(["surgery"], out=tmp_path, partial=tmp_path / "partial")
    record = experiments.load("surgery", path)
    assert record["rows"] == stopped["rows"] and record["resumed"] == len(stopped["rows"]) > 0
    assert not folder.exists()                                      # a finished table starts afresh
    assert "resumed from an earlier, stopped run" in tables.results_page({("surgery", "digits"): record})


def test_kept_models_and_result_files_do_not_mark_the_library_modified(tmp_path):
    import shutil
    import subprocess
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for path in ("dgmlib/experiments/trained_models/m.pt", "dgmlib/experiments/results/r.json", "dgmlib/code.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *tables.LIBRARY_PATHSPEC],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert status == ["??", "dgmlib/code.py"]             # only the library's code counts
