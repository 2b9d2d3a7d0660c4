"""The graded exercises (exercises/*/*-master.ipynb, otter-grader).

One ``otter assign`` per master (module fixture, into a tmp dir) tests the solutions and gives the
student notebook and the autograder zip; submissions (the student notebook with its answer cells
rewritten) are graded by the real grader, ``otter run -a <zip>`` (offline, no Docker) through
``exercises/grade.py`` (a time limit per notebook), several at once. Every question of every set
must reject at least five plausible wrong answers (``WRONG``, one submission per variant, one wrong
answer per question in it), each scoring below full marks and at most the public tests' share of
the question's points, and score 0 for an answer that raises or returns NaN (``BROKEN``). Across
the library, every kind of wrong answer of ``KINDS`` occurs. Nothing is written into the repository.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import pathlib
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("exercises_build", ROOT / "exercises" / "build.py")
build = importlib.util.module_from_spec(_spec)
_dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no exercises/__pycache__
_spec.loader.exec_module(build)
_spec = importlib.util.spec_from_file_location("exercises_grade", ROOT / "exercises" / "grade.py")
grade = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grade)
sys.dont_write_bytecode = _dont_write

MASTERS = build.masters()
ELBO = ROOT / "exercises" / "02_elbo" / "elbo-master.ipynb"
# concurrent otter processes (each one starts a kernel that imports torch): one per core, since
# more kernels starting at once on a loaded machine die before they answer (seen in CI)
PARALLEL = max(1, min(4, os.cpu_count() or 1))
MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")
MIN_WRONG = 5              # plausible wrong answers per question
PUBLIC_SHARE = 0.2         # the public tests of a question carry at most this share of its points
# the kinds of wrong answer the library must hold (a label starting with "[kind]"), with what they do
KINDS = {
    "joint": "a sampler with the right marginals and the wrong joint structure",
    "grad": "cuts the gradient (no_grad, detach, .sample(), float())",
    "in-place": "modifies its input in place",
    "shift": "a log-sum-exp shifted by one global maximum instead of one per row",
    "1/(N-1)": "an unbiased variance where the question asks for 1/N",
    ">=": ">= where the question asks for >",
    "type": "returns the wrong type (a tensor for an int or a float, ...)",
    "dgmlib": "calls dgmlib where the question asks for plain torch",
    "allclose": "redefines torch.allclose (and friends) in the notebook",
    "seed": "re-seeds the global generator inside the function",
    "regular": "a sampler whose component counts are too regular (stratified or balanced, then shuffled)",
    "reused": "a sampler that reuses one random number for the component and for a coordinate",
    "clamp": "clamps logits or log-densities, wrong at the extreme inputs the question allows",
    "nan-grad": "right values, but NaN gradients at the boundary (q log q from q = exp(log q) = 0)",
    "forbidden": "builds what the question forbids (the d x d matrix, ...), right values",
}
HANG = "import time\ntime.sleep(10 ** 6)  # a cell that never returns\n"


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

def _selected(request) -> list[pathlib.Path]:
    """The masters that the selected tests need (``-k 02_elbo`` builds and grades one set only)."""
    ids = [item.nodeid for item in request.session.items]
    if any("hangs" in i for i in ids):  # the time-limit test grades a submission of 02_elbo
        ids.append(_id(ELBO))
    return [m for m in MASTERS if any(re.search(rf"(?<![0-9a-z_]){_id(m)}(?![0-9a-z])", i) for i in ids)]


@pytest.fixture(scope="module")
def assigned(request, tmp_path_factory):
    """master -> (otter assign process, its output dir, the student files it gives)."""
    chosen = _selected(request)
    dists = {master: tmp_path_factory.mktemp(_id(master)) / "dist" for master in chosen}
    with ThreadPoolExecutor(PARALLEL) as pool:  # one otter assign per set, at once
        procs = dict(zip(chosen, pool.map(lambda m: build.assign(m, dists[m]), chosen)))
    return {m: (procs[m], dists[m], build.student_files(m, dists[m]) if procs[m].returncode == 0 else None)
            for m in chosen}


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
    for master in assigned:
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
            jobs[master, name] = (nb_path, build.autograder_zip(dist))

    def grade_job(job):
        nb_path, zip_path = job
        r = grade.grade_one(nb_path, zip_path, timeout=300)
        return {"rc": 0 if r["status"] == "ok" else 1, "log": r["log"], "scores": r["scores"], "seconds": r["seconds"]}

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(zip(jobs, pool.map(grade_job, jobs.values())))


def _graded(graded, master, name):
    r = graded.get((master, name))
    assert r is not None, "otter assign failed (see test_master_passes_its_tests)"
    assert r["rc"] == 0 and r["scores"], f"otter run crashed:\n{r['log'][-3000:]}"
    return r["scores"]


# ---------------------------------------------------------------- reading the autograder

def _test_files(dist: pathlib.Path) -> dict:
    """Question -> its otter test file (public and hidden cases), from the autograder's tests/."""
    from otter.test_files.exception_test import ExceptionTestFile
    return {t.name: t for t in (ExceptionTestFile.from_file(str(p)) for p in sorted((dist / "autograder" / "tests").glob("*.py")))}


