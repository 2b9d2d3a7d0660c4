"""Notebook housekeeping: the canonical setup cell (stamped from _config.yml's repository URL)
and output stripping.

    python tools/notebooks.py sync    # rewrite every book/ and exercises/ notebook's setup cell
    python tools/notebooks.py check   # exit 1 if a notebook's setup cell or outputs are off
    python tools/notebooks.py strip   # remove outputs and execution counts
    python tools/notebooks.py links   # rewrite each chapter's closing list of the dgmlib code it uses
    python tools/notebooks.py style   # per chapter: visible code cells over 15 lines, with assert, print calls

``sync`` also rewrites the links cell. The links cell is the chapter's last cell: a list of the
dgmlib functions and classes that its code cells call, each linked to the API reference.
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


LINKS_MARKER = "## The code of this chapter in dgmlib"


def dgmlib_names(code: str) -> list[str]:
    """Canonical names (module.qualname) of the dgmlib functions and classes used in ``code``:
    attribute chains ``dgmlib.x.y`` and names imported ``from dgmlib... import``."""
    import ast
    import importlib
    code = "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
                     else line for line in code.splitlines())
    tree = ast.parse(code)
    chains, imported = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dgmlib":
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Attribute):
            parts, n = [], node
            while isinstance(n, ast.Attribute):
                parts.append(n.attr)
                n = n.value
            if isinstance(n, ast.Name):
                chains.add(".".join([n.id] + parts[::-1]))
    dotted = {c for c in chains if c.split(".")[0] == "dgmlib"}
    used_imports = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    dotted |= {imported[n] for n in imported if n in used_imports}
    for chain in chains:  # attributes of names imported from dgmlib (e.g. flows.PlanarFlow)
        head = chain.split(".")[0]
        if head in imported:
            dotted.add(imported[head] + chain[len(head):])
    found = set()
    for name in dotted:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):   # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr, None)
            if callable(obj) and (getattr(obj, "__module__", None) or "").startswith("dgmlib"):
                qual = getattr(obj, "__qualname__", "")
                if "." not in qual or isinstance(obj, type):   # functions and classes, not methods
                    found.add(f"{obj.__module__}.{qual}")
            break
    return sorted(found, key=lambda n: (n.split(".")[1], n))


def links_cell_source(nb: dict) -> str:
    """The closing markdown cell: the dgmlib code this chapter uses, linked to the API reference."""
    code = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
    names = dgmlib_names(code)
    import importlib
    lines = [LINKS_MARKER, "",
             "This chapter's code calls the dgmlib functions and classes below. Each name links to its entry",
             "in the {doc}`API reference <api>`, and its source is in the `dgmlib/` module named in the path.", ""]
    for name in names:
        module, _, attr = name.rpartition(".")
        role = "py:class" if isinstance(getattr(importlib.import_module(module), attr, None), type) else "py:func"
        lines.append(f"- {{{role}}}`{name}`")
    return "\n".join(lines)


def links(path: pathlib.Path) -> None:
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if not (c["cell_type"] == "markdown" and _source(c).startswith(LINKS_MARKER))]
    nb["cells"] = cells + [{"cell_type": "markdown", "id": "dgmlib-links", "metadata": {},
                            "source": links_cell_source(dict(nb, cells=cells))}]
    _write(path, nb)


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
    last = nb["cells"][-1] if nb["cells"] else {}
    if last.get("cell_type") != "markdown" or _source(last) != links_cell_source(nb):
        out.append(f"{path.name}: the closing list of dgmlib code is missing or stale "
                   "(run `python tools/notebooks.py links`)")
    return out


#: Cell tags that keep a code cell's input off the page.
HIDDEN_TAGS = {"hide-input", "remove-input", "remove-cell", "hide-cell"}
#: The longest visible code cell the style guide allows (lines).
MAX_VISIBLE_LINES = 15


def style_counts(nb: dict) -> dict[str, int]:
    """What a reader sees of a notebook's code (cells whose input is not hidden by a tag, the setup
    cell left out): the visible cells longer than :data:`MAX_VISIBLE_LINES` lines, those with an
    ``assert`` statement, and the ``print(`` calls in them."""
    counts = {"long": 0, "assert": 0, "print": 0}
    setup = first_code_cell(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or cell is setup or HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        lines = _source(cell).rstrip("\n").split("\n")
        counts["long"] += len(lines) > MAX_VISIBLE_LINES
        counts["assert"] += any(re.match(r"\s*assert\b", line) for line in lines)
        counts["print"] += sum(len(re.findall(r"\bprint\(", line)) for line in lines)
    return counts


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
    links(path)


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
    elif cmd == "links":
        for p in paths:
            links(p)
    elif cmd == "strip":
        for p in paths:
            strip(p)
    elif cmd == "style":
        total = {"long": 0, "assert": 0, "print": 0}
        print(f"{'notebook':32} long>{MAX_VISIBLE_LINES}  assert  print   (visible code cells)")
        for p in paths:
            c = style_counts(json.loads(p.read_text()))
            total = {k: total[k] + c[k] for k in total}
            print(f"{p.name:32} {c['long']:8} {c['assert']:7} {c['print']:6}")
        print(f"{'total':32} {total['long']:8} {total['assert']:7} {total['print']:6}")
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
