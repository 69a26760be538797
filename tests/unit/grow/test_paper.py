"""GROW's published WER / SIM (its Table 1 as the README at 1527cdf prints it) are quoted rows."""

from __future__ import annotations

import pytest

from ttsbench.reports.paper import paper_rows
from ttsbench.reports.records import QUOTED


def test_grow_rows_are_quoted_with_their_source():
    rows = paper_rows("grow-table1")
    assert len(rows) == 9 and all(r.source == QUOTED for r in rows)
    by = {(r.system, r.prompt_set): r for r in rows}
    pre = by[("GROW pretrain (NFE=32)", "LibriSpeech test-clean B (DiTAR Table 1)")]
    rl_zh = by[("GROW (RL, NFE=32)", "Seed-TTS test-zh")]
    assert pre.metrics["WER"].value == pytest.approx(2.373) and pre.metrics["SIM"].value == pytest.approx(0.648)
    assert rl_zh.metrics["CER"].value == pytest.approx(0.983) and rl_zh.metrics["SIM"].value == pytest.approx(0.742)
    assert "arXiv:2608.03215" in pre.provenance and "01_pretrain/model_200000.pt" in pre.provenance
    assert "UTMOS" not in pre.metrics  # not printed in the source: not quoted
    assert [r.system for r in paper_rows("grow-table1-ls")] == [r.system for r in rows[:3]]
