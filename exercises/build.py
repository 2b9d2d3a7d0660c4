"""Build the graded exercise sets (otter-grader) from their master notebooks.

Every ``<masters>/<set>/<name>-master.ipynb`` gives

* ``<out>/<set>/student/<name>.ipynb`` and ``<out>/<set>/student/tests/q*.py``: the student
  notebook (no solutions, no outputs) and its public tests; committed, so Colab can open the
  notebook from GitHub and fetch its tests;
* ``<out>/<set>/dist/``: the full ``otter assign`` output, including the autograder zip (public and
  hidden tests, and ``dgmcheck.py``, the checks the hidden tests share), copied to
  ``dist/<name>-autograder.zip`` (ignored by git).

``<masters>`` and ``<out>`` are both ``exercises/`` unless given: a course that grades for credit
keeps its own copy of the masters (with its own hidden tests) in a private folder and builds from it,
``--masters <private>/exercises --out <private>/build``.

    python exercises/build.py            # rebuild every set
    python exercises/build.py --check    # exit 1 if the committed student files are stale
    python exercises/build.py exercises/02_elbo/elbo-master.ipynb   # one set
    python exercises/build.py --masters ../course/masters --out ../course/build

``otter assign`` runs in a staging folder that holds the master and ``dgmcheck.py`` (the masters'
folder's own copy if it has one, else ``exercises/dgmcheck.py``); it also runs every test (public
and hidden) on the solutions and fails if one fails. The student notebook is post-processed: it is
renamed (``elbo-master`` -> ``elbo``) and gets a first code cell that installs otter-grader and
dgmlib when they are missing and downloads the ``tests/`` folder when it is absent (Colab opens the
notebook alone), from ``exercises/<set>/student/tests`` of the repository in ``_config.yml`` (via
``tools/notebooks.py:repository_url()``).
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import shutil
import subprocess
import sys
import tempfile

import nbformat

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
MASTER_SUFFIX = "-master.ipynb"
HELPER = "dgmcheck.py"  # shipped in every autograder (autograder_files in each master's config)
SETUP_MARKER = "# Setup: works locally and on Colab"


def _notebooks_tool():
    spec = importlib.util.spec_from_file_location("dgm_tools_notebooks", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no tools/__pycache__
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def repository_url() -> str:
    return _notebooks_tool().repository_url()


def repository_branch() -> str:
    return _notebooks_tool().repository_branch()


def raw_url(relpath: str) -> str:
    """URL of a committed file's raw contents (GitHub)."""
    url = repository_url().rstrip("/").removesuffix(".git")
    raw = url.replace("https://github.com/", "https://raw.githubusercontent.com/", 1)
    return f"{raw}/{repository_branch()}/{relpath}"


def colab_url(relpath: str) -> str:
    url = repository_url().rstrip("/").removesuffix(".git")
    return url.replace("https://github.com/", "https://colab.research.google.com/github/", 1) + \
        f"/blob/{repository_branch()}/{relpath}"


def masters(root: pathlib.Path = HERE) -> list[pathlib.Path]:
    return sorted(pathlib.Path(root).glob(f"*/*{MASTER_SUFFIX}"))


def student_name(master: pathlib.Path) -> str:
    return master.name.removesuffix(MASTER_SUFFIX)


def set_dir(master: pathlib.Path, out: pathlib.Path | None = None) -> pathlib.Path:
    """The folder of a set's generated files: next to the master, or ``<out>/<set>``."""
    return master.parent if out is None else pathlib.Path(out) / master.parent.name


def student_dir(master: pathlib.Path, out: pathlib.Path | None = None) -> pathlib.Path:
    return set_dir(master, out) / "student"


def published_dir(master: pathlib.Path) -> str:
    """Where the student files of the set lie in the repository (for the Colab URLs)."""
    return f"exercises/{master.parent.name}/student"


def helper_file(master: pathlib.Path) -> pathlib.Path:
    """The masters' own dgmcheck.py if their folder has one, else this folder's."""
    own = master.parent.parent / HELPER
    return own if own.is_file() else HERE / HELPER


def otter_command() -> list[str]:
    """The otter of the running interpreter."""
    return [sys.executable, "-m", "otter"]


def assign(master: pathlib.Path, out: pathlib.Path) -> subprocess.CompletedProcess:
    """Run ``otter assign`` (tests the solutions too); the output lands in ``out``.

    It runs in a staging folder holding a copy of the master and of ``dgmcheck.py``: otter takes
    the autograder files from the master's folder, and the masters' folders hold no copy of it."""
    out = pathlib.Path(out)
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as stage:
        shutil.copy(master, pathlib.Path(stage) / master.name)
        shutil.copy(helper_file(master), pathlib.Path(stage) / HELPER)
        # cwd: the staging folder, so that the paths otter writes are relative to it
        return subprocess.run(otter_command() + ["assign", master.name, str(out.resolve())],
                              cwd=stage, capture_output=True, text=True)


