"""The setup cells run as they would on Colab: in a fresh virtual environment where dgmlib is not
installed, but torch and the other preinstalled packages are.

The stand-in for Colab is a new venv that sees this environment's site-packages (torch, numpy,
IPython, ...) through a ``.pth`` file, minus dgmlib itself. The setup cell's ``%pip install`` runs
as ``python -m pip install`` (what the magic does), offline (--no-index, no build isolation), with the GitHub URLs pointed at a local clone of
this repository: ``git+https://github.com/<repo>@<branch>`` -> ``git+file://<clone>@<branch>`` and
``https://raw.githubusercontent.com/<repo>/<branch>/`` -> ``file://<clone>/``. Checked: dgmlib
gets installed from the clone, torch is not reinstalled, an exercise's tests folder is fetched, and
``otter.Notebook`` starts.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import venv

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402
SETUP_MARKER = notebooks.SETUP_MARKER


def _repository() -> tuple[str, str]:
    """(repository URL without .git, branch), from _config.yml via tools/notebooks.py."""
    return notebooks.repository_url().rstrip("/").removesuffix(".git"), notebooks.repository_branch()


def _code_cells(path: pathlib.Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


BOOK = sorted((ROOT / "book").glob("*.ipynb"))
STUDENTS = sorted((ROOT / "exercises").glob("*/student/*.ipynb"))


def as_script(cell: str, clone: pathlib.Path) -> str:
    """The setup cell as plain Python run against the local clone instead of GitHub."""
    url, branch = _repository()
    raw = url.replace("https://github.com/", "https://raw.githubusercontent.com/", 1) + f"/{branch}/"
    cell = cell.replace(f"git+{url}@{branch}", f"git+{clone.as_uri()}@{branch}")
    cell = cell.replace(raw, clone.as_uri() + "/")
    assert "github" not in cell, "every remote URL has a local stand-in"
    lines = []
    for line in cell.splitlines():
        magic = re.match(r"^(\s*)%pip install (.*)$", line)
        if magic:
            indent, args = magic.groups()
            line = (f"{indent}import shlex, subprocess, sys; subprocess.check_call([sys.executable, '-m', 'pip', "
                    f"'install', '--no-index', '--no-build-isolation', *shlex.split({args!r})])")
        assert "%" not in line.lstrip()[:1], f"unexpected magic in the setup cell: {line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> pathlib.Path:
    """A clone of the committed repository with the configured branch checked out."""
    _, branch = _repository()
    path = tmp_path_factory.mktemp("repo") / "dgm-book"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(path)], check=True)
    subprocess.run(["git", "checkout", "-q", "-B", branch], cwd=path, check=True)
    return path


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> pathlib.Path:
    """Python of a fresh venv that sees this environment's packages except dgmlib."""
    base = tmp_path_factory.mktemp("colab")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # every package of this environment, except dgmlib, as a plain path entry (no .pth processing)
    preinstalled = base / "preinstalled"
    preinstalled.mkdir()
    here = pathlib.Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        if entry.name.startswith(("dgmlib", "__editable__")) or entry.suffix == ".pth":
            continue
        (preinstalled / entry.name).symlink_to(entry)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pathlib.Path(site, "colab_preinstalled.pth").write_text(f"{preinstalled}\n")
    probe = subprocess.run([python, "-c", "import torch, pip; import dgmlib"], capture_output=True, text=True,
                           cwd=base)
    assert "No module named 'dgmlib'" in probe.stderr, probe.stderr
    return python


def _run(python: pathlib.Path, script: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run([python, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# what a chapter needs from the installed package: every subpackage and the committed result files
# (dgmlib/experiments/results/*.json, package data)
REPORT = ("import json, dgmlib, dgmlib.experiments, dgmlib.flows, torch\n"
          "E = dgmlib.experiments\n"
          "tables = {E.file_name(n, d)[:-5]: len(E.load(n, dataset=d)['rows'])\n"
          "          for n in E.names() for d in E.available(n)}\n"
          "print('REPORT', json.dumps({'dgmlib': dgmlib.__file__, 'torch': torch.__file__, 'tables': tables}))\n")


def _report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("REPORT "))[7:])


def _uninstall_dgmlib(python: pathlib.Path, cwd: pathlib.Path) -> None:
    subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "dgmlib"], cwd=cwd, capture_output=True)


def test_every_book_notebook_has_the_same_setup_cell():
    cells = {_code_cells(p)[0] for p in BOOK}
    assert len(cells) == 1 and next(iter(cells)).startswith(SETUP_MARKER)


def test_book_setup_cell_installs_dgmlib_from_the_repository_and_keeps_torch(colab, clone, tmp_path):
    cell = _code_cells(BOOK[0])[0]
    proc = _run(colab, as_script(cell, clone) + REPORT, tmp_path)
    report = _report(proc)
    assert not report["dgmlib"].startswith(str(ROOT)), "dgmlib came from the installed clone"
    assert "preinstalled" in report["torch"], "torch is the preinstalled one, not reinstalled"
    assert sorted(report["tables"]) == sorted(p.stem for p in (ROOT / "dgmlib/experiments/results").glob("*.json"))
    assert all(report["tables"].values()), "the installed package carries the committed result files"
    _uninstall_dgmlib(colab, tmp_path)


@pytest.mark.parametrize("student", STUDENTS, ids=lambda p: p.parent.parent.name)
def test_exercise_setup_cell_installs_and_fetches_its_tests(colab, clone, tmp_path, student):
    cells = _code_cells(student)
    (tmp_path / student.name).write_text(student.read_text())  # Colab: the notebook alone, no tests/
    script = as_script(cells[0], clone) + cells[1] + "\n" + REPORT
    report = _report(_run(colab, script, tmp_path))
    assert "preinstalled" in report["torch"] and not report["dgmlib"].startswith(str(ROOT))
    fetched = sorted(p.name for p in (tmp_path / "tests").glob("*.py"))
    assert fetched == sorted(p.name for p in (student.parent / "tests").glob("*.py")) and fetched
    _uninstall_dgmlib(colab, tmp_path)
