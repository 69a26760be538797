"""The README's main job: `ttsbench demo` on the embedded set, offline, writes runs and a report."""

from __future__ import annotations

import json

import pytest

from ttsbench.cli import main


@pytest.mark.slow
def test_demo_runs_offline_and_renders_a_report(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--limit", "2", "--systems", "ground-truth,espeak-ng", "--quiet"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "| demo" in stdout and "espeak-ng" in stdout and "ground-truth" in stdout
    html = (out / "report" / "report.html").read_text()
    assert "<table" in html and "espeak-ng" in html
    index = (out / "report" / "index.html").read_text()
    assert "significantly better / worse than ground-truth" in index and "listen-demo.html" in index
    listen = (out / "report" / "listen-demo.html").read_text()
    assert listen.count("<audio ") == 2 * 2 + 2 * 2  # prompt + ground truth, and both systems' outputs
    assert f"open {out / 'report' / 'index.html'}" in stdout
    summaries = sorted(out.rglob("summary.json"))
    assert len(summaries) == 2
    for path in summaries:
        s = json.loads(path.read_text())
        assert s["n_expected"] == 2 and s["synth"]["ok"] == 2
        assert set(s["metrics"]) == {"wer-whisper-tiny-en", "sim-resemblyzer", "dnsmos"}
        assert all(m["n_scored"] == 2 for m in s["metrics"].values())
    gt = json.loads((next(out.rglob("ground-truth/*/summary.json"))).read_text())["metrics"]
    es = json.loads((next(out.rglob("espeak-ng/*/summary.json"))).read_text())["metrics"]
    # real speech of the prompt's own speaker is closer to the prompt than a formant synthesizer
    assert gt["sim-resemblyzer"]["values"]["sim"] > es["sim-resemblyzer"]["values"]["sim"]
