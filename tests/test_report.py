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
