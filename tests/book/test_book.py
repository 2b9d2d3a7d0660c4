"""The book's structure: every chapter in the table of contents, canonical setup cells, no
stored outputs, quick mode and assertions in every notebook, the Jupyter Book settings that
the build relies on."""
import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

NOTEBOOKS = notebooks.book_notebooks()


def toc_files() -> list[str]:
    return re.findall(r"^\s*(?:root|-\s*file):\s*(\S+)", (ROOT / "_toc.yml").read_text(), re.M)


def test_every_toc_entry_exists_and_every_notebook_is_in_the_toc():
    entries = toc_files()
    assert entries[0] == "book/00_preface"
    for entry in entries:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in entries, f"{nb.name} is not in _toc.yml"


def test_repository_url_is_read_from_the_config():
    assert notebooks.repository_url().startswith("https://github.com/")
    assert notebooks.repository_url() in notebooks.setup_cell_source()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_canonical_setup_cell_and_no_outputs(path):
    assert notebooks.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_title_reads_the_budget_and_asserts_its_results(path):
    nb = json.loads(path.read_text())
    code = "\n".join(notebooks._source(c) for c in nb["cells"] if c["cell_type"] == "code")
    markdown = "\n".join(notebooks._source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert len(re.findall(r"^# ", markdown, re.M)) == 1, "exactly one H1 title"
    assert "budget(" in code, "expensive settings must go through dgmlib.budget(full=, quick=)"
    assert re.search(r"^\s*assert ", code, re.M), "a notebook asserts its key results"


def test_config_keeps_hidden_folders_out_and_has_colab_and_the_repository():
    text = (ROOT / "_config.yml").read_text()
    assert '".*"' in text and '"**/.*"' in text
    assert "only_build_toc_files: true" in text
    assert "colab_url: https://colab.research.google.com" in text
    assert 'path_to_book: ""' in text
