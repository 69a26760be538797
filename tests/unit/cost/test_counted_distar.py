"""Counted DiSTAR FLOPs (torch FlopCounterMode) against the analytic spec (`distar_arch`).

The counted total equals the analytic one plus exactly the products A.4 leaves out, written out
here (`omitted`): per aggregator call the code-embedding input projection (P x e -> D_enc), per
MDM call and CFG row the condition projection (D_lm -> D) and the code-embedding projections of
the history and target tokens (e -> D, on H + P frame tokens, or (H + P) x L' (frame, layer)
tokens). Embedding lookups and their sums over RVQ layers are gathers and additions, never counted
by either. At base size this is +0.02 % (per frame) / +0.05 % (per (frame, layer)) of the total.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from ttsbench.cli import main
from ttsbench.metrics.cost import CostSetup, analytic_flops
from ttsbench.metrics.cost.counted import count_torch
from ttsbench.systems.distar.cost import PAPER_CODEC_RATE as DISTAR_CODEC_RATE
from ttsbench.systems.distar.cost import counted_distar, distar_arch
from ttsbench.metrics.cost.spec import resolve_terms
from ttsbench.systems.distar.config import SIZES, DiSTARConfig
from ttsbench.systems.distar.infill import InfillConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.speech.patch_ar import GenerationConfig

SHORT = CostSetup(prompt_seconds=0.5, target_seconds=0.8)  # 20 + 32 frames at 40 Hz: 5 + 8 patches of 4


def omitted(cfg: DiSTARConfig, setup: CostSetup, *, steps: int, guidance: bool, layers: int,
            frame_rate: float = 40.0) -> int:
    """FLOPs that the model runs and the analytic spec leaves out (see the module docstring)."""
    spec = distar_arch(cfg, steps=steps, guidance=guidance, frame_rate=frame_rate)
    terms = resolve_terms(spec, CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate, layers=layers))
    P, H, e, D = cfg.patch_size, cfg.history_frames, cfg.code_dim, cfg.mdm_dim
    agg = 2 * P * e * cfg.enc_dim + (0 if cfg.enc_dim == cfg.lm_dim else 2 * cfg.enc_dim * cfg.lm_dim)
    tokens = (H + P) * (layers if cfg.layout == "frame_layer" else 1)
    per_row = 2 * cfg.lm_dim * D + 2 * tokens * e * D
    calls = terms["target_patches"] * min(steps, P * layers) * (2 if guidance else 1)
    return (terms["prompt_patches"] + terms["target_patches"]) * agg + calls * per_row


def tiny(layout: str, head: str) -> DiSTAR:
    torch.manual_seed(0)
    return DiSTAR(SIZES["tiny"].with_options(layout=layout, head=head)).eval()


@pytest.mark.parametrize("head", ["full", "tied"])
@pytest.mark.parametrize("layout", ["frame", "frame_layer"])
def test_tiny_counted_is_analytic_plus_the_omitted_projections_exactly(layout, head):
    model = tiny(layout, head)
    for layers in (1, 2, 4):  # P x L' = 4, 8, 16 tokens: the step cap min(N, P x L') binds for N = 24 and 6
        for steps, guidance in ((24, True), (6, True), (24, False)):
            setup = CostSetup(layers=layers)
            counted = counted_distar(model, setup, steps=steps, guidance=guidance).total
            analytic = analytic_flops(distar_arch(model.cfg, steps=steps, guidance=guidance), setup)
            extra = omitted(model.cfg, setup, steps=steps, guidance=guidance, layers=layers)
            assert counted.flops == analytic.flops + extra, (layout, head, layers, steps, guidance)
            assert counted.method == "torch" and f"L' = {layers}" in counted.scope


def test_pieces_and_the_step_cap():
    model = tiny("frame", "full")
    cfg = model.cfg
    result = counted_distar(model, SHORT, steps=24)
    # 0.8 s at 40 Hz = 32 frames = 8 patches; P x J = 16 < N = 24: 16 calls per patch
    per_call, calls = result.pieces["MDM + logit heads (one network call)"]
    assert calls == 8 * 16
    assert result.pieces["aggregator"][1] == 5 + 8
    assert counted_distar(model, SHORT, steps=5).pieces["MDM + logit heads (one network call)"][1] == 8 * 5
    assert counted_distar(model, SHORT, layers=1).pieces["MDM + logit heads (one network call)"][1] == 8 * 4
    single = counted_distar(model, SHORT, guidance=False).pieces["MDM + logit heads (one network call)"][0]
    assert 2 * single == per_call  # the guided call is two passes batched
    with pytest.raises(Exception, match="layers"):
        counted_distar(model, SHORT, layers=cfg.num_layers + 1)


@pytest.mark.parametrize("layers,steps", [(4, 24), (2, 3)])
def test_one_patch_of_real_infilling_is_calls_times_one_network_call(layers, steps):
    model = tiny("frame_layer", "tied")
    cfg = model.cfg
    sampler = InfillConfig(steps=steps, layers=layers)
    per_call, _ = counted_distar(model, SHORT, steps=steps, layers=layers).pieces["MDM + logit heads (one network call)"]
    h = torch.randn(2, cfg.lm_dim)
    history = torch.randint(1, cfg.codebook_size + 1, (2, cfg.history_frames, cfg.num_layers))
    noise = torch.rand(2, steps, 2, cfg.patch_size, cfg.num_layers)
    got = count_torch(model.sample_patch, h, history, noise, sampler).flops
    assert got == 2 * min(steps, cfg.patch_size * layers) * per_call  # batch of 2 rows


def test_a_whole_generation_matches_the_counted_total_up_to_the_ends():
    """generate() runs no aggregator pass and LM step after the last patch (the spec charges one per
    target patch, as for DiTAR) and runs the stop head (2 D FLOPs) once per patch."""
    model = tiny("frame", "full")
    cfg = model.cfg
    result = counted_distar(model, SHORT, steps=4)
    patches = 8
    prefix = SHORT.prompt_text + SHORT.target_text + 5
    cache = model.patch_lm.new_cache(1, prefix + patches + 1)
    cache.length = prefix + patches - 1
    last_step = count_torch(model.patch_lm.step, torch.zeros(1, 1, cfg.lm_dim), cache,
                            torch.full((1, 1), prefix + patches - 1), None).flops
    phones = [list(range(1, SHORT.prompt_text + SHORT.target_text + 1))]
    prompts = [torch.randint(0, cfg.codebook_size, (20, cfg.num_layers))]
    gen = GenerationConfig(max_patches=patches, min_patches=patches, stop_threshold=2.0)
    got = count_torch(model.generate, phones, prompts, [torch.Generator().manual_seed(0)], InfillConfig(steps=4), gen).flops
    assert got == result.total.flops - result.pieces["aggregator"][0] - last_step + patches * 2 * cfg.lm_dim


@pytest.mark.parametrize("layout", ["frame", "frame_layer"])
def test_base_size_on_meta_within_a_tenth_of_a_percent(layout):
    cfg = SIZES["base"].with_options(layout=layout)
    with torch.device("meta"):
        model = DiSTAR(cfg)
    for layers in (2, 9):
        setup = CostSetup(layers=layers)
        counted = counted_distar(model, setup, frame_rate=DISTAR_CODEC_RATE).total.flops
        analytic = analytic_flops(distar_arch(cfg, frame_rate=DISTAR_CODEC_RATE), setup).flops
        assert counted == analytic + omitted(cfg, setup, steps=24, guidance=True, layers=layers,
                                             frame_rate=DISTAR_CODEC_RATE)
        assert counted == pytest.approx(analytic, rel=1e-3)


def flops_json(capsys, *argv: str) -> dict:
    assert main(["flops", "--counted", "--format", "json", *argv]) == 0
    return {r["system"]: r for r in json.loads(capsys.readouterr().out)}


@pytest.mark.slow
def test_cli_counted_column_for_every_distar_spec(capsys):
    rows = flops_json(capsys, "--system", "distar-*")
    assert len(rows) == 5
    for name, row in rows.items():
        ratio = row["counted_tflops"] / row["tflops"]
        assert 1.0 < ratio < (1.05 if name == "distar-tiny" else 1.001), name
    two = flops_json(capsys, "--system", "distar-base-frame-layer", "--system", "distar-tiny", "--layers", "2")
    for name, row in two.items():  # L' = 2 changes both columns alike
        assert row["counted_tflops"] < rows[name]["counted_tflops"]
        assert 1.0 < row["counted_tflops"] / row["tflops"] < 1.05
    p2 = flops_json(capsys, "--system", "distar-tiny", "--patch-size", "2", "--history", "2")["distar-tiny"]
    assert p2["nfe"] == 8 and 1.0 < p2["counted_tflops"] / p2["tflops"] < 1.05  # P x J = 8 calls per patch
    off = flops_json(capsys, "--system", "distar-base", "--no-cfg")["distar-base"]
    assert off["counted_tflops"] == pytest.approx(rows["distar-base"]["counted_tflops"] / 2, rel=0.01)


def test_cli_table_shows_the_counted_column(capsys):
    assert main(["flops", "--counted", "--system", "distar-tiny", "--format", "md"]) == 0
    out = capsys.readouterr().out
    cells = [c.strip() for c in out.strip().splitlines()[-1].strip("| ").split("|")]
    assert "TFLOPs (counted, torch)" in out and cells[0].startswith("distar-tiny")
    assert math.isfinite(float(cells[-2])) and 1.0 < float(cells[-1]) < 1.05  # counted, counted / analytic
