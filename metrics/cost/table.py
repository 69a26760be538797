"""Rows and renderings of the analytic FLOPs table (`ttsbench flops`, docs/RESULTS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ttsbench.metrics.cost.analytic import analytic_flops, breakdown, effective_cfg, effective_nfe
from ttsbench.metrics.cost.spec import UNIT, ArchSpec, CostSetup


def table1_names() -> list[str]:
    """The Table 1 systems, in the paper's order."""
    from ttsbench.metrics.cost.archs import TABLE1

    return [s.name for s in TABLE1]


def expand_names(names: Sequence[str] | None) -> list[str]:
    """Table 1's nine by default; fnmatch patterns ("ditar-*", "*") expand over ARCHS."""
    from ttsbench.plugins import ARCHS

    if not names:
        return table1_names()
    out: list[str] = []
    for name in names:
        out += ARCHS.names(name) if any(c in name for c in "*?[") else [name]
    return list(dict.fromkeys(out))


def get_spec(name: str) -> ArchSpec:
    """An ArchSpec by ARCHS name (unknown names fail with suggestions)."""
    from ttsbench.plugins import ARCHS

    return ARCHS.get(name)


def flops_row(spec: ArchSpec, setup: CostSetup) -> dict[str, Any]:
    """One machine-readable row: total FLOPs, the paper's value, the relative difference, provenance."""
    count = analytic_flops(spec, setup)
    paper = spec.paper_tflops
    # L' (setup.layers) changes nothing for specs without layer terms: their Table 1 comparison stands.
    uses_paper_setup = (setup if spec.uses_layers else replace(setup, layers=None)) == CostSetup()
    rel = (count.tflops / paper - 1.0) if (paper and uses_paper_setup) else None
    printed = None  # does ours round to the paper's value at the precision the paper prints?
    if paper is not None and uses_paper_setup:
        decimals = len(repr(paper).partition(".")[2])
        printed = round(count.tflops, decimals) == paper
    diffusion = any(b.per_nfe for b in spec.blocks)
    guided = any(b.cfg for b in spec.blocks)
    return {
        "system": spec.name, "label": spec.label, "params": spec.params,
        "flops": float(count.flops), "tflops": count.tflops, "macs": float(count.macs), "unit": UNIT,
        "nfe": effective_nfe(spec, setup) if diffusion else None,
        "cfg": effective_cfg(spec, setup) if guided else None,
        "paper_tflops": paper, "rel_diff": rel, "rounds_to_paper": printed, "fitted": list(spec.fitted),
        "scope": count.scope, "sources": list(spec.sources), "assumptions": list(spec.assumptions),
        "blocks": [{"name": c.name, "kind": c.kind, "length": c.length, "steps": c.steps,
                    "calls": c.calls, "flops": float(c.flops)} for c in breakdown(spec, setup)],
    }


def flops_rows(names: Sequence[str] | None, setup: CostSetup, *, counted: bool = False) -> list[dict[str, Any]]:
    rows = [flops_row(get_spec(n), setup) for n in expand_names(names)]
    if counted:
        for row in rows:
            row["counted_tflops"] = counted_tflops(row["system"], setup, row["nfe"], bool(row["cfg"]))
    return rows


def counted_tflops(name: str, setup: CostSetup, nfe: int | None, cfg: bool) -> float | None:
    """torch-counted TFLOPs of our own model behind an ARCHS name (ditar-<size>, nar-dit-<size>,
    distar-<size>[-frame-layer]), built on the meta device (no memory, no compute); None for
    other systems."""
    import torch

    if name.startswith("distar-"):
        return _counted_distar_tflops(name, setup, nfe, cfg)

    from ttsbench.metrics.cost.counted_models import counted_ditar, counted_nar
    from ttsbench.systems.ditar.config import SIZES as DITAR
    from ttsbench.systems.nar.config import SIZES as NAR

    family, _, size = name.rpartition("-")
    if (family, size in DITAR) == ("ditar", True):
        from ttsbench.systems.ditar.model import DiTAR

        overrides = {k: v for k, v in (("patch_size", setup.patch_size), ("history_patches", setup.history))
                     if v is not None}
        with torch.device("meta"):
            model = DiTAR(DITAR[size].with_options(**overrides))
        return counted_ditar(model, setup, nfe=nfe or 10, guidance=float(cfg)).total.tflops
    if (family, size in NAR) == ("nar-dit", True):
        from ttsbench.systems.nar.model import NARDiT

        with torch.device("meta"):
            model = NARDiT(NAR[size])
        return counted_nar(model, setup, nfe=nfe or 10, guidance=float(cfg)).total.tflops
    return None


