"""Recompute the book's results tables and publish the appendix page "Results tables".

    python tools/tables.py run [names] [--workers N] [--device cpu]   # -> dgmlib/experiments/results/<name>.json
    python tools/tables.py run iwae --dataset mnist5k                  # -> .../results/iwae-mnist5k.json
    python tools/tables.py publish                                     # -> book/results.md

``--dataset`` runs the tables that have settings for that data set (their ``variants``: MNIST-5k
offline, full MNIST where torchvision can download it, e.g. on a GPU machine) into
``<name>-<dataset>.json``; the appendix shows each beside the digits table.

``run`` saves each finished training run's row under ``--partial`` at once: a table that was stopped
(a session that ended, a killed process) resumes from there when rerun at the same commit.

``run`` runs each experiment with its full settings (dgmlib.experiments.run), stamps the git commit
of this checkout and whether its library code had uncommitted changes into the record, and saves it
among the committed result files (the package data the chapters read). ``publish`` renders every
committed table, with its settings and provenance, into book/results.md; a test checks that the page
matches the result files. The library itself never writes into the repository nor calls git.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # the dgmlib of this checkout, whose commit the records name

import dgmlib.experiments as experiments  # noqa: E402
from dgmlib.report import markdown_table  # noqa: E402

RESULTS = ROOT / "dgmlib" / "experiments" / "results"
TRAINED = ROOT / "dgmlib" / "experiments" / "trained_models"
PAGE = ROOT / "book" / "results.md"


#: The library's code, whose uncommitted changes mark a record "library modified": dgmlib without
#: the files a table run writes (its result files and kept models).
LIBRARY_PATHSPEC = ("dgmlib", ":!dgmlib/experiments/results", ":!dgmlib/experiments/trained_models")


def code_version() -> dict[str, Any]:
    """dgmlib's and torch's versions and, inside a git checkout, the commit and whether the
    library's code (not the result files) differs from it."""
    info: dict[str, Any] = dict(experiments.code_version())
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *LIBRARY_PATHSPEC],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            info.update(commit=commit, dgmlib_dirty=bool(dirty))
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def run(names: list[str], workers: int = 1, device: str = "cpu", out: pathlib.Path = RESULTS,
        dataset: str | None = None, trained: pathlib.Path | None = None, upcoming: bool = False,
        partial: pathlib.Path | None = None) -> list[pathlib.Path]:
    """Run the experiments ``names`` in full (on ``dataset``, default each one's own), stamp
    :func:`code_version` and save each record to ``out/<name>.json`` (``<name>-<dataset>.json``)
    as soon as it is done; with ``trained``, the models each table keeps are saved there. With
    ``partial``, each finished task's row is saved at once under
    ``partial/<name>-<dataset>-<commit>/``, and a rerun at the same commit resumes from them."""
    paths = []
    keep = ({} if trained is None else {"keep_dir": trained}) | ({"upcoming": True} if upcoming else {})
    for name in names:
        version = code_version()   # before the run: the code that ran, not edits made meanwhile
        if partial is not None:    # rows of another commit, or of uncommitted code, are not resumed
            stem = experiments.file_name(name, dataset).removesuffix(".json")
            tag = "-".join([stem, str(version.get("commit", "nogit"))[:12], device]
                           + (["upcoming"] if upcoming else [])
                           + ([f"dirty{os.getpid()}"] if version.get("dgmlib_dirty", True) else []))
            keep["partial_dir"] = partial / tag
        record = experiments.run(name, workers=workers, device=device, dataset=dataset, **keep)
        record["code"] = version
        paths.append(experiments.save(record, out / experiments.file_name(name, dataset)))
        if partial is not None:    # the record holds the rows now: a later run starts afresh
            shutil.rmtree(keep["partial_dir"], ignore_errors=True)
        print(f"{name}: {len(record['rows'])} runs in {record['wall_seconds']} s -> {paths[-1]}", flush=True)
    return paths


