"""`ttsbench normalize` and `ttsbench compare` end to end through the CLI."""

from __future__ import annotations

import json

import numpy as np

from ttsbench.cli import main
from ttsbench.store import append_jsonl, write_json


def test_normalize_prints_one_line_per_text(capsys):
    assert main(["normalize", "seedtts-en", "Don't panic!", "It's 5 o'clock."]) == 0
    assert capsys.readouterr().out.splitlines() == ["don't panic", "it's 5 o'clock"]
    assert main(["normalize", "f5-en", "Don't panic!"]) == 0
    assert capsys.readouterr().out == "dont panic\n"
    assert main(["normalize", "wer-whisper-tiny-en", "Hello, World"]) == 0  # an offline WER recipe
    assert capsys.readouterr().out == "hello world\n"


def test_normalize_hypothesis_side_and_stdin(capsys, monkeypatch):
    import io

    assert main(["normalize", "--hyp", "seedtts-zh", "\u9019\u662f"]) == 0
    assert capsys.readouterr().out == "\u8fd9 \u662f\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("One, two.\nTHREE\n"))
    assert main(["normalize", "hubert-en"]) == 0
    assert capsys.readouterr().out == "one two\nthree\n"


def test_normalize_unknown_recipe_is_one_line(capsys):
    assert main(["normalize", "seedts-en", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seedtts-en" in err
    assert main(["normalize", "dnsmos", "x"]) == 2  # a metric without a text normalizer


def fake_run(root, name: str, utt_wers: list[float], fp: str = "fp0000000001"):
    """A run directory as the store writes it: run.json + scores.jsonl of a WER recipe."""
    run = root / name
    write_json(run / "run.json", {"schema_version": 1, "run_id": name,
                                  "metrics": {"wer-whisper-tiny-en": {"fingerprint_id": fp}}})
    rows = []
    for i, w in enumerate(utt_wers):
        n = 10
        rows.append({"utt_id": f"u{i:03d}", "metric": "wer-whisper-tiny-en", "fingerprint_id": fp,
                     "status": "ok", "error": None, "S": round(w * n), "D": 0, "I": 0, "N": n, "utt_wer": round(w * n) / n})
    rows.append({"utt_id": "u999", "metric": "wer-whisper-tiny-en", "fingerprint_id": fp, "status": "failed",
                 "error": "boom"})
    append_jsonl(run / "scores.jsonl", rows)
    return run


def test_compare_gives_the_paired_difference_with_a_ci(tmp_path, capsys):
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.4, 60)
    a = fake_run(tmp_path, "a", list(base))
    b = fake_run(tmp_path, "b", list(np.minimum(base + 0.2, 1.0)), fp="fp0000000002")
    assert main(["compare", str(a), str(b), "--format", "json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"wer_macro", "wer_micro", "fail_rate_50"}
    macro = rows["wer_macro"]
    assert macro["diff"] > 15 and macro["ci_low"] > 10 and macro["p_value"] < 0.01
    # u999 failed in both runs: it counts as WER 100 % on each side (the default failure policy)
    assert macro["n"] == 61 and macro["imputed_a"] == macro["imputed_b"] == 1 and macro["failed"] == "worst"
    assert rows["wer_micro"]["n"] == 60 and rows["wer_micro"]["left_out"] == 1  # no run stored its N
    assert macro["same_recipe"] is False
    assert main(["compare", str(a), str(b), "--key", "wer_micro"]) == 0
    out = capsys.readouterr().out
    assert "wer_micro" in out and "recipe fingerprints differ" in out and "wer_macro" not in out
    assert main(["compare", str(a), str(b), "--key", "wer_micro", "--format", "md"]) == 0
    assert "| wer-whisper-tiny-en" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--json"]) == 0  # the deprecated spelling of --format json
    out, err = capsys.readouterr()
    assert len(json.loads(out)) == 3 and "--json is deprecated" in err


def test_compare_refuses_runs_without_shared_utterances(tmp_path, capsys):
    a = fake_run(tmp_path, "a", [0.1, 0.2])
    b = tmp_path / "b"
    write_json(b / "run.json", {"metrics": {"wer-whisper-tiny-en": {"fingerprint_id": "x"}}})
    assert main(["compare", str(a), str(b)]) == 2
    assert "no utterance was scored in both runs" in capsys.readouterr().err


def test_a_metric_that_needs_what_the_prompts_lack_fails_clearly(tmp_path, tiny_manifest, monkeypatch, capsys):
    """`Metric.needs` is read: no reference audio anywhere -> one line before any model loads; some
    prompts without it -> those utterances fail with the reason, the rest are scored."""
    from ttsbench.metrics.base import Need
    from ttsbench.metrics.duration import Duration

    monkeypatch.setattr(Duration, "needs", Need.AUDIO | Need.REFERENCE_AUDIO)
    argv = ["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics", "duration",
            "--out", str(tmp_path / "runs"), "--quiet"]
    assert main(argv) == 2
    assert "needs the ground-truth recording (reference_wav) for every utterance" in capsys.readouterr().err
    rows = [json.loads(line) for line in tiny_manifest.read_text().splitlines()]
    rows[0]["reference_wav"] = rows[0]["prompt_wav"]
    tiny_manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(argv) == 0
    scores = [json.loads(line) for line in next((tmp_path / "runs").rglob("scores.jsonl")).read_text().splitlines()]
    by_utt = {r["utt_id"]: r for r in scores}
    assert by_utt["utt0"]["status"] == "ok"
    assert by_utt["utt1"]["status"] == "failed" and "reference_wav" in by_utt["utt1"]["error"]
