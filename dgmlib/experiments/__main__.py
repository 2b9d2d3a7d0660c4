"""Run experiments from the command line and print their tables.

    python -m dgmlib.experiments [names] [--quick] [--workers N] [--device cpu] [--dataset D] [--out FOLDER]

Without ``--out`` nothing is written (the library never writes into the repository); with it,
each record goes to ``FOLDER/<name>.json`` (``<name>-<dataset>.json`` with ``--dataset``). In the repository, ``python tools/tables.py run``
recomputes the committed result files.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

from . import file_name, names, run, save, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dgmlib.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"experiments to run (default: all of {', '.join(names())})")
    parser.add_argument("--quick", action="store_true", help="tiny settings (a smoke test)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dataset", default=None, help="a variant's data set, e.g. mnist5k (default: digits)")
    parser.add_argument("--out", default=None, help="folder for the JSON records (default: not saved)")
    args = parser.parse_args(argv)
    for name in args.names or names():
        record = run(name, quick=args.quick, workers=args.workers, device=args.device, dataset=args.dataset)
        caption, frame = table(name, record)
        print(f"{name}: {caption}\n{frame.to_string()}")
        kind = "quick runs" if args.quick else "runs"
        if args.out:
            path = save(record, pathlib.Path(args.out) / file_name(name, args.dataset))
            print(f"{name}: {len(record['rows'])} {kind} in {record['wall_seconds']} s -> {path}")
        else:
            print(f"{name}: {len(record['rows'])} {kind} in {record['wall_seconds']} s (not saved)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
