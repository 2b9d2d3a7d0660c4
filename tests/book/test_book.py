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


# ---------------------------------------------------------------- the chapters' exercise sets

EXERCISES = ROOT / "exercises"
SETS = sorted(p.parent for p in EXERCISES.glob("*/*-master.ipynb"))
# a local copy of the badge: the book is built and browser-tested offline, where Colab's image does not load
BADGE = "images/colab-badge.svg"


def test_the_colab_badge_image_is_part_of_the_book():
    assert (ROOT / "book" / BADGE).read_text().lstrip().startswith("<svg")


def _github() -> tuple[str, str]:
    """(https://github.com/<owner>/<repo>, branch), from _config.yml."""
    return notebooks.repository_url().rstrip("/").removesuffix(".git"), notebooks.repository_branch()


def test_there_are_exercise_sets_and_every_folder_is_one():
    assert len(SETS) >= 8
    folders = sorted(p for p in EXERCISES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert folders == SETS, "every folder of exercises/ holds one <topic>-master.ipynb"


@pytest.mark.parametrize("folder", SETS, ids=lambda p: p.name)
def test_exercise_set_is_named_after_its_chapter(folder):
    match = re.fullmatch(r"(\d\d)_([a-z0-9_]+)", folder.name)
    assert match, f"exercises/{folder.name}: name it NN_topic, as its chapter book/NN_topic.ipynb"
    number, topic = match.groups()
    chapters = {p.stem for p in NOTEBOOKS}
    assert folder.name in chapters, (f"exercises/{folder.name} has no chapter book/{folder.name}.ipynb; chapters "
                                     f"numbered {number}: {sorted(c for c in chapters if c.startswith(number + '_'))}, "
                                     f"about {topic}: {sorted(c for c in chapters if c.endswith('_' + topic))}")
    masters = [p.name for p in folder.glob("*-master.ipynb")]
    assert masters == [f"{topic}-master.ipynb"], masters
    assert (folder / "student" / f"{topic}.ipynb").is_file()
    assert (ROOT / "tests" / "book" / "wrong_answers" / f"{folder.name}.py").is_file()


@pytest.mark.parametrize("folder", SETS, ids=lambda p: p.name)
def test_chapter_ends_with_a_link_to_its_set_and_a_colab_badge(folder):
    url, branch = _github()
    student = f"exercises/{folder.name}/student/{folder.name.split('_', 1)[1]}.ipynb"
    colab = url.replace("https://github.com/", "https://colab.research.google.com/github/", 1) + \
        f"/blob/{branch}/{student}"
    chapter = ROOT / "book" / f"{folder.name}.ipynb"
    assert chapter.is_file(), f"exercises/{folder.name} has no chapter {chapter.name}"
    nb = json.loads(chapter.read_text())
    # the closing cell is the list of dgmlib code (tools/notebooks.py); the exercises come just before it
    cell = nb["cells"][-2]
    text = notebooks._source(cell)
    assert cell["cell_type"] == "markdown" and text.startswith("## Exercises"), \
        "end the chapter (before the dgmlib list) with an '## Exercises' markdown cell"
    assert f"[`exercises/{folder.name}`]({url}/tree/{branch}/exercises/{folder.name})" in text
    assert f"[![Open In Colab]({BADGE})]({colab})" in text
    assert "{doc}" not in text, "exercises/ is not in the book: plain URLs, no {doc} role"


def test_the_book_names_only_existing_exercise_sets():
    names = {p.name for p in SETS}
    for page in sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md")):
        for name in re.findall(r"exercises/(\d\d_[a-z0-9_]+)", page.read_text()):
            assert name in names, f"{page.name} names exercises/{name}, which does not exist"
    with_set = {json.loads(p.read_text())["cells"][-2].get("id") == "exercises" and p.stem for p in NOTEBOOKS}
    assert with_set - {False} == names, "an '## Exercises' cell exactly in the chapters with a set"


LECTURES = pathlib.Path("/work/shared/lectures")


@pytest.mark.skipif(not LECTURES.is_dir(), reason="the lecture decks are not on this machine")
def test_every_quoted_number_is_copied_from_its_lecture_deck():
    from dgmlib.experiments import quoted
    for table in quoted.TABLES:
        deck = (LECTURES / table["deck"]).read_text()
        for row in table["rows"]:
            for cell in row:
                for number in re.findall(r"\d+\.\d+", cell):
                    assert number in deck, (table["title"], cell)


def test_quoted_tables_are_on_the_results_page_marked_as_quoted():
    from dgmlib.experiments import quoted
    page = (ROOT / "book" / "results.md").read_text()
    for table in quoted.TABLES:
        assert f"### {table['title']}" in page
    assert page.count(quoted.NOTICE) == len(quoted.TABLES)


def test_the_preface_links_the_chapters_in_the_order_of_the_toc():
    preface = (ROOT / "book" / "00_preface.md").read_text()
    linked = re.findall(r"\{doc\}`chapter \d+ <(\d\d_\w+)>`", preface)
    chapters = [pathlib.Path(e).name for e in toc_files() if re.match(r"book/\d\d_", e)][1:]
    assert linked and linked == [c for c in chapters if c in linked]
    assert linked == chapters[:len(linked)], "a chapter of the toc is missing from the preface list"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_visible_code_lines_fit_the_text_column(path):
    for cell in _code_cells(path):
        if {"hide-input", "remove-input", "remove-cell"} & set(cell["metadata"].get("tags", [])):
            continue
        long = [line for line in "".join(cell["source"]).split("\n") if len(line) > 88]
        assert not long, f"{path.name}: visible code wider than 88 characters: {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_removed_check_leaves_a_visible_checked_line(path):
    for cell in _code_cells(path):
        if "remove-input" in cell["metadata"].get("tags", []):
            assert "print(" in "".join(cell["source"]) and "checked" in "".join(cell["source"]), \
                f"{path.name}: a cell whose input is removed must print a 'checked: ...' line"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_link_of_the_code_cell_has_an_api_entry(path):
    """Each name the chapter's "code of this chapter" cell links to is documented on the API page:
    its module has an automodule entry there, and the name is in the module's ``__all__`` (which
    ``:members:`` documents), so the book build's -n (nitpicky) check finds the target."""
    import importlib

    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c.get("id") == "dgmlib-links")
    source = "".join(cell["source"])
    api = (ROOT / "book" / "api.md").read_text()
    targets = re.findall(r"\{py:\w+\}`(dgmlib[\w.]*)\.(\w+)`", source)
    assert targets, "no links"
    for module, name in targets:
        assert f".. automodule:: {module}\n" in api, f"{module} has no automodule on book/api.md"
        public = getattr(importlib.import_module(module), "__all__", None)
        assert public is None or name in public, f"{module}.{name} is not in {module}.__all__"
