import pytest

from dgmlib.report import format_table


def test_format_table_aligns_columns_and_rounds_floats():
    text = format_table("Digits, nats", ["model", "test"], [["vae", -20.456], ["iwae, k=5", 3]])
    assert text.splitlines() == [
        "Digits, nats",
        "model          test",
        "---------    ------",
        "vae          -20.46",
        "iwae, k=5         3",
    ]


def test_format_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="2 cells"):
        format_table("t", ["a", "b"], [[1]])


def test_markdown_table_keeps_the_index_and_escapes_pipes():
    import pandas as pd
    from dgmlib.report import markdown_table
    frame = pd.DataFrame({"nll": ["16.5 ± 0.1", "a|b"]}, index=pd.Index([1, 5], name="k"))
    assert markdown_table(frame).splitlines() == ["| k | nll |", "|---|---|", "| 1 | 16.5 ± 0.1 |", "| 5 | a\\|b |"]
