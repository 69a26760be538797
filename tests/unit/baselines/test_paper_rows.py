"""The baselines' published rows in the quoted tables, with their citations and secondary marks."""

from __future__ import annotations

from ttsbench.cli import main
from ttsbench.reports.paper import TTSBENCH_NAMES, paper_rows
from ttsbench.reports.records import QUOTED
from ttsbench.reports.tables import build_table, to_markdown


def cells(rows, system: str, prompt_set: str) -> dict[str, float]:
    row = next(r for r in rows if r.system == system and r.prompt_set == prompt_set)
    assert row.source == QUOTED
    return {k: c.value for k, c in row.metrics.items()}


def test_ditar_table3_rows_as_printed():
    rows = paper_rows("ditar-table3")
    assert cells(rows, "F5TTS", "Seed-TTS test-en") == {"WER": 1.83, "SIM": 0.67}
    assert cells(rows, "F5TTS", "Seed-TTS test-zh") == {"CER": 1.56, "SIM": 0.76}
    assert cells(rows, "MaskGCT", "Seed-TTS test-en") == {"WER": 2.623, "SIM": 0.717}
    assert cells(rows, "CosyVoice 2", "Seed-TTS test-zh") == {"CER": 1.45, "SIM": 0.748}
    assert cells(rows, "E2TTS", "Seed-TTS test-zh") == {"CER": 1.97, "SIM": 0.73}
    assert next(r for r in rows if r.system == "Human").reference


def test_baselines_table_names_the_system_that_regenerates_each_row_and_marks_secondary_cells():
    rows = paper_rows("baselines")
    assert {r.system for r in rows} == {"MaskGCT (NFE=50)", "E2TTS (NFE=32)", "F5TTS (NFE=32)", "CosyVoice 2",
                                        "MaskGCT", "E2TTS", "F5TTS", "Spark-TTS 0.5B", "IndexTTS-2",
                                        "GROW pretrain (NFE=32)", "GROW (RL, NFE=32)"}  # not DiTAR-GRPO: no system
    assert cells(rows, "F5TTS (NFE=32)", "LibriSpeech test-clean B (DiTAR Table 1)")["UTMOS"] == 3.88
    for r in rows:
        assert f"ttsbench system {TTSBENCH_NAMES[r.system]}" in r.provenance
        assert (r.marks == "†") == (r.system in ("Spark-TTS 0.5B", "IndexTTS-2"))
    assert cells(rows, "Spark-TTS 0.5B", "Seed-TTS test-en") == {"WER": 1.98, "SIM": 0.573}
    assert cells(rows, "IndexTTS-2", "Seed-TTS test-zh") == {"CER": 1.03, "SIM": 0.765}
    md = to_markdown(build_table(rows))
    f5_ls = next(line for line in md.splitlines() if "F5TTS (NFE=32)" in line)
    assert "| 2.42" in f5_ls  # Table 1's WER under the same WER column as Table 3's
    assert "† secondary source: CosyVoice README" in md and "Table 3, Seed-TTS test-en" in md


def test_report_cli_shows_the_baselines_table(capsys):
    assert main(["report", "--paper", "baselines"]) == 0
    out = capsys.readouterr().out
    assert "IndexTTS-2" in out and "F5TTS (NFE=32)" in out
