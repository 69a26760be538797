"""`ttsbench flops`: the table, JSON rows, setup options, errors."""

from __future__ import annotations

import json



def test_default_table_has_all_nine_rows_unit_and_paper_values(flops_cli):
    code, out, _ = flops_cli()
    assert code == 0
    for label in ("VALL-E", "MegaTTS 2", "NaturalSpeech 3", "NaturalSpeech 2", "Voicebox", "DiTAR",
                  "MaskGCT", "E2 TTS", "F5-TTS"):
        assert label in out
    assert "FLOPs (=2 MACs)" in out and "2.75" in out and "rel. diff" in out and "†" in out


def test_json_is_a_list_of_rows_with_system_and_flops(flops_cli):
    code, out, _ = flops_cli("--format", "json", "--system", "ditar-0.6b", "--system", "f5-tts")
    rows = json.loads(out)
    assert code == 0 and [r["system"] for r in rows] == ["ditar-0.6b", "f5-tts"]
    assert all(isinstance(r["flops"], float) and r["unit"] == "FLOPs (=2 MACs)" and r["scope"] for r in rows)
    assert abs(rows[0]["rel_diff"]) < 0.005 and rows[0]["nfe"] == 9 and rows[0]["cfg"] is True


def test_setup_options_reach_the_count(flops_cli):
    base = json.loads(flops_cli("--format", "json", "--system", "f5-tts")[1])[0]
    half = json.loads(flops_cli("--format", "json", "--system", "f5-tts", "--nfe", "16")[1])[0]
    nocfg = json.loads(flops_cli("--format", "json", "--system", "f5-tts", "--no-cfg")[1])[0]
    assert half["flops"] * 2 == base["flops"] == nocfg["flops"] * 2
    assert half["rel_diff"] is None  # no comparison with Table 1 outside the paper's setup
    p2 = json.loads(flops_cli("--format", "json", "--system", "ditar-0.6b", "--patch-size", "2",
                        "--prompt-seconds", "2", "--target-seconds", "5", "--text-rate", "10")[1])[0]
    assert "2 s prompt -> 5 s target" in p2["scope"] and "20+50 text tokens" in p2["scope"]


def test_patterns_expand_over_the_registry(flops_cli):
    rows = json.loads(flops_cli("--format", "json", "--system", "nar-dit-*", "--system", "f5-tts")[1])
    assert [r["system"] for r in rows] == ["nar-dit-0.1b", "nar-dit-0.6b", "nar-dit-tiny", "f5-tts"]
    assert len(json.loads(flops_cli("--format", "json", "--system", "*")[1])) >= 9 + 4 + 3


def test_markdown_and_breakdown(flops_cli):
    code, out, _ = flops_cli("--format", "md", "--system", "ditar-0.6b", "--breakdown")
    assert code == 0 and out.count("| ") > 4 and "LocDiT" in out and "aggregation encoder" in out


def test_unknown_system_and_bad_nfe_are_one_line_errors(flops_cli):
    code, _, err = flops_cli("--system", "ditr")
    assert code == 2 and "did you mean" in err.lower() and err.count("\n") == 1
    code, _, err = flops_cli("--nfe", "0")
    assert code == 2 and "nfe" in err


def test_counted_column_for_our_models_only(flops_cli):
    code, out, _ = flops_cli("--format", "json", "--counted", "--system", "ditar-tiny", "--system",
                       "nar-dit-tiny", "--system", "vall-e")
    rows = {r["system"]: r for r in json.loads(out)}
    assert code == 0 and rows["vall-e"]["counted_tflops"] is None
    for name in ("ditar-tiny", "nar-dit-tiny"):  # counted >= analytic: + the projections A.4 omits
        assert 1.0 <= rows[name]["counted_tflops"] / rows[name]["tflops"] < 1.25
