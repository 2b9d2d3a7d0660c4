"""tools/notebooks.py style: the count of what a reader sees of a chapter's code (issue 28)."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("dgm_notebooks", ROOT / "tools" / "notebooks.py")
notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebooks)


def _code(source: str, tags=()) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source, "outputs": []}


def test_style_counts_only_visible_code_and_leaves_the_setup_cell_out():
    long_cell = "\n".join(f"x{i} = {i}" for i in range(16))                 # 16 lines
    nb = {"cells": [
        _code("\n".join("import os" for _ in range(30))),                   # the setup cell: not counted
        {"cell_type": "markdown", "metadata": {}, "source": "assert nothing\n" * 20},
        _code(long_cell),
        _code("\n".join(f"y{i} = {i}" for i in range(15))),                 # 15 lines: allowed
        _code("assert 1 == 1\nprint('a'); print('b')"),
        _code("  assert True\n" + long_cell, tags=["hide-input"]),          # folded: not counted
        _code("value = 1  # no assert here, nor print_table(\n"),
    ]}
    assert notebooks.style_counts(nb) == {"long": 1, "assert": 1, "print": 2}
