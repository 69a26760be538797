"""`ttsbench params --model distar`: the reported sizes match the transformers; the K-sized tables do not."""

from __future__ import annotations

import json

from ttsbench.cli import main


def test_distar_sizes_match_the_reported_transformer_counts(capsys):
    assert main(["params", "--model", "distar", "--format", "json"]) == 0
    rows = {r["size"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"tiny", "base", "medium"}
    assert 0.13e9 <= rows["base"]["transformers"] <= 0.16e9  # reported ~0.15B
    assert 0.29e9 <= rows["medium"]["transformers"] <= 0.33e9  # reported ~0.3B
    for r in rows.values():
        assert r["total"] == sum(r[k] for k in ("phone_table", "code_tables", "transformers", "stop_head", "heads"))
    assert rows["base"]["heads"] == 9 * 65_536 * 512  # full heads alone would be 0.3B at K = 65,536
    assert rows["base"]["lm"] == 24 * (4 * 512**2 + 2 * 512 * 2048 + 2 * 512) + 512  # 24 blocks + final norm


def test_codebook_override_shrinks_tables_and_heads_only(capsys):
    assert main(["params", "--model", "distar", "base", "--set", "codebook_size=1024", "--format", "json"]) == 0
    (small,) = json.loads(capsys.readouterr().out)
    assert small["heads"] == 9 * 1024 * 512 and 0.13e9 <= small["transformers"] <= 0.16e9
    assert main(["params", "--model", "distar", "base"]) == 0
    assert "transformers" in capsys.readouterr().out
