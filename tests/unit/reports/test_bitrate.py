"""`ttsbench bitrate` end to end on distar-tiny (J = 4, K = 16): rows, files, resume, errors.

One sweep (4 runs x 2 demo prompts, `duration` only, short outputs) is shared by the module; the
other tests re-use its run directories, so they resume and synthesize nothing.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from ttsbench.cli import main

# Short outputs, 2 MDM calls per patch, no CFG: seconds per run on 2 CPU cores.
SYSTEM = "distar-tiny:max_seconds=0.5,steps=2,cfg=1"
ARGS = ["bitrate", "--system", SYSTEM, "--prompt-set", "demo", "--metrics", "duration", "--limit", "2", "--quiet"]


def synth_lines(run_dirs) -> dict[str, int]:
    return {d: len(Path(d, "synth.jsonl").read_text(encoding="utf-8").splitlines()) for d in run_dirs}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The full sweep L' = 1..4 into one output root; returns (out, report dir, bitrate.json, stdout)."""
    out = tmp_path_factory.mktemp("bitrate") / "runs"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([*ARGS, "--out", str(out)]) == 0
    (report,) = (out / "bitrate").iterdir()
    return out, report, json.loads((report / "bitrate.json").read_text()), buf.getvalue()


def test_sweep_rows_files_and_units(sweep):
    _, report, doc, printed = sweep
    assert report.name.startswith("distar-tiny-")
    assert sorted(p.name for p in report.iterdir()) == ["bitrate.csv", "bitrate.json", "bitrate.md", "bitrate.png"]
    rows = doc["rows"]
    assert [r["layers"] for r in rows] == [1, 2, 3, 4] and doc["num_layers"] == 4
    kbps = [r["kbps"] for r in rows]
    assert all(a < b for a, b in itertools.pairwise(kbps)) and kbps[-1] == pytest.approx(40 * 4 * 4 / 1000)
    tflops = [r["tflops"] for r in rows]
    assert all(t > 0 for t in tflops) and all(a <= b for a, b in itertools.pairwise(tflops))
    assert all(r["duration_n_scored"] == 2 and r["duration_n_failed"] == 0 and r["rtf"] > 0 for r in rows)
    assert doc["base_spec"]["system"]["options"] == {"max_seconds": 0.5, "steps": 2, "cfg": 1}
    assert sorted(doc["run_dirs"]) == ["1", "2", "3", "4"]
    for layers, run_dir in doc["run_dirs"].items():  # ordinary run dirs: spec names its L'
        run = json.loads(Path(run_dir, "run.json").read_text())
        assert run["spec"]["system"]["options"]["layers"] == int(layers) and run["system"]["layers"] == int(layers)
    csv = pd.read_csv(report / "bitrate.csv")
    assert csv["layers"].tolist() == [1, 2, 3, 4] and {"duration", "duration_ci_low", "tflops", "rtf"} <= set(csv)
    md = (report / "bitrate.md").read_text()
    fp = doc["metrics"]["duration"]["fingerprint_ids"][0]
    # brackets are escaped in every Markdown cell (no link can form); they render as written
    assert "kbps (40 Hz x L' x log2 16 / 1000)" in md and f"\\[`duration` {fp}\\]" in md
    assert "TFLOPs / utt (analytic, A.4 setup)" in md and "RTF (cpu" in md and md.count("\n| ") == 5
    assert printed.splitlines()[0].split()[:2] == ["L'", "kbps"] and "fingerprint " + fp in printed


def test_png_is_a_real_figure(sweep):
    from matplotlib.image import imread

    png = sweep[1] / "bitrate.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 600 and img[..., :3].std() > 0.01  # two panels, not blank


def test_rerun_resumes_without_synthesis(sweep, capsys):
    out, _, doc, _ = sweep
    before = synth_lines(doc["run_dirs"].values())
    assert main([*ARGS, "--out", str(out), "--format", "csv"]) == 0
    assert synth_lines(doc["run_dirs"].values()) == before
    assert len(pd.read_csv(io.StringIO(capsys.readouterr().out))) == 4
    sub = out.parent / "sub"
    assert main([*ARGS, "--out", str(out), "--layers", "2,4", "--report", str(sub), "--format", "json"]) == 0
    assert synth_lines(doc["run_dirs"].values()) == before
    sub_doc = json.loads(capsys.readouterr().out)
    assert [r["layers"] for r in sub_doc["rows"]] == [2, 4] and sub_doc["run_dirs"]["2"] == doc["run_dirs"]["2"]
    assert len(pd.read_csv(sub / "bitrate.csv")) == 2


def test_ci_bars_and_cells_from_stored_ci(sweep, tmp_path):
    from ttsbench.reports.bitrate import collect, figure, render

    dirs = []
    for layers, run_dir in sweep[2]["run_dirs"].items():
        copy = shutil.copytree(run_dir, tmp_path / layers)
        summary = json.loads((copy / "summary.json").read_text())
        summary["metrics"]["duration"]["values"] |= {"seconds_mean_ci_low": 0.25, "seconds_mean_ci_high": 0.75}
        (copy / "summary.json").write_text(json.dumps(summary))
        dirs.append(copy)
    table = collect(dirs[::-1])
    assert [r.layers for r in table.rows] == [1, 2, 3, 4]
    assert "\\[0.25, 0.75\\]" in render(table, "md")
    fig = figure(table)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2


@pytest.mark.parametrize(("extra", "message"), [
    (["--system", "tone"], "is not a DiSTAR system"),
    (["--system", "distar-tiny:layers=2"], "sets layers="),
    (["--layers", "5"], "L' = 5 outside 1..4"),
    (["--layers", "0-2"], "not a range of L' >= 1"),
    (["--layers", "3-1"], "not a range of L' >= 1"),
    (["--layers", "1,x"], "'x' is not a number or a range"),
])
def test_one_line_errors(sweep, capsys, extra, message):
    out = sweep[0]
    assert main([*ARGS, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("ttsbench: error:")


def test_layers_beyond_j_when_nothing_ran_yet(tmp_path, capsys):
    """No earlier run: J comes from loading the system once (cheap for distar-tiny), before any run."""
    assert main([*ARGS, "--out", str(tmp_path / "runs"), "--layers", "2-9"]) == 2
    assert "L' = 5, 6, 7, 8, 9 outside 1..4" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
