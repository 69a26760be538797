"""`ttsbench check`: the CI gate's verdicts, tolerances, baseline files and exit codes."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from ttsbench.cli import main
from ttsbench.errors import InputError
from ttsbench.reports.check import Check, baseline_from_summary, compare, read_baseline, write_baseline
from ttsbench.schema import Summary

from .conftest import write_run

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
    assert read_baseline(path).checks == [Check(**c) for c in doc["checks"]]


def test_cli_exit_codes_and_write_baseline(make_run, tmp_path, capsys):
    good = make_run("alpha", wer=2.0, sim=0.6)
    worse = make_run("beta", wer=2.6, sim=0.6)
    base = tmp_path / "ci" / "baseline.json"
    assert main(["check", str(good), "--baseline", str(base), "--write-baseline"]) == 0
    assert base.is_file() and "wrote baseline" in capsys.readouterr().out
    assert main(["check", str(good), "--baseline", str(base)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:3]] == ["ok", "ok", "ok"] and "0 regression(s)" in out[-1]
    assert out[0].startswith("ok   prompt set tiny-en")  # the set is verified first, then each metric
    assert main(["check", str(worse), "--baseline", str(base)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("FAIL wer-test.wer_macro") and out[2].startswith("ok   sim-test.sim_mean")


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


# ---- issue 13 #7: non-finite numbers and the prompt set ------------------------------------------
def _baseline_text(number: str, field: str, suffix: str) -> str:
    """A one-check baseline whose `field` is the literal `number` (JSON `NaN`, TOML `nan`, ...)."""
    fields = {"metric": '"wer-test"', "key": '"wer_macro"', "value": "2.0", "higher_is_better": "false",
              "n_scored": "10", "rel": "0.05"} | {field: number}
    if suffix == ".toml":
        return "schema_version = 1\n[[checks]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    return '{"schema_version": 1, "checks": [{' + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}]}"


@pytest.mark.parametrize(("suffix", "number", "field"), [
    (".json", "NaN", "value"), (".json", "Infinity", "value"), (".json", "-Infinity", "value"),
    (".json", "NaN", "rel"), (".json", "NaN", "abs"), (".json", "Infinity", "n_scored"),
    (".json", "Infinity", "max_dropped"),
    (".toml", "nan", "value"), (".toml", "inf", "value"), (".toml", "-inf", "abs"), (".toml", "nan", "rel"),
    (".toml", "inf", "n_scored")])
def test_non_finite_number_in_a_baseline_is_bad_input(make_run, tmp_path, capsys, suffix, number, field):
    run = make_run("alpha", wer=9.0)  # far worse than the baseline's 2.0: a NaN must not wave it through
    base = tmp_path / f"base{suffix}"
    base.write_text(_baseline_text(number, field, suffix))
    assert main(["check", str(run), "--baseline", str(base)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"checks[0].{field}" in err and "finite" in err


def test_non_finite_number_anywhere_in_a_baseline_is_refused(tmp_path):
    base = tmp_path / "base.json"
    base.write_text('{"run": {"n_expected": NaN}, "checks": [{"metric": "m", "value": 1.0}]}')
    with pytest.raises(InputError, match=r"run\.n_expected is NaN"):
        read_baseline(base)


def test_write_baseline_refuses_non_finite_values_and_tolerances(make_run, tmp_path, capsys):
    run = make_run("alpha")
    for flag in (["--rel", "nan"], ["--abs", "inf"], ["--rel", "-0.1"]):
        argv = ["check", str(run), "--baseline", str(tmp_path / "b.json"), "--write-baseline", *flag]
        assert main(argv) == 2
        assert "finite" in capsys.readouterr().err
    summary = _summary_json()
    summary["metrics"]["wer-test"]["values"]["wer_macro"] = float("inf")
    with pytest.raises(InputError, match="no finite value"):
        baseline_from_summary(Summary.from_json(summary))
    summary = _summary_json()  # a NaN CI is no CI: the tolerance falls back to 0, not NaN
    summary["metrics"]["wer-test"]["values"] |= {"wer_macro_ci_low": float("nan"), "wer_macro_ci_high": 3.0}
    assert baseline_from_summary(Summary.from_json(summary))["checks"][0]["abs"] == 0.0


def test_infinite_value_in_the_run_fails_its_check():
    # lower is better: -inf would otherwise read as the best improvement ever
    out = compare(_summary(wer=float("-inf")), _checks())[0]
    assert not out.ok and "not a finite value" in out.line


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_baseline_records_the_prompt_set(make_run, tmp_path, suffix):
    run = make_run("alpha", checksum="sha256:c0ffee")
    base = tmp_path / f"base{suffix}"
    assert main(["check", str(run), "--baseline", str(base), "--write-baseline"]) == 0
    text = base.read_text()
    doc = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    assert doc["schema_version"] == 2
    assert doc["run"]["prompt_set"] == {"name": "tiny-en", "checksum": "sha256:c0ffee"}
    assert {c["fingerprint_id"] for c in doc["checks"]} == {"f00dfeed0001", "5151a0000001"}
    stored = read_baseline(base).prompt_set
    assert (stored.name, stored.checksum) == ("tiny-en", "sha256:c0ffee")


def test_other_prompt_set_fails_unless_allowed(make_run, tmp_path, capsys):
    run = make_run("alpha", checksum="sha256:c0ffee")
    base = tmp_path / "base.json"
    assert main(["check", str(run), "--baseline", str(base), "--write-baseline"]) == 0
    assert main(["check", str(run), "--baseline", str(base)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("ok   prompt set tiny-en (sha256:c0ffee) is the baseline's")
    # the same numbers on a set with the same name but other rows, and on a set with another name
    for other in (write_run(tmp_path / "other", "alpha", checksum="sha256:beef"),
                  write_run(tmp_path / "other", "alpha", prompt_set="tiny-zh", checksum="sha256:beef")):
        assert main(["check", str(other), "--baseline", str(base)]) == 1
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("FAIL prompt set: run on ") and "sha256:beef" in out[0]
        assert "baseline on tiny-en (sha256:c0ffee)" in out[0] and "--allow-other-set" in out[0]
        assert [line.split()[0] for line in out[1:3]] == ["ok", "ok"]  # the numbers are still shown
        assert out[-1].startswith("check: FAIL (other prompt set); 0 regression(s) in 2 check(s)")
        assert main(["check", str(other), "--baseline", str(base), "--allow-other-set"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("note prompt set: run on ")
        assert "compared anyway (--allow-other-set)" in out[0]
        assert "0 regression(s) in 2 check(s)" in out[-1] and "FAIL" not in out[-1]


def test_baseline_without_prompt_set_still_works_and_says_so(make_run, tmp_path, capsys):
    run = make_run("alpha")
    old = tmp_path / "old.json"  # as an older ttsbench wrote it: schema 1, run.testset, no checksum
    old.write_text(json.dumps({"schema_version": 1, "run": {"run_id": "r", "system": "alpha",
                                                             "testset": "tiny-en", "n_expected": 10},
                               "checks": [asdict(c) for c in _checks()]}))
    bare = tmp_path / "bare.toml"  # hand-written: no run section at all
    bare.write_text('[[checks]]\nmetric = "wer-test"\nkey = "wer_macro"\nvalue = 2.0\n')
    for base in (old, bare):
        assert main(["check", str(run), "--baseline", str(base)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("note prompt set not verified: the baseline records no prompt-set checksum")
        assert "--write-baseline" in out[0] and out[-1].startswith("check: 0 regression(s)")
    # a run that records no checksum (hand-made) cannot be verified either; it is said, not failed
    unsummed = write_run(tmp_path / "other", "alpha", checksum=None)
    base = tmp_path / "base.json"
    assert main(["check", str(run), "--baseline", str(base), "--write-baseline"]) == 0
    assert main(["check", str(unsummed), "--baseline", str(base)]) == 0
    assert "not verified: the run records no prompt-set checksum" in capsys.readouterr().out


def test_bad_prompt_set_entry_and_newer_baseline_are_one_line(make_run, tmp_path, capsys):
    run = make_run("alpha")
    base = tmp_path / "base.json"
    check = {"metric": "wer-test", "value": 2.0}
    for doc, message in (({"schema_version": 2, "run": {"prompt_set": "tiny-en"}, "checks": [check]},
                          "run.prompt_set must be an object"),
                         ({"schema_version": 2, "run": {"prompt_set": {"checksum": 7}}, "checks": [check]},
                          "run.prompt_set.checksum must be a string"),
                         ({"schema_version": 3, "checks": [check]}, "newer ttsbench")):
        base.write_text(json.dumps(doc))
        assert main(["check", str(run), "--baseline", str(base)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert main(["check", str(run), "--baseline", str(base), "--write-baseline", "--allow-other-set"]) == 2
    assert "--allow-other-set only applies" in capsys.readouterr().err


def test_help_documents_the_baseline_format(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = capsys.readouterr().out
    for word in ("--allow-other-set", "prompt_set", "checksum", "fingerprint_id", "NaN", "not verified"):
        assert word in text
