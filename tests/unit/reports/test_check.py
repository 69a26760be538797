"""`ttsbench check`: the CI gate's verdicts, tolerances, baseline files and exit codes."""

from __future__ import annotations

import json

import pytest
from ttsbench.cli import main
from ttsbench.reports.check import Check, baseline_from_summary, compare, read_baseline, write_baseline
from ttsbench.schema import Summary

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib


def _summary(**kw) -> Summary:
    return Summary.from_json(_summary_json(**kw))


def _summary_json(wer: float = 2.0, sim: float = 0.6, n_scored: int = 10,
                  wer_fp: str = "f00dfeed0001") -> dict:
    """A schema-1 summary.json object, as the gate reads it."""
    return {"run_id": "r", "system": "s", "testset": "t", "n_expected": 10, "metrics": {
        "wer-test": {"primary": "wer_macro", "higher_is_better": False, "fingerprint_id": wer_fp,
                     "n_scored": n_scored, "values": {"wer_macro": wer}},
        "sim-test": {"primary": "sim_mean", "higher_is_better": True, "fingerprint_id": "5151a0000001",
                     "n_scored": n_scored, "values": {"sim_mean": sim}}}}


def _checks(**tol) -> list[Check]:
    return [Check("wer-test", "wer_macro", 2.0, False, fingerprint_id="f00dfeed0001", n_scored=10, **tol),
            Check("sim-test", "sim_mean", 0.6, True, fingerprint_id="5151a0000001", n_scored=10, **tol)]


def _verdicts(summary: Summary, checks: list[Check]) -> list[bool]:
    return [o.ok for o in compare(summary, checks)]


def test_unchanged_run_passes():
    assert _verdicts(_summary(), _checks()) == [True, True]


def test_each_direction_regresses_only_the_bad_way():
    assert _verdicts(_summary(wer=2.5), _checks(rel=0.05)) == [False, True]   # lower-is-better went up
    assert _verdicts(_summary(wer=1.5), _checks(rel=0.05)) == [True, True]    # ... down is an improvement
    assert _verdicts(_summary(sim=0.5), _checks(rel=0.05)) == [True, False]   # higher-is-better went down
    assert _verdicts(_summary(sim=0.7), _checks(rel=0.05)) == [True, True]
    line = compare(_summary(wer=2.5), _checks(rel=0.05))[0].line
    assert line.startswith("FAIL wer-test.wer_macro = 2.5 vs baseline 2") and "lower is better" in line
    assert "\n" not in line and "allowed 0.1" in line
    assert "improved beyond tolerance" in compare(_summary(wer=1.5), _checks(rel=0.05))[0].line


def test_absolute_vs_relative_tolerance():
    # WER 2.0 -> 2.3: +0.3. rel 10 % of 2.0 allows 0.2 (fails); abs 0.5 allows it; the larger slack wins.
    assert _verdicts(_summary(wer=2.3), _checks(rel=0.10))[0] is False
    assert _verdicts(_summary(wer=2.3), _checks(rel=0.0, abs=0.5))[0] is True
    assert _verdicts(_summary(wer=2.3), _checks(rel=0.10, abs=0.25))[0] is False
    assert _verdicts(_summary(wer=2.3), _checks(rel=0.20, abs=0.0))[0] is True
    assert Check("m", "k", -4.0, True, abs=0.1, rel=0.05).slack() == pytest.approx(0.2)  # |baseline|


def test_dropped_utterances_and_changed_recipe_fail():
    out = compare(_summary(n_scored=9), _checks())
    assert [o.ok for o in out] == [False, False] and "scored 9 utterances vs baseline 10" in out[0].line
    assert _verdicts(_summary(n_scored=9), _checks(max_dropped=1)) == [True, True]
    changed = compare(_summary(wer_fp="beefbeef0002"), _checks())[0]
    assert not changed.ok and "recipe changed" in changed.line
    missing = compare(Summary.from_json({"metrics": {}}), _checks())
    assert [o.ok for o in missing] == [False, False] and "not in this run" in missing[0].line


def test_descriptive_metric_is_checked_both_ways():
    summary = Summary.from_json({"metrics": {"duration": {"primary": "seconds_mean", "higher_is_better": None,
                                                          "values": {"seconds_mean": 1.2}}}})
    assert not compare(summary, [Check("duration", "seconds_mean", 1.0, None, rel=0.05)])[0].ok
    assert not compare(summary, [Check("duration", "seconds_mean", 1.4, None, rel=0.05)])[0].ok
    assert compare(summary, [Check("duration", "seconds_mean", 1.19, None, rel=0.05)])[0].ok


def test_default_baseline_uses_the_ci_half_width(tmp_path):
    summary = _summary_json()
    summary["metrics"]["wer-test"]["values"] |= {"wer_macro_ci_low": 1.7, "wer_macro_ci_high": 2.3}
    doc = baseline_from_summary(Summary.from_json(summary))
    wer, sim = doc["checks"]
    assert wer["abs"] == pytest.approx(0.3) and wer["rel"] == 0.05 and wer["max_dropped"] == 0
    assert sim["abs"] == 0.0 and sim["higher_is_better"] is True and sim["fingerprint_id"] == "5151a0000001"


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_baseline_file_round_trip(tmp_path, suffix):
    doc = baseline_from_summary(_summary(), rel=0.1)
    path = tmp_path / f"baseline{suffix}"
    write_baseline(path, doc)
    parsed = tomllib.loads(path.read_text()) if suffix == ".toml" else json.loads(path.read_text())
    assert parsed["checks"] == doc["checks"]
    assert read_baseline(path) == [Check(**c) for c in doc["checks"]]


def test_cli_exit_codes_and_write_baseline(make_run, tmp_path, capsys):
    good = make_run("alpha", wer=2.0, sim=0.6)
    worse = make_run("beta", wer=2.6, sim=0.6)
    base = tmp_path / "ci" / "baseline.json"
    assert main(["check", str(good), "--baseline", str(base), "--write-baseline"]) == 0
    assert base.is_file() and "wrote baseline" in capsys.readouterr().out
    assert main(["check", str(good), "--baseline", str(base)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:2]] == ["ok", "ok"] and "0 regression(s)" in out[-1]
    assert main(["check", str(worse), "--baseline", str(base)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL wer-test.wer_macro") and out[1].startswith("ok   sim-test.sim_mean")


def test_cli_bad_input_is_exit_2_with_one_line(make_run, tmp_path, capsys):
    run = make_run("alpha")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cases = [(["check", str(tmp_path / "nope"), "--baseline", str(bad)], "no such run directory"),
             (["check", str(run), "--baseline", str(bad)], "corrupt baseline"),
             (["check", str(run), "--baseline", str(tmp_path / "none.json")], "baseline not found"),
             (["check", str(tmp_path / "runs"), "--baseline", str(bad)], None)]
    make_run("beta")  # now runs/ holds two runs
    cases[-1] = (cases[-1][0], "check takes one run; found 2")
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    (bad).write_text(json.dumps({"checks": [{"metric": "wer-test", "value": "high"}]}))
    assert main(["check", str(run), "--baseline", str(bad)]) == 2
    assert "check 1" in capsys.readouterr().err