def _public_share(dist: pathlib.Path) -> dict[str, float]:
    """Question -> the share of its points that its public test cases carry."""
    return {q: sum(tc.points for tc in t.test_cases if not tc.hidden) / sum(tc.points for tc in t.test_cases)
            for q, t in _test_files(dist).items()}


def _kind(label: str) -> str | None:
    match = re.match(r"\[([^\]]+)\]", label)
    return match.group(1) if match else None


# ---------------------------------------------------------------- tests

def test_there_are_exercises():
    assert ELBO in MASTERS
    assert len(questions(ELBO)) >= 3
    assert set(WRONG) | set(BROKEN) <= {_id(m) for m in MASTERS}, "wrong answers for a set that does not exist"


def test_the_wrong_answers_cover_every_kind():
    labels = [label for variants in WRONG.values() for answers in variants.values() for label, _ in answers.values()]
    kinds = {_kind(label) for label in labels} - {None}
    assert kinds <= set(KINDS), f"unknown kinds: {sorted(kinds - set(KINDS))}"
    assert set(KINDS) <= kinds, f"add wrong answers of these kinds: {[KINDS[k] for k in sorted(set(KINDS) - kinds)]}"


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_every_question_has_wrong_answers(master):
    names = set(questions(master))
    wrong = [q for answers in WRONG.get(_id(master), {}).values() for q in answers]
    assert set(wrong) <= names and set(BROKEN.get(_id(master), {})) == names
    few = {q: wrong.count(q) for q in names if wrong.count(q) < MIN_WRONG}
    assert not few, f"add plausible wrong answers to WRONG['{_id(master)}'] (question: count): {few}"


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_master_passes_its_tests(assigned, master):
    proc, _, _ = assigned[master]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize("master", MASTERS, ids=_id)
def test_hidden_tests_carry_most_of_the_points(assigned, master):
    """Every question has public and hidden cases; the public ones carry at most PUBLIC_SHARE of
    its points, and the autograder ships the shared checks (dgmcheck.py)."""
    proc, dist, _ = assigned[master]
    assert proc.returncode == 0
    files = _test_files(dist)
    assert set(files) == set(questions(master))
    for q, t in files.items():
        assert any(tc.hidden for tc in t.test_cases) and any(not tc.hidden for tc in t.test_cases), q
    share = _public_share(dist)
    assert all(0 < v <= PUBLIC_SHARE + 1e-12 for v in share.values()), share
    assert (dist / "autograder" / build.HELPER).is_file()


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
        # hidden tests (and the checks they share) are only in the autograder
        assert not any("hidden=True" in t or "dgmcheck" in t for rel, t in version.items() if rel.endswith(".py"))
        assert not any(rel.endswith(build.HELPER) for rel in version)
    assert all(any("hidden=True" in line for line in p.read_text().splitlines())
               for p in (dist / "autograder" / "tests").glob("*.py"))


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
def test_wrong_answer_is_rejected(graded, assigned, set_id, variant, question):
    """Below full marks, and no more than the public tests' share: the hidden test fails."""
    master = _master(set_id)
    scores = _graded(graded, master, f"wrong-{variant}")
    score, best = scores[question]
    label = WRONG[set_id][variant][question][0]
    assert score < best, f"{set_id} {question}: '{label}' got full marks"
    share = _public_share(assigned[master][1])[question]
    assert score <= share * best + 1e-9, f"{set_id} {question}: '{label}' passed a hidden test ({score} of {best})"


@pytest.mark.parametrize("set_id", sorted(BROKEN))
def test_raising_or_nan_answers_score_zero(graded, set_id):
    scores = _graded(graded, _master(set_id), "broken")
    assert set(scores) == set(BROKEN[set_id])
    assert all(score == 0 for score, _ in scores.values()), scores


NOTE_SET = "10_inference_gaps"  # a short set (3 questions) with a near-miss of every kind: WRONG[NOTE_SET]["I"]


@pytest.mark.parametrize("set_id", [NOTE_SET])
def test_grader_check_says_what_the_public_tests_are_worth(assigned, graded, set_id, tmp_path):
    """What a student sees: the student notebook, run from its folder as a student runs it (nbclient),
    shows under every grader.check result that the public tests carry 20% of the question's points and
    that a hidden test decides the rest, on a solved notebook and on a near-miss one (answers that pass
    the public tests and that the hidden tests reject); the grader gives them full marks and at most
    the public share."""
    import nbclient
    master = _master(set_id)
    proc, dist, files = assigned[master]
    assert proc.returncode == 0
    share = _public_share(dist)
    near_miss = {q: a for q, (_, a) in WRONG[set_id]["I"].items()}
    for name, answers, graded_as in (("solved", {q: correct_answer(s) for q, s in questions(master).items()}, "correct"),
                                     ("near-miss", near_miss, "wrong-I")):
        folder = tmp_path / name
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        nb = _submission(master, files, answers)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
        checks = [c for c in nb.cells if c.cell_type == "code" and c.source.strip().startswith("grader.check(")]
        asked = [q for q in questions(master) if name == "solved" or q in answers]
        for q in asked:
            cell = next(c for c in checks if f'"{q}"' in c.source)
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs if o.output_type == "display_data")
            assert f"{q} results: All test cases passed!" in shown, f"{name} {q}: {cell.outputs}"
            assert f"{q}: the public tests passed; they carry 20% of the question's points." in text, f"{name} {q}: {text!r}"
            assert "A hidden test, run when the notebook is graded, decides the rest" in text, f"{name} {q}: {text!r}"
        scores = _graded(graded, master, graded_as)
        for q in asked:
            score, best = scores[q]
            assert score == best if name == "solved" else score <= share[q] * best + 1e-9, (name, q, scores[q])


