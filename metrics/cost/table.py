"""Rows and renderings of the analytic FLOPs table (`ttsbench flops`, docs/RESULTS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ttsbench.errors import InputError
from ttsbench.metrics.cost.analytic import analytic_flops, breakdown, effective_guidance, effective_nfe
from ttsbench.metrics.cost.archs import TABLE1
from ttsbench.metrics.cost.spec import UNIT, ArchSpec, CostSetup, layers_fit
from ttsbench.plugins import ARCHS, MODELS


def table1_names() -> list[str]:
    """The Table 1 systems, in the paper's order."""
    return list(TABLE1)


def _is_pattern(name: str) -> bool:
    return any(c in name for c in "*?[")


def select_specs(names: Sequence[str] | None, setup: CostSetup) -> tuple[list[ArchSpec], list[str]]:
    """The specs to count, and a note per system skipped ("distar-tiny: --layers 9 exceeds its 4 RVQ layers").

    Table 1's nine by default; fnmatch patterns ("ditar-*", "*") expand over ARCHS. A system reached
    only through a pattern is skipped when the setup's L' (`--layers`) exceeds its J RVQ layers; a
    name given outright is never skipped (counting it fails with a one-line error). A pattern that
    leaves nothing to count is an InputError.
    """
    if not names:
        return [get_spec(n) for n in table1_names()], []
    named = {n for n in names if not _is_pattern(n)}
    chosen: dict[str, ArchSpec] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if not _is_pattern(name):
            chosen.setdefault(name, get_spec(name))
            continue
        matched = [get_spec(n) for n in ARCHS.names(name)]
        notes = {s.name: f"{s.name}: --layers {setup.layers} exceeds its {s.layers} RVQ layers"
                 for s in matched if s.name not in named and not layers_fit(s, setup)}
        if len(notes) == len(matched):
            why = "; ".join(notes.values()) or "it matches no architecture (`ttsbench list archs`)"
            raise InputError(f"--system {name!r} leaves nothing to count: {why}")
        for spec in matched:
            if spec.name in notes:
                skipped.setdefault(spec.name, notes[spec.name])
            else:
                chosen.setdefault(spec.name, spec)
    return list(chosen.values()), list(skipped.values())


def get_spec(name: str) -> ArchSpec:
    """An ArchSpec by ARCHS name (unknown names fail with suggestions)."""
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
    guided = any(b.guided for b in spec.blocks)
    return {
        "system": spec.name, "label": spec.label, "params": spec.params,
        "flops": float(count.flops), "tflops": count.tflops, "macs": float(count.macs), "unit": UNIT,
        "nfe": effective_nfe(spec, setup) if diffusion else None,
        "cfg": effective_guidance(spec, setup) if guided else None,
        "paper_tflops": paper, "rel_diff": rel, "rounds_to_paper": printed, "fitted": list(spec.fitted),
        "scope": count.scope, "sources": list(spec.sources), "assumptions": list(spec.assumptions),
        "blocks": [{"name": c.name, "kind": c.kind, "length": c.length, "steps": c.steps,
                    "calls": c.calls, "flops": float(c.flops)} for c in breakdown(spec, setup)],
    }


def flops_rows(specs: Sequence[ArchSpec], setup: CostSetup, *, counted: bool = False) -> list[dict[str, Any]]:
    """One `flops_row` per spec; with `counted`, each row also gets `counted_tflops` (None when the
    spec names no model of ours)."""
    rows = [flops_row(spec, setup) for spec in specs]
    if counted:
        for spec, row in zip(specs, rows):
            row["counted_tflops"] = counted_tflops(spec, setup, row["nfe"], bool(row["cfg"]))
    return rows


def counted_tflops(spec: ArchSpec, setup: CostSetup, nfe: int | None, guided: bool) -> float | None:
    """torch-counted TFLOPs of our own model behind a spec (its `MODELS` entry, `spec.model`, builds
    `spec.model_config` on the meta device: no memory, no compute); None for specs without one."""
    if spec.model is None or spec.model_config is None:
        return None
    return MODELS.get(spec.model).counted(spec, setup, nfe, guided)


def _tf(tflops: float) -> str:
    return f"{tflops:.3f}" if tflops >= 0.1 else f"{tflops:.3g}"


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def flops_display(rows: Sequence[dict[str, Any]], setup: CostSetup, *, show_blocks: bool = False
                  ) -> tuple[list[str], list[str], list[list[str]], list[str]]:
    """(title lines, header, body, notes) of the `ttsbench flops` table (rendered by
    `ttsbench.reports.tabular.render_table`): the title states unit and scope, notes the fitted rows."""
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
    title = [f"Analytic FLOPs per utterance (unit: {UNIT}; DiTAR paper A.4 formulas, typos fixed): "
             f"{setup.prompt_seconds:g} s prompt -> {setup.target_seconds:g} s speech, text {setup.text_rate:g} "
             f"tokens/s ({setup.prompt_text}+{setup.target_text})"
             + (f"; L' = {setup.layers} active RVQ layers (DiSTAR specs; others ignore it)"
                if setup.layers is not None else "")
             + "; NFE = network calls per diffusion solve; CFG doubles the guided network; vocoder excluded."]
    notes = [f"† {r['label']}: fitted {', '.join(r['fitted'])} (no readable source gives it); see "
             f"`ttsbench flops --system {r['system']} --format json` for sources and assumptions"
             for r in rows if r["fitted"]]
    if any(r["paper_tflops"] is not None and r["rel_diff"] is None for r in rows):
        notes.append("rel. diff is shown only under the paper's A.4 setup (run without setup options)")
    return title, head, body, notes
