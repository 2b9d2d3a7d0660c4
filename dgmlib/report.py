"""Plain-text result tables for notebooks (no pandas needed)."""
from __future__ import annotations

from typing import Any, Sequence


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


def markdown_table(frame) -> str:
    """A pandas DataFrame as a Markdown (MyST/GitHub) table, its index as the first columns."""
    flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in flat.columns) + " |",
             "|" + "|".join("---" for _ in flat.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in flat.itertuples(index=False)]
    return "\n".join(lines)