def results_page(records: dict[Any, dict[str, Any]]) -> str:
    """The appendix page "Results tables": every committed table with its settings and provenance."""
    out = ["# Results tables", "",
           "Every expensive table of the book, in one place, as the chapters show it: each comes from",
           "`dgmlib/experiments/results/<name>.json`, written by `make tables` (`python tools/tables.py run`),",
           "which reruns the experiments with the seeds and settings recorded below. The papers' numbers stand",
           "beside ours; they were measured on MNIST-sized data, ours on the 8x8 digits and, where a table",
           "has a second one, on MNIST-5k (5000 real MNIST images, 784 pixels; see each chapter for why",
           "they differ). This page is generated by `python tools/tables.py publish`; a",
           "test checks that it matches the committed result files.", ""]
    titles = {"digits": "8x8 digits", "mnist5k": "MNIST-5k (784 pixels)", "mnist": "MNIST (784 pixels)"}
    seen: set[str] = set()
    for record in records.values():
        name = record["name"]
        dataset = record.get("dataset") or record["settings"].get("dataset", "digits")
        experiment = experiments.spec(name)
        caption, frame = experiments.table(name, record)
        chapter = pathlib.Path(experiment.chapter).name
        code = record.get("code", {})
        if name not in seen:
            seen.add(name)
            out += [f"## {experiment.title}", ""]
            if chapter:
                out += [f"Chapter: {{doc}}`{chapter}`. Experiment `{name}`.", ""]
        if len(experiment.variants):
            out += [f"### {experiment.title}: {titles.get(dataset, dataset)}", ""]
        out += [caption, "", markdown_table(frame), ""]
        note = experiments.base.convergence_note(record)
        if note:
            out += [note, ""]
        resumed = (f" (the last {len(record['rows']) - record['resumed']}; {record['resumed']} resumed from an "
                   "earlier, stopped run at the same commit)") if record.get("resumed") else ""
        out += [f"Seeds {record['settings'].get('seeds')}; {len(record['rows'])} training runs in "
                f"{record.get('wall_seconds')} s{resumed} on {record.get('device')} ({record.get('workers')} worker(s)), "
                f"{record.get('created')}; dgmlib {code.get('dgmlib')}, torch {code.get('torch')}, commit "
                f"`{str(code.get('commit', 'unknown'))[:12]}`" + (" (library modified)" if code.get("dgmlib_dirty") else "")
                + ".", "",
                "```{dropdown} Settings", "", json.dumps(record["settings"], indent=1), "```", ""]
    out += quoted_section()
    return "\n".join(out)


def quoted_section() -> list[str]:
    """The papers' tables the book quotes but does not reproduce (dgmlib.experiments.quoted),
    each marked as quoted, with its source and the chapter that discusses it."""
    from dgmlib.experiments import quoted
    out = ["## Quoted from the papers, not reproduced", "",
           "The tables below are copied from the lecture decks the book is built from, with the papers'",
           "own numbers on the papers' data (MNIST-sized or larger images). Nothing here was run for the",
           "book; the chapters discuss them beside the tables above.", ""]
    for table in quoted.TABLES:
        out += [f"### {table['title']}", "",
                f"**{quoted.NOTICE}** Source: {table['source']} (lecture deck `{table['deck']}`). "
                f"Chapter: {{doc}}`{table['chapter']}`. {table['note']}", "",
                markdown_table(quoted.frame(table)), ""]
    return out


def publish(path: os.PathLike = PAGE, results: os.PathLike = RESULTS) -> pathlib.Path:
    """Write :func:`results_page` of every result file in ``results`` to ``path``, in chapter order."""
    ready = sorted(experiments.names(), key=lambda n: experiments.spec(n).chapter)
    records = {(n, d): experiments.load(n, pathlib.Path(results) / experiments.file_name(n, d))
               for n in ready for d in experiments.available(n, results)}
    path = pathlib.Path(path)
    path.write_text(results_page(records))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/tables.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="recompute result files (full settings)")
    run_parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(experiments.names())}")
    run_parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    run_parser.add_argument("--device", default="cpu")
    run_parser.add_argument("--dataset", default=None,
                            help="a variant's data set, e.g. mnist5k or mnist (default: each table's own, the digits)")
    run_parser.add_argument("--out", type=pathlib.Path, default=RESULTS, help="default: dgmlib/experiments/results")
    run_parser.add_argument("--trained", type=pathlib.Path, default=TRAINED,
                            help="where the kept trained models go (default: dgmlib/experiments/trained_models)")
    run_parser.add_argument("--upcoming", action="store_true",
                            help="the data set's upcoming settings (the papers' protocol: dynamic binarization, "
                                 "early stopping, a K sweep, kept models) where a table has them")
    run_parser.add_argument("--partial", type=pathlib.Path, default=ROOT / ".partial",
                            help="where each finished run's row is saved at once, so that a stopped table "
                                 "resumes at the same commit (default: .partial/ in this checkout)")
    publish_parser = commands.add_parser("publish", help="write the appendix page from the result files")
    publish_parser.add_argument("--out", type=pathlib.Path, default=PAGE, help="default: book/results.md")
    args = parser.parse_args(argv)
    if args.command == "run":
        names = args.names or [n for n in experiments.names()
                               if args.dataset is None or args.dataset in experiments.spec(n).datasets
                               or (args.upcoming and args.dataset in experiments.spec(n).upcoming)]
        for name in names:   # an unknown name or data set fails before hours of runs
            experiments.spec(name).settings_for(args.dataset, upcoming=args.upcoming)
            experiments.file_name(name, args.dataset)
        run(names, workers=args.workers, device=args.device, out=args.out, dataset=args.dataset,
            trained=args.trained, upcoming=args.upcoming, partial=args.partial)
    else:
        print(f"results page -> {publish(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