def _counted_distar_tflops(name: str, setup: CostSetup, nfe: int | None, cfg: bool) -> float | None:
    """A DiSTAR spec's model (its size, layout, J, P and history; `--patch-size` / `--history`
    override the last two as in the analytic row) counted at the spec's frame rate and L'."""
    import torch

    from ttsbench.metrics.cost.counted_models import counted_distar
    from ttsbench.systems.distar.config import SIZES
    from ttsbench.systems.distar.model import DiSTAR

    spec = get_spec(name)
    size = name[len("distar-"):]
    layout = "frame_layer" if size.endswith("-frame-layer") else "frame"
    size = size.removesuffix("-frame-layer")
    if size not in SIZES:
        return None
    options = {"layout": layout, "num_layers": spec.layers, "patch_size": setup.patch_size or spec.patch_size,
               "history_patches": spec.history if setup.history is None else setup.history}
    with torch.device("meta"):
        model = DiSTAR(SIZES[size].with_options(**options))
    return counted_distar(model, setup, steps=nfe or spec.nfe, guidance=cfg, layers=setup.layers,
                          frame_rate=spec.frame_rate).total.tflops


def _tf(tflops: float) -> str:
    return f"{tflops:.3f}" if tflops >= 0.1 else f"{tflops:.3g}"


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_text(rows: Sequence[dict[str, Any]], setup: CostSetup, *, markdown: bool = False,
                show_blocks: bool = False) -> str:
    """A plain or Markdown table; the header states unit and scope, footnotes the fitted rows."""
    head = ["system", "params", "NFE (calls)", "CFG", "TFLOPs (ours)", "TFLOPs (Table 1)", "rel. diff",
            "= Table 1 as printed"]
    counted = any("counted_tflops" in r for r in rows)
    if counted:
        head += ["TFLOPs (counted, torch)", "counted / analytic"]
    body = []
    for r in rows:
        mark = " †" if r["fitted"] else ""
        body.append([r["label"] + mark, r["params"] or "-", _fmt(r["nfe"], "d"),
                     "-" if r["cfg"] is None else ("yes" if r["cfg"] else "no"), _tf(r["tflops"]),
                     _fmt(r["paper_tflops"], "g"), "-" if r["rel_diff"] is None else f"{100 * r['rel_diff']:+.1f} %",
                     {None: "-", True: "yes", False: "no"}[r["rounds_to_paper"]]])
        if counted:
            c = r.get("counted_tflops")
            body[-1] += ["-", "-"] if c is None else [_tf(c), f"{c / r['tflops']:.4f}"]
        if show_blocks:
            for b in r["blocks"]:
                body.append([f"  {b['name']}", "", "", "", _tf(b["flops"] / 1e12), "",
                             f"{b['calls']} x len {b['length']}" + (f"+{b['steps']} steps" if b["steps"] else ""), ""]
                            + (["", ""] if counted else []))
    lines = [f"Analytic FLOPs per utterance (unit: {UNIT}; DiTAR paper A.4 formulas, typos fixed): "
             f"{setup.prompt_seconds:g} s prompt -> {setup.target_seconds:g} s speech, text {setup.text_rate:g} "
             f"tokens/s ({setup.prompt_text}+{setup.target_text})"
             + (f"; L' = {setup.layers} active RVQ layers (DiSTAR specs; others ignore it)"
                if setup.layers is not None else "")
             + "; NFE = network calls per diffusion solve; CFG doubles the guided network; vocoder excluded."]
    if markdown:
        lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
    else:
        widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in body]
    notes = [f"† {r['label']}: fitted {', '.join(r['fitted'])} (no readable source gives it); see "
             f"`ttsbench flops --system {r['system']} --format json` for sources and assumptions"
             for r in rows if r["fitted"]]
    if any(r["paper_tflops"] is not None and r["rel_diff"] is None for r in rows):
        notes.append("rel. diff is shown only under the paper's A.4 setup (run without setup options)")
    return "\n".join(lines + ([""] + notes if notes else []))