def test_grading_stops_a_notebook_that_hangs(assigned, tmp_path):
    """exercises/grade.py: a cell that sleeps forever is stopped by the time limit (kernel included)
    and the notebook scores 0; a broken file is reported; one CSV row per submission."""
    import csv
    master = ELBO
    proc, dist, files = assigned[master]
    assert proc.returncode == 0
    name = f"{build.student_name(master)}.ipynb"
    folder = tmp_path / "submissions"
    (folder / "alice").mkdir(parents=True)
    (folder / "bob").mkdir()
    first = next(iter(questions(master)))
    nbformat.write(_submission(master, files, {first: HANG + correct_answer(questions(master)[first])}), folder / "alice" / name)
    (folder / "bob" / name).write_text("{ not a notebook")
    limit = 20
    with _descendants() as started:       # what grade.py starts, not every process on the machine
        rows = grade.grade_folder(folder, build.autograder_zip(dist), tmp_path / "grades.csv", timeout=limit, jobs=2)
    alice, bob = rows
    assert alice["submission"] == f"alice/{name}" and alice["status"] == f"timed out after {limit} s"
    assert alice["total"] == 0 and alice["seconds"] < limit + 15
    assert bob["status"].startswith("error") and bob["total"] == 0
    with open(tmp_path / "grades.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == ["alice/" + name, "bob/" + name]
    assert list(table[0]) == ["submission", *questions(master), "total", "possible", "status", "seconds"]
    assert started, "the watch saw none of the otter processes that grade.py started"
    leftover = {p.pid: command for p, command in started.items() if _alive(p)}
    assert not leftover, f"processes that grade.py started, left running after the time limit: {leftover}"


@contextlib.contextmanager
def _descendants(every: float = 0.05):
    """Inside the block, a thread records every process that descends from this one and starts in
    the block (the grader runs in this process: its otter runs and their kernels) as
    psutil.Process -> its command, so a kernel that its killed parent orphaned is still known;
    ``is_running()`` checks the start time too, so a recycled pid is not mistaken for it.
    Processes started by anything else (another Jupyter kernel, the other pytest-xdist worker)
    are not descendants and are not recorded."""
    import psutil
    me, seen, stop = psutil.Process(os.getpid()), {}, threading.Event()

    def key(p):
        return p.pid, p.create_time()
    before = set()
    for child in me.children(recursive=True):      # running already (e.g. a kernel of an earlier test)
        with contextlib.suppress(psutil.Error):
            before.add(key(child))

    def watch():
        while not stop.is_set():
            try:
                children = me.children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                try:
                    k = key(child)
                    if k not in before:                  # the latest command line: the one after exec
                        seen[k] = (seen.get(k, (child,))[0], " ".join(child.cmdline()))
                except psutil.Error:
                    pass
            stop.wait(every)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    found: dict = {}
    try:
        yield found
    finally:
        stop.set()
        thread.join()
        found.update(dict(seen.values()))


def _alive(p) -> bool:
    """Whether the process (the same one: pid and start time) still runs; a zombie has ended."""
    import psutil
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_a_private_copy_of_the_masters_builds_elsewhere(tmp_path):
    """build.py --masters <private> --out <folder>: a course's own hidden tests reach its autograder,
    not the student files (the same as the public ones), and nothing is written into exercises/."""
    import zipfile
    private = tmp_path / "masters" / _id(ELBO)
    private.mkdir(parents=True)
    text = ELBO.read_text()
    marker = "a check only the course knows"
    assert text.count("random batch [5, 7, 4], inputs left unchanged") == 1
    (private / ELBO.name).write_text(text.replace("random batch [5, 7, 4], inputs left unchanged", marker))
    before = build.committed_files(ELBO)
    out = tmp_path / "build"
    assert build.main(["--masters", str(tmp_path / "masters"), "--out", str(out)]) == 0
    copy = build.masters(tmp_path / "masters")[0]
    assert build.committed_files(copy, out) == before, "the student files carry no hidden test"
    with zipfile.ZipFile(out / _id(ELBO) / "dist" / f"{build.student_name(ELBO)}-autograder.zip") as z:
        assert marker in z.read("tests/q1.py").decode() and "files/" + build.HELPER in z.namelist()
    assert build.committed_files(ELBO) == before
    assert build.main(["--masters", str(tmp_path / "masters"), "--out", str(out), "--check"]) == 0
