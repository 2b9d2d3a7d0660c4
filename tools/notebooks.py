"""Notebook housekeeping: the canonical setup cell (stamped from _config.yml's repository URL)
and output stripping.

    python tools/notebooks.py sync    # rewrite every book/ and exercises/ notebook's setup cell
    python tools/notebooks.py check   # exit 1 if a notebook's setup cell or outputs are off
    python tools/notebooks.py strip   # remove outputs and execution counts
"""
from __future__ import annotations

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SETUP_MARKER = "# Setup: works locally and on Colab"


def repository_url() -> str:
    """The repository URL from _config.yml (the one place it is kept)."""
    text = (ROOT / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", text, re.M)
    if not match:
        raise RuntimeError("_config.yml has no repository.url")
    return match.group(1)


def repository_branch() -> str:
    """The branch from _config.yml (repository.branch), "main" when absent."""
    text = (ROOT / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+branch:\s*(\S+)", text, re.M)
    return match.group(1) if match else "main"


def setup_cell_source() -> str:
    """The first code cell of every book notebook."""
    url = repository_url()
    return (f"{SETUP_MARKER} (installs dgmlib only when it is missing).\n"
            "try:\n"
            "    import dgmlib\n"
            "except ImportError:\n"
            f"    %pip install -q \"dgmlib @ git+{url}@{repository_branch()}\"\n"
            "    import dgmlib\n"
            "DEVICE = dgmlib.device()\n"
            "print(f\"dgmlib {dgmlib.__version__}, device: {DEVICE}, quick mode: {dgmlib.is_quick()}\")")


def book_notebooks() -> list[pathlib.Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def problems(path: pathlib.Path) -> list[str]:
    nb = json.loads(path.read_text())
    out = []
    cell = first_code_cell(nb)
    if cell is None or _source(cell) != setup_cell_source():
        out.append(f"{path.name}: first code cell is not the canonical setup cell (run `python tools/notebooks.py sync`)")
    if any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
        out.append(f"{path.name}: has outputs (run `python tools/notebooks.py strip`)")
    return out


def _write(path: pathlib.Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def sync(path: pathlib.Path) -> None:
    nb = json.loads(path.read_text())
    cell = first_code_cell(nb)
    if cell is not None and _source(cell).startswith(SETUP_MARKER):
        cell["source"] = setup_cell_source()
    else:
        nb["cells"].insert(1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0,
                           {"cell_type": "code", "execution_count": None, "id": "setup",
                            "metadata": {}, "outputs": [], "source": setup_cell_source()})
    _write(path, nb)


def strip(path: pathlib.Path) -> None:
    nb = json.loads(path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    _write(path, nb)


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    paths = [pathlib.Path(p) for p in argv[2:]] or book_notebooks()
    if cmd == "sync":
        for p in paths:
            sync(p)
    elif cmd == "strip":
        for p in paths:
            strip(p)
    elif cmd == "check":
        found = [msg for p in paths for msg in problems(p)]
        print("\n".join(found) or f"{len(paths)} notebooks: setup cells and outputs OK")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
