import pytest

from dgmlib import report
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


def test_results_runs_checks_the_record_is_complete(monkeypatch, capsys):
    import pytest

    import dgmlib.experiments
    from dgmlib.report import results_runs
    record = {"name": "x", "quick": False, "created": "today", "code": {"dgmlib": "0"},
              "settings": {"seeds": [0, 1]}, "rows": [{"seed": 0, "v": 1.0}, {"seed": 1, "v": 2.0}]}
    monkeypatch.setattr(dgmlib.experiments, "get", lambda name, dataset=None: record)
    got, settings, runs = results_runs("x", ["seed"], lambda s: {(seed,) for seed in s["seeds"]})
    assert got is record and settings == {"seeds": [0, 1]} and list(runs.v) == [1.0, 2.0]
    assert capsys.readouterr().out.startswith("checked: results 'x' complete, 2 runs")
    with pytest.raises(AssertionError, match=r"missing \[\(2,\)\]"):
        results_runs("x", ["seed"], lambda s: {(0,), (1,), (2,)})


def test_table_view_renders_the_caption_and_rounds_only_floats():
    import pandas as pd

    frame = pd.DataFrame({"nats": [1.23456, -0.5], "cell": ["97.10 ± 0.30", "x"], "n": [3, 4]},
                         index=pd.Index(["a", "b"], name="model"))
    html = report.table_view(frame, "Test NLL; digits; nats per image", digits=2).to_html()
    assert "Test NLL; digits; nats per image" in html and "<caption>" in html
    assert ">1.23<" in html and ">-0.50<" in html and ">97.10 ± 0.30<" in html and ">3<" in html
    assert "1.2346" not in html
    with pytest.raises(ValueError, match="caption"):
        report.table_view(frame, " ")
