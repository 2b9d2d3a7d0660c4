"""The graded exercises (exercises/*/*-master.ipynb, otter-grader).

One ``otter assign`` per master (module fixture, into a tmp dir) tests the solutions and gives the
student notebook and the autograder zip; submissions (the student notebook with its answer cells
rewritten) are graded by the real grader, ``otter run -a <zip>`` (offline, no Docker), several at
once. Every question of every set must reject at least two plausible wrong answers (``WRONG``) and
score 0 for an answer that raises or returns NaN (``BROKEN``). Nothing is written into the repository.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("exercises_build", ROOT / "exercises" / "build.py")
build = importlib.util.module_from_spec(_spec)
_dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no exercises/__pycache__
_spec.loader.exec_module(build)
sys.dont_write_bytecode = _dont_write

MASTERS = build.masters()
ELBO = ROOT / "exercises" / "02_elbo" / "elbo-master.ipynb"
# concurrent otter processes (each one starts a kernel that imports torch): one per core, since
# more kernels starting at once on a loaded machine die before they answer (seen in CI)
PARALLEL = max(1, min(4, os.cpu_count() or 1))
# a grading run whose kernel failed to start is infrastructure trouble, not a score: run it again
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Timeout waiting for kernel_info",
                         "Kernel didn't respond in")
MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")


def _id(master: pathlib.Path) -> str:
    return master.parent.name


# ---------------------------------------------------------------- reading the master

def questions(master: pathlib.Path) -> dict[str, str]:
    """Question name -> its solution cell, in notebook order."""
    nb = nbformat.read(master, as_version=4)
    out, name, in_solution = {}, None, False
    for cell in nb.cells:
        src = cell.source.strip()
        if cell.cell_type == "raw" and src.startswith("# BEGIN QUESTION"):
            name = re.search(r"^name:\s*(\S+)", src, re.M).group(1)
        elif cell.cell_type == "raw" and src == "# BEGIN SOLUTION":
            in_solution = True
        elif cell.cell_type == "raw" and src == "# END SOLUTION":
            in_solution = False
        elif in_solution and cell.cell_type == "code":
            assert name not in out, f"{name}: one solution code cell per question"
            out[name] = cell.source
    return out


def solution_body(source: str) -> list[str]:
    """The lines between the in-cell solution markers (what students must not see)."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() in MARKERS:
            inside = line.strip() == MARKERS[0]
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def correct_answer(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


# ---------------------------------------------------------------- wrong answers

def _load_wrong_answers() -> tuple[dict, dict]:
    """tests/book/wrong_answers/<set>.py defines WRONG and BROKEN for exercises/<set>."""
    wrong, broken = {}, {}
    for path in sorted((ROOT / "tests" / "book" / "wrong_answers").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"wrong_answers_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        wrong[path.stem], broken[path.stem] = module.WRONG, module.BROKEN
    return wrong, broken


# set -> variant -> question -> (label, answer cell). One submission per variant: one otter run
# judges a wrong answer for every question at once (questions are graded independently).
WRONG, BROKEN = _load_wrong_answers()  # BROKEN: set -> question -> an answer that raises or returns NaN
WRONG_CASES = [(s, v, q) for s, variants in WRONG.items() for v, answers in variants.items() for q in answers]

# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """master -> (otter assign process, its output dir, the student files it gives)."""
    dists = {master: tmp_path_factory.mktemp(_id(master)) / "dist" for master in MASTERS}
    with ThreadPoolExecutor(PARALLEL) as pool:  # one otter assign per set, at once
        procs = dict(zip(MASTERS, pool.map(lambda m: build.assign(m, dists[m]), MASTERS)))
    return {m: (procs[m], dists[m], build.student_files(m, dists[m]) if procs[m].returncode == 0 else None)
            for m in MASTERS}


def _submission(master: pathlib.Path, files: dict[str, str], answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with the answer cells of ``answers`` (question -> code) rewritten."""
    nb = nbformat.reads(files[f"{build.student_name(master)}.ipynb"], as_version=4)
    cells = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    names = list(questions(master))
    assert len(cells) == len(names), "one answer cell per question"
    for name, cell in zip(names, cells):
        if name in answers:
            cell.source = answers[name]
    return nb


@pytest.fixture(scope="module")
def graded(assigned, tmp_path_factory):
    """(master, submission name) -> {"rc", "log", "scores": {question: (score, max)}}.

    Submissions of every set: unmodified, correct, ``wrong-<variant>`` (``WRONG``) and ``broken``
    (``BROKEN``), graded ``PARALLEL`` at a time."""
    jobs = {}
    for master in MASTERS:
        proc, dist, files = assigned[master]
        if proc.returncode != 0:
            continue
        subs = {"unmodified": {}, "correct": {q: correct_answer(s) for q, s in questions(master).items()}}
        subs.update({f"wrong-{v}": {q: a for q, (_, a) in answers.items()}
                     for v, answers in WRONG.get(_id(master), {}).items()})
        if _id(master) in BROKEN:
            subs["broken"] = BROKEN[_id(master)]
        for name, answers in subs.items():
            work = tmp_path_factory.mktemp(f"{_id(master)}-{name}")
            nb_path = work / f"{build.student_name(master)}.ipynb"
            nbformat.write(_submission(master, files, answers), nb_path)
            (work / "out").mkdir()
            cmd = build.otter_command() + ["run", "-a", str(build.autograder_zip(dist)), "-o", "out", nb_path.name]
            jobs[master, name] = (work, cmd)

    def grade(job):
        work, cmd = job
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        for _attempt in range(3):
            p = subprocess.run(cmd, cwd=work, env=env, text=True, timeout=300,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if not any(msg in p.stdout for msg in KERNEL_START_FAILURES):
                break
        scores = {}
        if (work / "out" / "results.json").exists():
            data = json.loads((work / "out" / "results.json").read_text())
            scores = {t["name"]: (t["score"], t["max_score"]) for t in data["tests"]
                      if t["name"] != "Public Tests"}
        return {"rc": p.returncode, "log": p.stdout, "scores": scores}

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(jobs, pool.map(grade, jobs.values())))


def _graded(graded, master, name):
    r = graded.get((master, name))
    assert r is not None, "otter assign failed (see test_master_passes_its_tests)"
    assert r["rc"] == 0 and r["scores"], f"otter run crashed:\n{r['log'][-3000:]}"
    return r["scores"]


# ---------------------------------------------------------------- tests

def test_there_are_exercises():
    assert ELBO in MASTERS
    assert len(questions(ELBO)) >= 3
    assert set(WRONG) | set(BROKEN) <= {_id(m) for m in MASTERS}, "wrong answers for a set that does not exist"


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_every_question_has_wrong_answers(master):
    names = set(questions(master))
    wrong = [q for answers in WRONG.get(_id(master), {}).values() for q in answers]
    assert set(wrong) <= names and set(BROKEN.get(_id(master), {})) == names
    few = {q: wrong.count(q) for q in names if wrong.count(q) < 2}
    assert not few, f"add plausible wrong answers to WRONG['{_id(master)}'] (question: count): {few}"


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_master_passes_its_tests(assigned, master):
    proc, _, _ = assigned[master]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_student_notebook_has_no_solutions(assigned, master):
    proc, dist, files = assigned[master]
    assert proc.returncode == 0
    secret = {line for src in questions(master).values() for line in solution_body(src)}
    assert secret, "the solution cells must mark their solution with # BEGIN/END SOLUTION"
    for version in (files, build.committed_files(master)):
        nb = nbformat.reads(version[f"{build.student_name(master)}.ipynb"], as_version=4)
        seen = {line.strip() for c in nb.cells for line in c.source.splitlines()}
        seen |= {line.strip() for rel, text in version.items() if rel.endswith(".py") for line in text.splitlines()}
        assert not secret & seen, f"solution lines leaked: {sorted(secret & seen)}"
        text = "\n".join(c.source for c in nb.cells)
        for marker in ("BEGIN SOLUTION", "BEGIN QUESTION", "ASSIGNMENT CONFIG", "BEGIN TESTS"):
            assert marker not in text
        answers = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
        assert len(answers) == len(questions(master)) and all("..." in c.source for c in answers)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
        # hidden tests are only in the autograder
        assert not any("'hidden': True" in t for rel, t in version.items() if rel.endswith(".py"))
    assert any("'hidden': True" in p.read_text() for p in (dist / "autograder" / "tests").glob("*.py"))


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_committed_student_files_are_up_to_date(assigned, master):
    proc, _, files = assigned[master]
    assert proc.returncode == 0
    assert build.differences(master, files) == [], "run `python exercises/build.py`"


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_setup_cell_fetches_tests_from_the_repository(assigned, master):
    _, _, files = assigned[master]
    nb = nbformat.reads(files[f"{build.student_name(master)}.ipynb"], as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith(build.SETUP_MARKER) and "otter.Notebook(" in code[1]
    assert build.repository_url() in code[0]
    rel = build.student_dir(master).relative_to(ROOT).as_posix()
    assert build.raw_url(f"{rel}/tests/") in code[0].replace("{q}.py", "")
    listed = set(re.search(r"for q in (\[.*?\])", code[0]).group(1).strip("[]").replace("'", "").split(", "))
    assert listed == {pathlib.Path(r).stem for r in files if r.startswith("tests/")}


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_unmodified_student_notebook_scores_zero(graded, master):
    scores = _graded(graded, master, "unmodified")
    assert set(scores) == set(questions(master))
    assert all(score == 0 for score, _ in scores.values()), scores


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_correct_answers_get_full_marks(graded, master):
    scores = _graded(graded, master, "correct")
    assert set(scores) == set(questions(master))
    assert all(score == best > 0 for score, best in scores.values()), scores


def _master(set_id: str) -> pathlib.Path:
    return ROOT / "exercises" / set_id / next(m.name for m in MASTERS if _id(m) == set_id)


@pytest.mark.parametrize("set_id,variant,question", WRONG_CASES,
                         ids=[re.sub(r"\W+", "_", f"{s} {q} {WRONG[s][v][q][0]}").strip("_") for s, v, q in WRONG_CASES])
def test_wrong_answer_is_rejected(graded, set_id, variant, question):
    scores = _graded(graded, _master(set_id), f"wrong-{variant}")
    score, best = scores[question]
    assert score < best, f"{set_id} {question}: '{WRONG[set_id][variant][question][0]}' got full marks"


@pytest.mark.parametrize("set_id", sorted(BROKEN))
def test_raising_or_nan_answers_score_zero(graded, set_id):
    scores = _graded(graded, _master(set_id), "broken")
    assert set(scores) == set(BROKEN[set_id])
    assert all(score == 0 for score, _ in scores.values()), scores
