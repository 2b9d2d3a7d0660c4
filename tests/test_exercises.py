"""The graded exercises (exercises/*/*-master.ipynb, otter-grader).

One ``otter assign`` per master (module fixture, into a tmp dir) tests the solutions and gives the
student notebook and the autograder zip; submissions (the student notebook with its answer cells
rewritten) are graded by the real grader, ``otter run -a <zip>`` (offline, no Docker), several at
once. Nothing is written into the repository.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("exercises_build", ROOT / "exercises" / "build.py")
build = importlib.util.module_from_spec(_spec)
_dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no exercises/__pycache__
_spec.loader.exec_module(build)
sys.dont_write_bytecode = _dont_write

MASTERS = build.masters()
ELBO = ROOT / "exercises" / "01_elbo" / "elbo-master.ipynb"
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


# ---------------------------------------------------------------- wrong answers (01_elbo)

KL = "def kl_standard_normal(mu, logvar):\n    return {}\n"
REPARAM = "def reparameterize(mu, logvar, eps):\n    return {}\n"
ELBO_HEAD = ("def mc_elbo(x, logits, mu, logvar, z):\n"
             "    log_px = -F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(-1)\n"
             "    log_pz = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)\n"
             "    log_qz = -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)\n")
LOG_SIGMOID = ("def mc_elbo(x, logits, mu, logvar, z):\n"
               "    p = torch.sigmoid(logits)\n"
               "    log_px = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)\n"
               "    log_pz = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)\n"
               "    log_qz = -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)\n"
               "    return log_px + log_pz - log_qz\n")

# variant -> question -> (label, answer cell). One submission per variant: one otter run judges a
# wrong answer for every question at once (questions are graded independently).
WRONG = {
    "A": {"q1": ("KL missing the 1/2", KL.format("(mu.pow(2) + logvar.exp() - logvar - 1.0).sum(-1)")),
          "q2": ("exp(logvar) instead of exp(logvar/2)", REPARAM.format("mu + torch.exp(logvar) * eps")),
          "q3": ("log(sigmoid) is unstable", LOG_SIGMOID)},
    "B": {"q1": ("log-variance used as std", KL.format("0.5 * (mu.pow(2) + logvar.pow(2) - logvar - 1.0).sum(-1)")),
          "q2": ("draws fresh noise instead of eps", REPARAM.format("mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)")),
          "q3": ("missing the prior term", ELBO_HEAD + "    return log_px - log_qz\n")},
    "C": {"q1": ("KL missing the -1", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar).sum(-1)")),
          "q2": ("log-variance used as std", REPARAM.format("mu + logvar * eps")),
          "q3": ("sign error on log q", ELBO_HEAD + "    return log_px + log_pz + log_qz\n")},
    "D": {"q1": ("mean over dims instead of sum", KL.format("0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).mean(-1)")),
          "q3": ("sums over the batch", ELBO_HEAD + "    return (log_px + log_pz - log_qz).sum()\n")},
}
# answers that raise or return NaN: graded as failures, not a grader crash
BROKEN = {"q1": "def kl_standard_normal(mu, logvar):\n    raise NotImplementedError('todo')\n",
          "q2": REPARAM.format("torch.full_like(mu, float('nan'))"),
          "q3": "raise RuntimeError('cell fails before defining mc_elbo')\n" + ELBO_HEAD + "    return log_px\n"}
WRONG_CASES = [(v, q) for v, answers in WRONG.items() for q in answers]


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """master -> (otter assign process, its output dir, the student files it gives)."""
    out = {}
    for master in MASTERS:
        dist = tmp_path_factory.mktemp(_id(master)) / "dist"
        proc = build.assign(master, dist)
        files = build.student_files(master, dist) if proc.returncode == 0 else None
        out[master] = (proc, dist, files)
    return out


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
    """(master, submission name) -> {"rc", "log", "scores": {question: (score, max)}}."""
    jobs = {}
    for master in MASTERS:
        proc, dist, files = assigned[master]
        if proc.returncode != 0:
            continue
        subs = {"unmodified": {}, "correct": {q: correct_answer(s) for q, s in questions(master).items()}}
        if master == ELBO:
            subs.update({f"wrong-{v}": {q: a for q, (_, a) in answers.items()} for v, answers in WRONG.items()})
            subs["broken"] = BROKEN
        for name, answers in subs.items():
            work = tmp_path_factory.mktemp(f"{_id(master)}-{name}")
            nb_path = work / f"{build.student_name(master)}.ipynb"
            nbformat.write(_submission(master, files, answers), nb_path)
            (work / "out").mkdir()
            cmd = build.otter_command() + ["run", "-a", str(build.autograder_zip(dist)), "-o", "out", nb_path.name]
            env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
            jobs[master, name] = (work, subprocess.Popen(cmd, cwd=work, env=env, text=True,
                                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    results = {}
    for key, (work, p) in jobs.items():
        log = p.communicate(timeout=300)[0]
        scores = {}
        if (work / "out" / "results.json").exists():
            data = json.loads((work / "out" / "results.json").read_text())
            scores = {t["name"]: (t["score"], t["max_score"]) for t in data["tests"]
                      if t["name"] != "Public Tests"}
        results[key] = {"rc": p.returncode, "log": log, "scores": scores}
    return results


def _graded(graded, master, name):
    r = graded.get((master, name))
    assert r is not None, "otter assign failed (see test_master_passes_its_tests)"
    assert r["rc"] == 0 and r["scores"], f"otter run crashed:\n{r['log'][-3000:]}"
    return r["scores"]


# ---------------------------------------------------------------- tests

def test_there_are_exercises():
    assert ELBO in MASTERS
    assert len(questions(ELBO)) >= 3


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


@pytest.mark.parametrize("variant,question", WRONG_CASES,
                         ids=[re.sub(r"\W+", "_", f"{q} {WRONG[v][q][0]}").strip("_") for v, q in WRONG_CASES])
def test_wrong_answer_is_rejected(graded, variant, question):
    scores = _graded(graded, ELBO, f"wrong-{variant}")
    score, best = scores[question]
    assert score < best, f"{question}: '{WRONG[variant][question][0]}' got full marks"


def test_raising_or_nan_answers_score_zero(graded):
    scores = _graded(graded, ELBO, "broken")
    assert set(scores) == set(BROKEN)
    assert all(score == 0 for score, _ in scores.values()), scores