def autograder_zip(out: pathlib.Path) -> pathlib.Path:
    zips = sorted((out / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"expected one autograder zip in {out / 'autograder'}, found {zips}")
    return zips[0]


def setup_cell_source(master: pathlib.Path, tests: list[str]) -> str:
    import otter
    rel = published_dir(master)
    questions = [pathlib.Path(t).stem for t in sorted(tests)]
    return (f"{SETUP_MARKER} (installs what is missing, fetches the tests folder).\n"
            "import os, urllib.request\n"
            "try:\n"
            "    import dgmlib, otter\n"
            "except ImportError:\n"
            f"    %pip install -q otter-grader=={otter.__version__} \"dgmlib @ git+{repository_url()}@{repository_branch()}\"\n"
            "if not os.path.isdir(\"tests\"):  # Colab opens the notebook without its folder\n"
            "    os.makedirs(\"tests\")\n"
            f"    for q in {questions!r}:\n"
            f"        urllib.request.urlretrieve(f\"{raw_url(rel)}/tests/{{q}}.py\", f\"tests/{{q}}.py\")\n"
            + CHECK_NOTE)


# Appended to the setup cell: grader.check runs the public tests only, so its "All test cases passed!"
# is followed by a line that says what that is worth (it read as "done": issue 30).
PUBLIC_SHARE_NOTE = "20%"
CHECK_NOTE = f"""import otter  # grader.check runs the public tests only: say what they are worth
def _check(self, question, global_env=None, _check=otter.Notebook.check):
    result = _check(self, question, globals() if global_env is None else global_env)
    if not hasattr(result, "passed_all"):
        return result
    from IPython.display import display
    display(result)
    print(f"{{question}}: the public tests {{'passed' if result.passed_all else 'did not all pass'}}; "
          "they carry {PUBLIC_SHARE_NOTE} of the question's points.\\nA hidden test, run when the notebook is graded, "
          "decides the rest: it reruns them and checks more\\n(other shapes, extreme values, "
          "gradients, inputs left unchanged, random draws).")
otter.Notebook.check = _check"""


def student_files(master: pathlib.Path, out: pathlib.Path) -> dict[str, str]:
    """The committed student files (relative path -> text), from an ``otter assign`` output."""
    src = out / "student"
    name = student_name(master)
    tests = sorted(p.relative_to(src).as_posix() for p in (src / "tests").glob("*.py"))
    files = {t: (src / t).read_text() for t in tests}

    nb = nbformat.read(src / master.name, as_version=4)
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = cell.source.replace(f'otter.Notebook("{master.name}")',
                                              f'otter.Notebook("{name}.ipynb")')
    # title first, then a Colab link and the setup cell, then otter's init cell
    title = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    cells = [nb.cells[title]] + [c for i, c in enumerate(nb.cells) if i != title]
    rel_nb = f"{published_dir(master)}/{name}.ipynb"
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(rel_nb)}) "
        "Run the setup cell and the `otter` cell below first; check each answer with its "
        "`grader.check` cell.")
    setup = nbformat.v4.new_code_cell(setup_cell_source(master, tests))
    for cell in (badge, setup):
        cell.pop("id", None)
    nb.cells = cells[:1] + [badge, setup] + cells[1:]
    nb.nbformat, nb.nbformat_minor = 4, 4
    files[f"{name}.ipynb"] = nbformat.writes(nb) + "\n"
    return files


def committed_files(master: pathlib.Path, out: pathlib.Path | None = None) -> dict[str, str]:
    d = student_dir(master, out)
    if not d.is_dir():
        return {}
    return {p.relative_to(d).as_posix(): p.read_text()
            for p in sorted(d.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            and ".ipynb_checkpoints" not in p.parts}


def _shown(path: pathlib.Path) -> str:
    path = pathlib.Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def differences(master: pathlib.Path, fresh: dict[str, str], out: pathlib.Path | None = None) -> list[str]:
    have = committed_files(master, out)
    rel = _shown(student_dir(master, out))
    out = [f"{rel}/{p}: missing" for p in sorted(fresh.keys() - have.keys())]
    out += [f"{rel}/{p}: not generated by the master (remove it)" for p in sorted(have.keys() - fresh.keys())]
    out += [f"{rel}/{p}: differs from a fresh build" for p in sorted(fresh.keys() & have.keys())
            if fresh[p] != have[p]]
    return out


def _fail(master: pathlib.Path, proc: subprocess.CompletedProcess) -> None:
    sys.stderr.write(proc.stdout + proc.stderr)
    raise SystemExit(f"otter assign failed for {_shown(master)} (exit {proc.returncode})")


def build(master: pathlib.Path, out: pathlib.Path | None = None) -> None:
    dist = set_dir(master, out) / "dist"
    proc = assign(master, dist)
    if proc.returncode != 0:
        _fail(master, proc)
    shutil.copy(autograder_zip(dist), dist / f"{student_name(master)}-autograder.zip")
    files = student_files(master, dist)
    target = student_dir(master, out)
    if target.exists():
        shutil.rmtree(target)
    for rel, text in files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text)
    print(f"{_shown(master)}: {len(files)} student files in {_shown(target)}, autograder "
          f"{_shown(dist / f'{student_name(master)}-autograder.zip')}")


def check(master: pathlib.Path, out: pathlib.Path | None = None) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = assign(master, pathlib.Path(tmp) / "dist")
        if proc.returncode != 0:
            _fail(master, proc)
        return differences(master, student_files(master, pathlib.Path(tmp) / "dist"), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed student files differ from a fresh build")
    parser.add_argument("--masters", type=pathlib.Path, default=None,
                        help="folder of <set>/<name>-master.ipynb to build (default: exercises/)")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="write <set>/student and <set>/dist here (default: next to each master)")
    parser.add_argument("paths", nargs="*", type=pathlib.Path, metavar="master",
                        help="only these master notebooks")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or masters(args.masters.resolve() if args.masters else HERE)
    if not paths:
        raise SystemExit(f"no */*{MASTER_SUFFIX} under {args.masters or HERE}")
    out = args.out.resolve() if args.out else None
    if args.check:
        found = [msg for m in paths for msg in check(m, out)]
        print("\n".join(found) or f"{len(paths)} exercise set(s): student files up to date")
        return 1 if found else 0
    for m in paths:
        build(m, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
