"""`ttsbench params`: the Table 8 sizes land on their nominal parameter counts."""

from __future__ import annotations

import json

import pytest

from ttsbench.cli import main

NOMINAL_BILLIONS = {"0.1b": (0.07, 0.13), "0.4b": (0.38, 0.42), "0.6b": (0.58, 0.62), "1b": (0.85, 1.1)}


def test_table8_sizes_match_the_paper(capsys):
    assert main(["params", "--format", "json"]) == 0
    rows = {r["size"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"tiny", *NOMINAL_BILLIONS}
    for size, (lo, hi) in NOMINAL_BILLIONS.items():
        assert lo <= rows[size]["total"] / 1e9 <= hi, (size, rows[size]["total"])
    assert 1_000 <= rows["tiny"]["total"] <= 100_000
    parts = ("phone_table", "encoder", "lm", "stop_head", "locdit")
    assert all(r["total"] == sum(r[p] for p in parts) for r in rows.values())
    assert rows["0.6b"]["lm"] == 36 * (4 * 1024**2 + 2 * 1024 * 4096 + 2 * 1024) + 1024  # 36 blocks + final norm


def test_table_output_and_overrides(capsys):
    assert main(["params", "0.6b", "--set", "ffn_act=swiglu"]) == 0
    out = capsys.readouterr().out
    assert "0.6b" in out and "808,033,281" in out  # SwiGLU at the stated FFN width overshoots 0.6B
    assert main(["params", "0.6b", "--set", "nonsense=1"]) == 2


@pytest.mark.parametrize("size", ["2b"])
def test_unknown_size(size, capsys):
    assert main(["params", size]) == 2
    assert "unknown DiTAR size" in capsys.readouterr().err


def test_json_flag_is_a_deprecated_alias_of_format_json(capsys):
    assert main(["params", "tiny", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["size"] == "tiny" and "--json is deprecated; use --format json" in err


def test_markdown_and_csv(capsys):
    assert main(["params", "tiny", "0.6b", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DiTAR parameters") and "| size" in out and "| 0.6b" in out
    assert main(["params", "tiny", "--format", "csv"]) == 0
    head, row = capsys.readouterr().out.splitlines()
    assert head.startswith("model,size,paper,phone_table") and row.startswith("ditar,tiny,(tests),")
