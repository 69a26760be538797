"""`ttsbench speed` for DiSTAR on the tiny size: the rows, the fixed work, and what --steps / --layers /
--no-cfg / --patch-size change (MDM network calls are counted with a wrapper; timings are not asserted)."""

from __future__ import annotations

import json

import pytest
import torch

from ttsbench.cli import main
from ttsbench.errors import InputError
from ttsbench.metrics.cost.speed import SpeedConfig, measure, speed_display
from ttsbench.metrics.cost.workloads import build_workload
from ttsbench.reports.tabular import render_table
from ttsbench.systems.distar.cost import DiSTARWorkload

# 0.2 s prompt = 8 frames; 0.4 s target = 16 frames of 40 Hz codes = 4 patches of P = 4 (tiny)
QUICK = SpeedConfig(batch_sizes=(1, 2), repeats=1, warmup=0, prompt_seconds=0.2, target_seconds=0.4, steps=6)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def mdm_calls(work: DiSTARWorkload, fn) -> list[tuple[int, ...]]:
    """Run fn() with the workload's model counting its MDM network calls; the token shapes, one per call."""
    model, shapes = work.model, []
    inner = model.mdm_logits

    def counting(h, history, tokens, guided):
        shapes.append((*tokens.shape, int(guided)))
        return inner(h, history, tokens, guided)

    model.mdm_logits = counting
    try:
        fn()
    finally:
        del model.mdm_logits  # back to the class method
    return shapes


def test_rows_have_the_fields_and_follow_the_definitions():
    work = build_workload("distar-tiny", QUICK)
    assert isinstance(work, DiSTARWorkload) and work.patches == 4
    rows = measure(work, QUICK)
    assert [r["batch"] for r in rows] == [1, 2]
    for r in rows:
        assert r["audio_seconds_per_row"] == 0.4 and r["random_weights"] and r["latency_kind"] == "first patch"
        assert r["rtf_batch"] == pytest.approx(r["wall_median_s"] / 0.4)
        assert r["throughput"] == pytest.approx(r["batch"] * 0.4 / r["wall_median_s"])
        assert 0 < r["latency_median_s"] < r["wall_median_s"]  # the first of 4 patches comes before the last
        assert r["nfe"] is None and r["steps"] == 6 and r["mdm_calls_per_patch"] == 6 and r["cfg"]
        assert (r["layers"], r["num_layers"], r["layout"], r["frame_rate_hz"], r["patch_size"]) == (4, 4, "frame", 40.0, 4)
        assert r["kbps"] == pytest.approx(40 * 4 * 4 / 1000)  # 40 Hz x L' x log2(K = 16)
        assert r["parameters"] == sum(p.numel() for p in work.model.parameters()) and r["cfg_scale"] == 1.25
    title, header, body, notes = speed_display(rows)
    table = render_table(header, body, title=title, notes=notes)
    assert "random weights" in table and "40 Hz RVQ codes (0.4 s = 16 frames = 4 patches at P = 4)" in table
    assert "N = 6 MDM steps per patch" in table and "0.64 kbps" in table and "NFE" not in table


def test_fixed_output_length_whatever_the_stop_head_says():
    work = DiSTARWorkload("tiny", SpeedConfig(prompt_seconds=0.2, target_seconds=0.3, steps=2, layers=2, patch_size=2))
    work.prepare(2)
    phones, prompts = work.inputs
    assert [p.shape for p in prompts] == [(8, 4), (8, 4)] and prompts[0].dtype == torch.long
    assert len(phones[0]) == round(0.2 * 7) + round(0.3 * 7)
    out = work.model.generate(phones, prompts, work._generators(), work.sampler, work.gen)
    assert [tuple(o.shape) for o in out] == [(12, 2), (12, 2)]  # 0.3 s = 12 frames = 6 patches of 2; L' = 2
    assert work.name == "distar-tiny-p2" and work.run() == pytest.approx(0.3)


def test_steps_layers_and_cfg_change_the_mdm_calls():
    def calls(**options) -> list[tuple[int, ...]]:
        work = DiSTARWorkload("tiny", SpeedConfig(prompt_seconds=0.2, target_seconds=0.4, **options))
        work.prepare(1)
        return mdm_calls(work, work.run)

    default = calls()  # N = 24, P x L' = 16: 16 calls per patch, 4 patches, CFG batched
    assert len(default) == 4 * 16 and set(default) == {(1, 4, 4, 1)}
    assert len(calls(steps=5)) == 4 * 5  # fewer steps -> fewer MDM calls
    layer1 = calls(layers=1)  # P x L' = 4 tokens: 4 calls per patch, one layer of tokens
    assert len(layer1) == 4 * 4 and set(layer1) == {(1, 4, 1, 1)}
    assert set(calls(guidance=0.0, steps=3)) == {(1, 4, 4, 0)}  # --no-cfg: one pass per call


def test_first_patch_is_one_patch_of_calls():
    work = DiSTARWorkload("tiny", QUICK)
    work.prepare(2)
    assert len(mdm_calls(work, work.first)) == 6  # N = 6 calls of the batch of 2, then it stops


def test_layers_beyond_j_fail_in_one_line(capsys):
    with pytest.raises(InputError, match="J = 4"):
        DiSTARWorkload("tiny", SpeedConfig(layers=5))
    code = main(["speed", "--system", "distar-tiny", "--layers", "5"])
    assert code == 2 and "layers" in capsys.readouterr().err
    assert main(["speed", "--system", "distar-tiny", "--steps", "0"]) == 2


def test_cli_json_through_main(capsys):
    code = main(["speed", "--system", "distar-tiny", "--system", "ditar-tiny", "--batch-sizes", "1", "--repeats", "1",
                 "--warmup", "0", "--target-seconds", "0.2", "--prompt-seconds", "0.1", "--nfe", "1", "--steps", "3",
                 "--layers", "2", "--patch-size", "2", "--no-cfg", "--threads", "1", "--format", "json"])
    rows = {r["system"]: r for r in json.loads(capsys.readouterr().out)}
    assert code == 0 and set(rows) == {"distar-tiny-p2", "ditar-tiny-p2"}
    d = rows["distar-tiny-p2"]
    assert (d["steps"], d["layers"], d["patch_size"], d["cfg"], d["cfg_scale"], d["nfe"]) == (3, 2, 2, False, 1.0, None)
    assert d["mdm_calls_per_patch"] == 3 and d["patches_per_row"] == 4 and d["audio_seconds_per_row"] == 0.2
    assert rows["ditar-tiny-p2"]["nfe"] == 1 and "steps" not in rows["ditar-tiny-p2"]
