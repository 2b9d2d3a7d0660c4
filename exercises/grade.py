"""Grade a folder of submissions offline, with a time limit per notebook, into one CSV.

    python exercises/build.py                                  # builds the autograders first
    python exercises/grade.py submissions/ --set 02_elbo --out grades.csv
    python exercises/grade.py submissions/ --autograder path/to/elbo-autograder.zip --timeout 300

Every ``*.ipynb`` below the folder (``submissions/alice/elbo.ipynb``, ...) is graded by ``otter run``
(no Docker) in its own temporary folder and process session. A run that takes longer than
``--timeout`` seconds (a cell that sleeps or loops forever) is killed with its whole process tree,
the kernel included, and the notebook gets 0 points with the status ``timed out``. A run whose
kernel failed to start (seen on loaded machines) is retried twice. One CSV row per submission:
the file (relative to the folder), the points of every question, total, possible, status
(``ok``, ``timed out after N s``, ``error: ...``) and the seconds it took.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent
# kernel start-up failures are infrastructure trouble, not a score: the run is repeated
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Timeout waiting for kernel_info",
                         "Kernel didn't respond in")
ATTEMPTS = 3


def questions(autograder: pathlib.Path) -> dict[str, float]:
    """Question name -> its points, read from the autograder's test files."""
    from otter.test_files.exception_test import ExceptionTestFile
    from otter.test_files.ok_test import OKTestFile
    out = {}
    with zipfile.ZipFile(autograder) as z, tempfile.TemporaryDirectory() as tmp:
        for name in sorted(n for n in z.namelist() if n.startswith("tests/") and n.endswith(".py")):
            path = pathlib.Path(tmp) / pathlib.Path(name).name
            path.write_bytes(z.read(name))
            text = path.read_text()
            test = (OKTestFile if "OK_FORMAT = True" in text else ExceptionTestFile).from_file(str(path))
            out[test.name] = sum(tc.points for tc in test.test_cases)
    return out


def _kill_tree(proc: subprocess.Popen, settle: float = 10.0) -> None:
    """Kill the otter process, its session, and every descendant's session (the kernel has its own),
    then wait up to ``settle`` seconds until each killed process has ended (SIGKILL is delivered
    asynchronously: on a loaded machine a kernel can still be running for a moment after it)."""
    groups, procs = set(), []
    try:
        import psutil
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                groups.add(os.getpgid(child.pid))
                child.kill()
                procs.append(child)
            except (psutil.Error, ProcessLookupError):
                pass
    except Exception:  # noqa: BLE001 - psutil missing or the process gone: the group kill remains
        pass
    groups.add(proc.pid)  # start_new_session: the otter process leads its own group
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()
    deadline = time.monotonic() + settle
    while procs and time.monotonic() < deadline:
        procs = [p for p in procs if _running(p)]
        if procs:
            time.sleep(0.05)


def _running(p) -> bool:
    """Whether a psutil process still runs (a zombie has ended: only its parent's reaping is left)."""
    import psutil
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def grade_one(notebook: pathlib.Path, autograder: pathlib.Path, timeout: float = 300,
              env: dict | None = None) -> dict:
    """Grade one notebook: {"status", "scores": {question: (score, max)}, "seconds", "log", "pids"}."""
    notebook, autograder = pathlib.Path(notebook).resolve(), pathlib.Path(autograder).resolve()
    env = dict(os.environ if env is None else env)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dgm-grade-") as tmp:
        work = pathlib.Path(tmp)
        (work / notebook.name).write_bytes(notebook.read_bytes())
        for _attempt in range(ATTEMPTS):
            out = work / "out"
            out.mkdir(exist_ok=True)
            (out / "results.json").unlink(missing_ok=True)
            cmd = [sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(out), notebook.name]
            with open(work / "log.txt", "w+") as log:
                proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
                left = timeout - (time.monotonic() - start)
                try:
                    proc.wait(timeout=max(left, 0.1))
                    timed_out = False
                except subprocess.TimeoutExpired:
                    _kill_tree(proc)
                    timed_out = True
                log.seek(0)
                text = log.read()
            if timed_out or not any(msg in text for msg in KERNEL_START_FAILURES):
                break
        seconds = time.monotonic() - start
        result = {"seconds": seconds, "log": text, "pid": proc.pid, "scores": {}}
        if timed_out:
            return {**result, "status": f"timed out after {timeout:g} s"}
        if not (out / "results.json").exists():
            last = [line for line in text.splitlines() if line.strip()][-1:] or [""]
            return {**result, "status": f"error: otter exit {proc.returncode}: {last[0][:200]}"}
        data = json.loads((out / "results.json").read_text())
        tests = [t for t in data["tests"] if t["name"] != "Public Tests"]
        scores = {t["name"]: (float(t["score"]), float(t["max_score"])) for t in tests}
        result["outputs"] = {t["name"]: t.get("output", "") for t in tests}
        return {**result, "scores": scores, "status": "ok" if proc.returncode == 0 else f"error: otter exit {proc.returncode}"}


def submissions(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in pathlib.Path(folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def grade_folder(folder: pathlib.Path, autograder: pathlib.Path, out_csv: pathlib.Path,
                 timeout: float = 300, jobs: int = 1) -> list[dict]:
    """Grade every notebook below ``folder`` and write one CSV row per notebook."""
    folder = pathlib.Path(folder)
    names = questions(autograder)
    notebooks = submissions(folder)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(lambda nb: grade_one(nb, autograder, timeout), notebooks))
    rows = []
    for nb, r in zip(notebooks, results):
        row = {"submission": nb.relative_to(folder).as_posix()}
        row.update({q: r["scores"].get(q, (0, names[q]))[0] for q in names})
        row.update(total=sum(row[q] for q in names), possible=sum(names.values()), status=r["status"],
                   seconds=round(r["seconds"], 1))
        rows.append(row)
    out_csv = pathlib.Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", *names, "total", "possible", "status", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def autograder_of_set(name: str) -> pathlib.Path:
    zips = sorted((HERE / name / "dist").glob("*-autograder.zip"))
    if len(zips) != 1:
        raise SystemExit(f"no autograder for {name}: run `python exercises/build.py` first")
    return zips[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=pathlib.Path, help="folder of submitted notebooks (searched recursively)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--set", help="exercise set, e.g. 02_elbo (its autograder in exercises/<set>/dist)")
    which.add_argument("--autograder", type=pathlib.Path, help="an autograder zip (from build.py)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("grades.csv"))
    parser.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    args = parser.parse_args(argv)
    autograder = args.autograder or autograder_of_set(args.set)
    rows = grade_folder(args.folder, autograder, args.out, timeout=args.timeout, jobs=args.jobs)
    for row in rows:
        print(f"{row['submission']}: {row['total']:g} / {row['possible']:g} ({row['status']})")
    print(f"{len(rows)} submission(s) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
