"""`ttsbench report` end to end: files written, stdout formats, a real run read back."""

from __future__ import annotations

import io
import json

import pandas as pd
from ttsbench.cli import main


def test_report_writes_every_format_and_prints_markdown(make_run, tmp_path, capsys):
    make_run("alpha", wer=2.0, sim=0.6, flops=2.75e12, ci=0.2)
    make_run("<b>beta</b>", wer=3.0, sim=0.5, flops=1e12)
    out = tmp_path / "report"
    assert main(["report", str(tmp_path / "runs"), "--paper", "ditar-table1-a", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| Prompt set") and "**2.00** [1.80, 2.20]" in printed
    assert sorted(p.name for p in out.iterdir()) == ["assets", "index.html", "listen-tiny-en.html", "plots",
                                                     "quality_vs_cost.png", "report.csv", "report.html",
                                                     "report.md", "report.tex"]
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<b>beta</b>" not in page and "&lt;b&gt;beta" in page
    assert 'src="quality_vs_cost.png"' in page
    assert r"\begin{table}" in (out / "report.tex").read_text()
    csv = pd.read_csv(out / "report.csv")
    assert set(csv["source"]) == {"measured", "quoted"} and len(csv) == 10


def test_report_stdout_formats_and_bad_input(make_run, tmp_path, capsys):
    make_run("alpha")
    assert main(["report", str(tmp_path / "runs"), "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert df["system"].tolist() == ["alpha"] and df["wer-test_group"].tolist() == ["f00dfeed0001"]
    assert main(["report", str(tmp_path / "runs"), "--format", "latex", "--key", "wer-test=wer_micro"]) == 0
    assert "1.80" in capsys.readouterr().out  # wer_micro = 0.9 x 2.0 in the fixture
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "runs"), "--key", "wer-test=nokey"]) == 2
    assert "has no key 'nokey'" in capsys.readouterr().err


def test_report_and_check_read_a_real_run(tmp_path, make_wav, capsys):
    rows = []
    for i in range(2):
        make_wav(f"set/p{i}.wav", seconds=0.3)
        rows.append({"utt_id": f"u{i}", "prompt_wav": f"p{i}.wav", "prompt_text": "a prompt",
                     "target_text": f"target number {i}", "lang": "en"})
    manifest = tmp_path / "set" / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    runs = tmp_path / "runs"
    assert main(["run", "--system", "tone", "--prompt-set", str(manifest), "--metrics", "duration",
                 "--out", str(runs), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(runs)]) == 0
    md = capsys.readouterr().out
    assert "| tone " in md and "2 / 2 / 0" in md and "Duration (s)" in md and "`duration` fp " in md
    base = tmp_path / "baseline.toml"
    assert main(["check", str(runs), "--baseline", str(base), "--write-baseline"]) == 0
    assert main(["check", str(runs), "--baseline", str(base)]) == 0
    assert "ok   duration.seconds_mean" in capsys.readouterr().out
