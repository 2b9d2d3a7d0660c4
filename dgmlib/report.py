"""Result tables for notebooks: rendered DataFrames (:func:`table_view`), plain text, Markdown."""
from __future__ import annotations

from typing import Any, Callable, Sequence


def format_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 2) -> str:
    """A fixed-width table: the first column left-aligned, the others right-aligned, floats with
    ``digits`` decimals. The title should say the data and the units (e.g. "nats per image")."""
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} cells to match the header {list(header)}")
    cells = [[str(h) for h in header]]
    cells += [[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) + 2 for i in range(len(header))]
    lines = [title]
    for r in cells[:1] + [["-" * (w - 2) for w in widths]] + cells[1:]:
        lines.append(r[0].ljust(widths[0]) + "".join(v.rjust(w) for v, w in zip(r[1:], widths[1:])))
    return "\n".join(lines)


def show_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 2) -> None:
    """Print :func:`format_table`."""
    print(format_table(title, header, rows, digits))


def table_view(frame, caption: str, digits: int = 3):
    """A DataFrame as the book shows a table: an HTML table (a pandas Styler) with ``caption``
    above it (say the data and the units) and every float with ``digits`` decimals; display it as
    a cell's last expression. Non-float cells (text such as "mean ± std") are left as they are.

    Raises:
        ValueError: an empty caption or a negative ``digits``.
    """
    if not str(caption).strip():
        raise ValueError("a table needs a caption that names its data and units")
    if int(digits) < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    def cell(v: Any) -> str:
        return f"{v:.{int(digits)}f}" if isinstance(v, float) else str(v)
    return frame.style.format(cell).set_caption(str(caption))


def markdown_table(frame) -> str:
    """A pandas DataFrame as a Markdown (MyST/GitHub) table, its index as the first columns."""
    flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in flat.columns) + " |",
             "|" + "|".join("---" for _ in flat.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in flat.itertuples(index=False)]
    return "\n".join(lines)


def results_runs(name: str, keys: Sequence[str], expected: Callable[[dict[str, Any]], set[tuple]],
                 dataset: str | None = None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """A chapter's results record (:func:`dgmlib.experiments.get`: the committed file, or a quick
    rerun in quick mode), its rows as a DataFrame, checked to hold exactly the expected runs.

    Arguments:
        name: the experiment, e.g. "iwae".
        keys: the row columns that identify a run, e.g. ("objective", "k", "seed").
        expected: settings -> the set of key tuples the table must hold.
        dataset: the table's data set (default: the digits), e.g. "mnist5k".
    Returns:
        (record, settings, runs DataFrame); prints one line with the runs and their provenance.
    Raises:
        AssertionError: a run is missing, or one is there that the settings do not ask for.
    """
    import pandas as pd

    from . import experiments
    record = experiments.get(name, dataset=dataset)
    settings, runs = record["settings"], pd.DataFrame(record["rows"])
    found, want = set(zip(*(runs[k] for k in keys))), expected(settings)
    assert found == want, (f"results {name!r} are incomplete: missing {sorted(want - found)}, "
                           f"unexpected {sorted(found - want)}")
    code = record.get("code", {})
    origin = "quick rerun" if record.get("quick") else f"committed, computed {record.get('created')}"
    where = f" on {dataset}" if dataset else ""
    print(f"checked: results {name!r}{where} complete, {len(runs)} runs, seeds {settings.get('seeds')} "
          f"({origin}; dgmlib {code.get('dgmlib')}, commit {str(code.get('commit', '?'))[:8]})")
    return record, settings, runs
