"""The timing harness and `ttsbench speed` on tiny models (behaviour, not speed: numbers are not asserted)."""

from __future__ import annotations

import json

import pytest
import torch

from ttsbench.cli import main
from ttsbench.metrics.cost.speed import SpeedConfig, measure, speed_display, summary
from ttsbench.metrics.cost.workloads import SystemWorkload, build_workload
from ttsbench.reports.tabular import render_table
from ttsbench.systems.ditar.cost import DiTARWorkload
from ttsbench.systems.nar.cost import NARWorkload

QUICK = SpeedConfig(batch_sizes=(1, 2), repeats=2, warmup=1, prompt_seconds=0.25, target_seconds=0.5, nfe=2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_summary_is_median_and_p90():
    assert summary([1.0, 2.0, 3.0, 4.0, 10.0]) == (3.0, pytest.approx(7.6))


def test_ditar_rows_follow_the_table7_definitions():
    work = build_workload("ditar-tiny", QUICK)
    assert isinstance(work, DiTARWorkload) and work.patches == 5  # 0.5 s = 20 frames = 5 patches of 4
    rows = measure(work, QUICK)
    assert [r["batch"] for r in rows] == [1, 2]
    for r in rows:
        assert r["audio_seconds_per_row"] == 0.5 and r["random_weights"] and r["latency_kind"] == "first patch"
        assert r["rtf_batch"] == pytest.approx(r["wall_median_s"] / 0.5)
        assert r["rtf"] == pytest.approx(r["rtf_batch"] / r["batch"])
        assert r["throughput"] == pytest.approx(r["batch"] * 0.5 / r["wall_median_s"])
        assert r["nfe"] == 2 and r["cfg"] and r["device"] == "cpu" and r["torch"] == torch.__version__
        assert 0 < r["latency_median_s"] < r["wall_median_s"]  # first patch comes before the last
    title, header, body, notes = speed_display(rows)
    assert "random weights" in render_table(header, body, title=title, notes=notes)


def test_ditar_workload_makes_exactly_the_fixed_number_of_patches():
    work = DiTARWorkload("tiny", SpeedConfig(target_seconds=0.3, prompt_seconds=0.2, nfe=1, patch_size=2))
    work.prepare(2)
    phones, prompts = work.inputs
    out = work.model.generate(phones, prompts, work._generators(), work.sampler, work.gen)
    assert [o.shape[0] for o in out] == [12, 12] and work.name == "ditar-tiny-p2"


def test_nar_latency_is_the_whole_output_and_patch_size_is_refused():
    work = build_workload("nar-dit-tiny", QUICK)
    assert isinstance(work, NARWorkload)
    row = measure(work, SpeedConfig(batch_sizes=(2,), repeats=1, warmup=0, target_seconds=0.5, nfe=1))[0]
    assert row["latency_median_s"] == row["wall_median_s"] and row["audio_seconds_per_row"] == 0.5
    with pytest.raises(Exception, match="DiTAR only"):
        NARWorkload("tiny", SpeedConfig(patch_size=2))


def test_any_registered_system_is_timed_through_synthesize():
    work = build_workload("tone", QUICK)
    assert isinstance(work, SystemWorkload)
    row = measure(work, SpeedConfig(batch_sizes=(3,), repeats=1, warmup=0))[0]
    assert row["audio_seconds_per_row"] > 0 and not row["random_weights"] and row["latency_kind"] == "whole output"
    e2e = build_workload("nar-dit-tiny:nfe=1,seconds=0.2", QUICK, end_to_end=True)
    assert isinstance(e2e, SystemWorkload) and e2e.random_weights


def test_cli_json_records_device_dtype_batch_nfe(capsys, tmp_path):
    code = main(["speed", "--system", "ditar-tiny", "--batch-sizes", "1", "--repeats", "1", "--warmup", "0",
                 "--target-seconds", "0.2", "--prompt-seconds", "0.1", "--nfe", "1", "--no-cfg", "--threads", "1",
                 "--format", "json", "--plot", str(tmp_path / "fig5.png")])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and len(rows) == 1
    assert {k: rows[0][k] for k in ("device", "dtype", "batch", "nfe", "cfg")} == \
        {"device": "cpu", "dtype": "fp32", "batch": 1, "nfe": 1, "cfg": False}
    assert (tmp_path / "fig5.png").stat().st_size > 1000


@pytest.mark.parametrize("argv,words", [
    (["--batch-sizes", "1,x"], "batch-sizes"), (["--batch-sizes", "0"], "batch-sizes"),
    (["--device", "cuda:0"] if not torch.cuda.is_available() else ["--cuda-graphs", "--device", "cpu"], "cuda"),
])
def test_cli_errors_are_one_line(capsys, argv, words):
    code = main(["speed", "--system", "ditar-tiny", *argv])
    err = capsys.readouterr().err
    assert code == 2 and words in err.lower() and err.count("\n") == 1
