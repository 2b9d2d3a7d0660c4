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

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("exercises_build", ROOT / "exercises" / "build.py")
build = importlib.util.module_from_spec(_spec)
_dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no exercises/__pycache__
_spec.loader.exec_module(build)
sys.dont_write_bytecode = _dont_write

MASTERS = build.masters()
ELBO = ROOT / "exercises" / "01_elbo" / "elbo-master.ipynb"
# concurrent otter processes (each one starts a kernel that imports torch): one per core, since
# more kernels starting at once on a loaded machine die before they answer (seen in CI)
PARALLEL = max(1, min(4, os.cpu_count() or 1))
# a grading run whose kernel failed to start is infrastructure trouble, not a score: run it again
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Timeout waiting for kernel_info")
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

# 01_elbo

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

WRONG_ELBO = {
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
BROKEN_ELBO = {"q1": "def kl_standard_normal(mu, logvar):\n    raise NotImplementedError('todo')\n",
               "q2": REPARAM.format("torch.full_like(mu, float('nan'))"),
               "q3": "raise RuntimeError('cell fails before defining mc_elbo')\n" + ELBO_HEAD + "    return log_px\n"}


# 02_iwae

IWAE = "def iwae_from_log_weights(log_w):\n    return {}\n"
AU = "def active_units(mu, threshold=0.01):\n    return {}\n"
SNW = "def self_normalized_weights(log_w):\n    return {}\n"

WRONG_IWAE = {
    "A": {"q1": ("log(mean(exp)) under- and overflows", IWAE.format("torch.log(torch.exp(log_w).mean(0))")),
          "q2": ("unbiased variance (divides by N - 1)", AU.format("int((mu.var(0) > threshold).sum())")),
          "q3": ("exp before normalizing overflows", SNW.format("torch.exp(log_w) / torch.exp(log_w).sum(0)"))},
    "B": {"q1": ("missing the -log K", IWAE.format("torch.logsumexp(log_w, dim=0)")),
          "q2": ("standard deviation instead of variance", AU.format("int((mu.std(0, unbiased=False) > threshold).sum())")),
          "q3": ("softmax over the batch", SNW.format("torch.softmax(log_w, dim=-1)"))},
    "C": {"q1": ("mean of the log weights (the ELBO)", IWAE.format("log_w.mean(0)")),
          "q2": ("variance over the units", AU.format("int((mu.var(1, unbiased=False) > threshold).sum())")),
          "q3": ("weights divided by K, not by their sum", SNW.format("torch.exp(log_w) / log_w.shape[0]"))},
    "D": {"q1": ("log-mean-exp over the batch", IWAE.format("torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])")),
          "q2": ("counts the inactive units", AU.format("int((mu.var(0, unbiased=False) <= threshold).sum())")),
          "q3": ("log of the normalized weights", SNW.format("log_w - torch.logsumexp(log_w, dim=0)"))},
}
BROKEN_IWAE = {"q1": "def iwae_from_log_weights(log_w):\n    raise NotImplementedError('todo')\n",
               "q2": AU.format("float('nan')"),
               "q3": "raise RuntimeError('cell fails before defining it')\n" + SNW.format("torch.softmax(log_w, 0)")}

# 03_elbo_surgery. The wrong answers to q2 and q3 compute log q(z) themselves (AGG), so that they are
# judged on their own, whatever the submission's q1.

PAIR = "    pair = log_normal(z[:, None, :], mu[None, :, :], logvar[None, :, :])\n"
LAP = "def log_aggregate_posterior(z, mu, logvar):\n" + PAIR + "    return {}\n"
LAP_FACTORIZED = ("def log_aggregate_posterior(z, mu, logvar):\n"
                  "    per_dim = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]).pow(2) * torch.exp(-logvar[None]))\n"
                  "    return (torch.logsumexp(per_dim, dim=1) - math.log(mu.shape[0])).sum(-1)\n")
AGG = "    log_agg = torch.logsumexp(log_normal(z[:, None], mu[None], logvar[None]), dim=1) - math.log(mu.shape[0])\n"
OWN = "    log_own = log_normal(z, mu, logvar)\n"
PRIOR = "    log_prior = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))\n"
MI = "def mutual_information(z, mu, logvar):\n" + AGG + OWN + PRIOR + "    return {}\n"
MKL = "def marginal_kl(z, mu, logvar):\n" + AGG + OWN + PRIOR + "    return {}\n"

WRONG_SURGERY = {
    "A": {"q1": ("mean of the log-densities", LAP.format("pair.mean(1)")),
          "q2": ("sign error", MI.format("(log_agg - log_own).mean()")),
          "q3": ("sign error", MKL.format("(log_prior - log_agg).mean()"))},
    "B": {"q1": ("missing the -log N", LAP.format("torch.logsumexp(pair, dim=1)")),
          "q2": ("prior instead of the aggregate posterior (the average KL)", MI.format("(log_own - log_prior).mean()")),
          "q3": ("own posterior instead of the aggregate (the average KL)", MKL.format("(log_own - log_prior).mean()"))},
    "C": {"q1": ("log(mean(exp)) underflows", LAP.format("torch.log(torch.exp(pair).mean(1))")),
          "q2": ("sum over the data points instead of the mean", MI.format("(log_own - log_agg).sum()")),
          "q3": ("prior log-density without the 2 pi", MKL.format("(log_agg + 0.5 * z.pow(2).sum(-1)).mean()"))},
    "D": {"q1": ("a mixture per dimension", LAP_FACTORIZED),
          "q2": ("log q(z) missing the -log N", MI.format("(log_own - log_agg - math.log(mu.shape[0])).mean()")),
          "q3": ("log q(z) missing the -log N", MKL.format("(log_agg + math.log(mu.shape[0]) - log_prior).mean()"))},
}
BROKEN_SURGERY = {"q1": LAP.format("torch.full(z.shape[:1], float('nan'), dtype=z.dtype)"),
                  "q2": "def mutual_information(z, mu, logvar):\n    raise NotImplementedError('todo')\n",
                  "q3": "raise RuntimeError('cell fails before defining it')\n" + MKL.format("(log_agg - log_prior).mean()")}

# 04_flows. The wrong answers to q2 take u_hat as given, so they are judged whatever the submission's q1.

UHAT = ("def planar_u_hat(u, w):\n"
        "    wu = (w * u).sum(-1, keepdim=True)\n"
        "    return u + ({} - wu) * w / {}\n")
PLANAR = ("def planar_forward(z, u_hat, w, b):\n"
          "    t = torch.tanh((z * w).sum(-1, keepdim=True) + b)\n"
          "    psi = {} * w\n"
          "    return z + u_hat * t, {}\n")
HOUSE = "def householder(z, v):\n    return {}\n"
SYLV = "def sylvester_log_det(r_diag, r_tilde_diag, h_prime):\n    return {}\n"

WRONG_FLOWS = {
    "A": {"q1": ("divides by ||w|| instead of ||w||^2", UHAT.format("(-1.0 + F.softplus(wu))", "w.norm()")),
          "q2": ("log-det without the absolute value", PLANAR.format("(1.0 - t * t)", "torch.log(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("v not normalized", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True)")),
          "q4": ("missing the absolute value", SYLV.format("torch.log(1.0 + r_diag * r_tilde_diag * h_prime).sum(-1)"))},
    "B": {"q1": ("m(a) = softplus(a), missing the -1", UHAT.format("F.softplus(wu)", "(w * w).sum()")),
          "q2": ("tanh' written as 1 - tanh", PLANAR.format("(1.0 - t)", "torch.log(torch.abs(1.0 + (psi * u_hat).sum(-1)))")),
          "q3": ("sign error", HOUSE.format("z + 2.0 * v * (z * v).sum(-1, keepdim=True) / (v * v).sum()")),
          "q4": ("product without the log", SYLV.format("torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1)"))},
    "C": {"q1": ("log(1 + exp(a)) overflows", UHAT.format("(-1.0 + torch.log(1.0 + torch.exp(wu)))", "(w * w).sum()")),
          "q2": ("forgets the log", PLANAR.format("(1.0 - t * t)", "torch.abs(1.0 + (psi * u_hat).sum(-1))")),
          "q3": ("divides by ||v|| instead of ||v||^2", HOUSE.format("z - 2.0 * v * (z * v).sum(-1, keepdim=True) / v.norm()")),
          "q4": ("sums over the batch instead of the factors", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime)).sum(0)"))},
    "D": {"q1": ("missing the division by ||w||^2", UHAT.format("(-1.0 + F.softplus(wu))", "1.0")),
          "q4": ("log of the product underflows", SYLV.format("torch.log(torch.abs(1.0 + r_diag * r_tilde_diag * h_prime).prod(-1))"))},
}
BROKEN_FLOWS = {"q1": "def planar_u_hat(u, w):\n    raise NotImplementedError('todo')\n",
                "q2": PLANAR.format("(1.0 - t * t)", "torch.full(z.shape[:-1], float('nan'), dtype=z.dtype)"),
                "q3": "raise RuntimeError('cell fails before defining it')\n" + HOUSE.format("z"),
                "q4": SYLV.format("torch.full(h_prime.shape[:-1], float('nan'), dtype=h_prime.dtype)")}

# set -> variant -> question -> (label, answer cell). One submission per variant: one otter run
# judges a wrong answer for every question at once (questions are graded independently).
WRONG = {"01_elbo": WRONG_ELBO, "02_iwae": WRONG_IWAE, "03_elbo_surgery": WRONG_SURGERY,
         "04_flows": WRONG_FLOWS}
# set -> question -> an answer that raises or returns NaN: graded as a failure, not a grader crash
BROKEN = {"01_elbo": BROKEN_ELBO, "02_iwae": BROKEN_IWAE, "03_elbo_surgery": BROKEN_SURGERY,
          "04_flows": BROKEN_FLOWS}
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
