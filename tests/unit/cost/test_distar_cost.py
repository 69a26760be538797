"""DiSTAR's analytic cost: hand-computed blocks, layouts, active RVQ layers L', the CLI, the linear formula."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from ttsbench.errors import InputError
from ttsbench.metrics.cost import CostSetup, analytic_flops, breakdown, system_cost
from ttsbench.metrics.cost import formulas as F
from ttsbench.metrics.cost.archs import TABLE1 as TABLE1_NAMES
from ttsbench.plugins import ARCHS
from ttsbench.systems.distar.cost import distar_arch

TABLE1 = [ARCHS.get(name) for name in TABLE1_NAMES]
from ttsbench.metrics.cost.spec import ArchSpec, Length
from ttsbench.plugins import ARCHS
from ttsbench.systems.distar.config import SIZES, DiSTARConfig

DISTAR_NAMES = ["distar-base", "distar-base-frame-layer", "distar-medium", "distar-medium-frame-layer",
                "distar-tiny"]


def parts(spec: ArchSpec, setup: CostSetup | None = None) -> dict:
    return {c.name: c for c in breakdown(spec, setup)}


def test_linear_formula_is_two_in_out_tokens():
    assert F.linear_flops(3, 5, 7) == 2 * 3 * 5 * 7 == 210
    assert F.linear_flops(512, 65_536, 0) == 0
    with pytest.raises(ValueError):
        F.linear_flops(3, -5, 7)


def test_distar_tiny_block_by_block_by_hand():
    cfg = SIZES["tiny"]
    # the numbers the hand computation below uses
    assert (cfg.num_layers, cfg.codebook_size, cfg.patch_size, cfg.history_patches) == (4, 16, 4, 1)
    assert (cfg.enc_layers, cfg.enc_dim, cfg.enc_ffn) == (1, 32, 64)
    assert (cfg.lm_layers, cfg.lm_dim, cfg.lm_ffn) == (2, 32, 64)
    assert (cfg.mdm_layers, cfg.mdm_dim, cfg.mdm_ffn, cfg.layout, cfg.head) == (2, 32, 64, "frame", "full")
    got = parts(ARCHS.get("distar-tiny"))
    # Setup: 3 s prompt + 10 s target at 40 Hz = 120 + 400 frames = 30 + 100 patches of P = 4;
    # text 21 + 70 = 91 tokens. Per token and layer at C = 32, C_mid = 64:
    # 8 C^2 + 4 C C_mid = 8192 + 8192 = 16384 FLOPs; attention 4 T^2 C = 128 T^2.
    # Aggregator: 1 layer over T = 1 + 4 = 5 tokens, 30 + 100 calls.
    agg = 1 * (5 * 16384 + 128 * 5 * 5)
    assert agg == 85_120
    assert (got["aggregator"].calls, got["aggregator"].flops_per_call) == (130, agg)
    # Drafting LM: 2 layers, prefix 91 + 30 = 121 (charged 4 T^2 C), then 100 steps attending to
    # t = 122 .. 221 positions: sum t = 100 x 121 + 100 x 101 / 2 = 17150.
    prefill = 2 * (121 * 16384 + 128 * 121 * 121)
    decode = 2 * (100 * 16384 + 4 * 32 * 17_150)
    assert prefill == 7_713_024 and decode == 7_667_200
    assert (got["drafting LM"].calls, got["drafting LM"].flops) == (1, prefill + decode)
    # MDM ("frame"): 2 layers over T = 1 (h) + 4 history + 4 patch = 9 tokens; 100 patches x
    # min(N = 24, P x J = 16) = 16 steps (each step commits >= 1 of the 16 tokens) x2 CFG = 3200 calls.
    mdm = 2 * (9 * 16384 + 128 * 9 * 9)
    assert mdm == 315_648
    assert (got["MDM (frame)"].length, got["MDM (frame)"].calls, got["MDM (frame)"].flops_per_call) == (9, 3200, mdm)
    # Heads ("full"): P x J = 4 x 4 = 16 vectors of 2 x 32 x 16 FLOPs per MDM call.
    heads = 16 * 2 * 32 * 16
    assert heads == 16_384
    assert (got["logit heads"].length, got["logit heads"].calls, got["logit heads"].flops_per_call) == (16, 3200, heads)
    total = 130 * agg + prefill + decode + 3200 * mdm + 3200 * heads
    assert total == 1_088_948_224
    assert analytic_flops(ARCHS.get("distar-tiny")).flops == total


def test_tied_heads_are_two_linear_blocks_by_hand():
    cfg = SIZES["tiny"].with_options(head="tied")
    got = parts(distar_arch(cfg))
    # per vector: 2 x D x e + 2 x e x K = 2 x 32 x 16 + 2 x 16 x 16 = 1024 + 512; 16 vectors, 3200 calls
    assert got["logit heads (D -> code_dim)"].flops == 3200 * 16 * 1024
    assert got["logit heads (code_dim -> K scores)"].flops == 3200 * 16 * 512


def test_paper_specs_use_the_paper_codec_and_settings():
    for name in DISTAR_NAMES[:4]:
        spec = ARCHS.get(name)
        assert (spec.frame_rate, spec.layers, spec.patch_size, spec.history, spec.nfe, spec.guidance) == (64.0, 9, 8, 1, 24, True)
        assert spec.paper_tflops is None and spec.sources and spec.assumptions
        assert any("history-only" in a for a in spec.assumptions) and any("heads" in a for a in spec.assumptions)
        heads = parts(spec)["logit heads"]
        # 10 s at 64 Hz = 640 frames = 80 patches x 24 steps x2 CFG; 8 frames x 9 layers of 65,536 logits
        assert (heads.calls, heads.length) == (3840, 72)
        width = 512 if "base" in name else 768
        assert heads.flops_per_call == 72 * 2 * width * 65_536
    assert "ours" in ARCHS.get("distar-base").label and "ours" not in ARCHS.get("distar-base-frame-layer").label


def test_frame_layer_mdm_costs_the_expected_factor_more():
    frame, layered = parts(ARCHS.get("distar-base")), parts(ARCHS.get("distar-base-frame-layer"))
    # T = 1 + 8 + 8 = 17 vs 1 + (8 + 8) x 9 = 145; C = 512: per token 8 C^2 + 4 C C_mid = 6,291,456; attention 4 C T^2
    per_layer_frame = 17 * 6_291_456 + 2048 * 17 * 17
    per_layer_layered = 145 * 6_291_456 + 2048 * 145 * 145
    assert frame["MDM (frame)"].length == 17 and layered["MDM (frame_layer)"].length == 145
    assert frame["MDM (frame)"].flops == 3840 * 16 * per_layer_frame
    assert layered["MDM (frame_layer)"].flops * per_layer_frame == frame["MDM (frame)"].flops * per_layer_layered
    assert layered["MDM (frame_layer)"].flops / frame["MDM (frame)"].flops == pytest.approx(8.8828, abs=1e-4)
    for name in ("aggregator", "drafting LM", "logit heads"):  # only the MDM depends on the layout
        assert frame[name].flops == layered[name].flops
    # tiny: T = 9 vs 1 + 8 x 4 = 33 at C = 32
    tiny_frame = parts(distar_arch(SIZES["tiny"]))["MDM (frame)"].flops
    tiny_layered = parts(distar_arch(SIZES["tiny"], layout="frame_layer"))["MDM (frame_layer)"].flops
    assert tiny_layered * (9 * 16384 + 128 * 81) == tiny_frame * (33 * 16384 + 128 * 33 * 33)


@pytest.mark.parametrize("layout", ["frame", "frame_layer"])
def test_mdm_length_is_the_configs_mdm_tokens(layout):
    cfg = SIZES["base"].with_options(layout=layout)
    spec = distar_arch(cfg)
    for active in range(1, cfg.num_layers + 1):
        mdm = parts(spec, CostSetup(layers=active))[f"MDM ({layout})"]
        assert mdm.length == cfg.mdm_tokens(active)


def test_layers_scale_heads_linearly_and_frame_layer_mdm_super_linearly():
    frame, layered = ARCHS.get("distar-base"), ARCHS.get("distar-base-frame-layer")
    # P x L' = 8 L' tokens per patch: L' = 1, 2 need only 8 / 16 of the N = 24 steps.
    steps = {n: min(24, 8 * n) for n in range(1, 10)}
    heads = [parts(frame, CostSetup(layers=n))["logit heads"].flops for n in range(1, 10)]
    per_token_call = heads[-1] // (9 * 24)
    assert heads == [n * steps[n] * per_token_call for n in range(1, 10)]
    assert heads[-1] == parts(frame)["logit heads"].flops  # default L' = J = 9
    mdm_frame = [parts(frame, CostSetup(layers=n))["MDM (frame)"].flops for n in range(1, 10)]
    assert len(set(mdm_frame[2:])) == 1  # per-frame tokens: beyond the step cap L' changes no MDM cost
    assert mdm_frame[0] * 3 == mdm_frame[2] and mdm_frame[1] * 3 == mdm_frame[2] * 2
    mdm = [parts(layered, CostSetup(layers=n))["MDM (frame_layer)"].flops for n in range(3, 10)]
    steps = [b - a for a, b in itertools.pairwise(mdm)]
    assert all(b > a for a, b in itertools.pairwise(steps))  # convex: attention is quadratic in 1 + 16 L'
    assert mdm[-1] - mdm[0] > 6 * (mdm[1] - mdm[0])  # grows faster than the first step extrapolated
    for name in ("aggregator", "drafting LM"):
        assert parts(layered, CostSetup(layers=1))[name].flops == parts(layered)[name].flops


def test_layers_validation_and_other_specs_ignore_it():
    with pytest.raises(InputError):
        CostSetup(layers=0)
    with pytest.raises(InputError):
        analytic_flops(ARCHS.get("distar-base"), CostSetup(layers=10))
    with pytest.raises(InputError):
        distar_arch(SIZES["base"], layers=10)
    with pytest.raises(InputError):
        ArchSpec(name="x", label="x", blocks=(), frame_rate=1.0, layers=0)
    ditar = ARCHS.get("ditar-0.6b")
    assert analytic_flops(ditar, CostSetup(layers=12)).flops == analytic_flops(ditar).flops
    assert Length.of(patch_layers=1, history_layers=2, layers=3).resolve(
        {"patch_layers": 72, "history_layers": 72, "layers": 9}) == 72 + 144 + 27


def test_scope_and_detail_name_the_active_layers():
    cost = system_cost(type("S", (), {"arch": lambda self: ARCHS.get("distar-base")})())
    assert "L' = 9 of J = 9" in cost["detail"] and "linear 512->65536" in cost["detail"]
    assert "NFE 24" in cost["detail"] and "x2 CFG" in cost["detail"]
    count = analytic_flops(ARCHS.get("distar-base"), CostSetup(layers=4))
    assert "L' = 4" in count.scope and "L' = 4 of J = 9" in count.scope


def test_existing_ditar_numbers_are_unchanged():
    by_name = {s.name: s for s in TABLE1}
    assert analytic_flops(by_name["ditar-0.6b"]).flops == 2_752_834_928_640
    assert analytic_flops(by_name["ditar-0.6b"], CostSetup(nfe=10)).flops == 3_025_023_959_040
    assert analytic_flops(ARCHS.get("ditar-tiny")).flops == 657_741_824
    assert all(b.kind != "linear" for s in TABLE1 for b in s.blocks)


def test_cli_json_distar_beside_ditar(flops_cli):
    code, out, _ = flops_cli("--system", "distar-*", "--system", "ditar-0.6b", "--format", "json")
    rows = {r["system"]: r for r in json.loads(out)}
    assert code == 0 and list(rows) == DISTAR_NAMES + ["ditar-0.6b"]
    for name in DISTAR_NAMES:
        assert rows[name]["paper_tflops"] is None and rows[name]["rel_diff"] is None
        assert rows[name]["nfe"] == (16 if name == "distar-tiny" else 24) and rows[name]["cfg"] is True
        assert [b["name"] for b in rows[name]["blocks"]][-1] == "logit heads"
    assert rows["distar-base"]["flops"] == float(analytic_flops(ARCHS.get("distar-base")).flops)
    assert abs(rows["ditar-0.6b"]["rel_diff"]) < 0.005


def test_cli_layers_option(flops_cli):
    full = json.loads(flops_cli("--system", "distar-base", "--system", "ditar-0.6b", "--format", "json")[1])
    code, out, _ = flops_cli("--system", "distar-base", "--system", "ditar-0.6b", "--layers", "3", "--format", "json")
    three = json.loads(out)
    assert code == 0
    heads = [{b["name"]: b["flops"] for b in r["blocks"]}["logit heads"] for r in (full[0], three[0])]
    assert heads[0] == 3 * heads[1]
    assert three[1]["flops"] == full[1]["flops"] and three[1]["rel_diff"] is not None  # DiTAR ignores L'
    code, out, _ = flops_cli("--system", "distar-base", "--layers", "3", "--breakdown")
    assert code == 0 and "L' = 3" in out and "logit heads" in out
    code, _, err = flops_cli("--system", "distar-base", "--layers", "10")
    assert code == 2 and "layers" in err


def test_cli_markdown_and_counted_for_distar(flops_cli):
    code, out, _ = flops_cli("--system", "distar-tiny", "--format", "md", "--counted")
    assert code == 0 and re.search(r"\|\s+-\s+\|\s+-\s+\|", out)  # no Table 1 value; counted: test_counted_distar.py
    code, out, _ = flops_cli("--system", "distar-tiny", "--format", "json", "--counted")
    assert json.loads(out)[0]["counted_tflops"] > 0


def test_config_is_the_one_the_builder_reads():
    cfg = DiSTARConfig.from_size("medium")
    spec = distar_arch(cfg, frame_rate=64.0, layout="frame_layer", name="m")
    assert parts(spec)["MDM (frame_layer)"].length == cfg.with_options(layout="frame_layer").mdm_tokens()
