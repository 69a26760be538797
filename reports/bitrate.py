"""Bitrate sweeps of an RVQ system (DiSTAR's `layers=L'`): one row per L', tables and a figure.

A pure function of stored runs: each row reads one run directory's run.json (the system's
`describe()`: L', kbps, J, K, frame rate; the analytic `cost`) and summary.json (each metric's
primary value with its 95 % bootstrap CI, n scored / failed; the measured RTF). Nothing is
re-scored. `ttsbench bitrate` makes the runs; this module only reads and renders them.

Units: kbps = frame rate x L' x log2(K) / 1000 (the first L' of J RVQ layers); TFLOPs = 10^12
FLOPs (= 2 MACs) per utterance, analytic, under the DiTAR A.4 setup stated in run.json; RTF =
synthesis wall seconds / generated audio seconds, on the device and batch size the run records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError
from ttsbench.reports.records import Cell, cost_cell, metric_cell, rtf_cell
from ttsbench.reports.tabular import render_records, render_table
from ttsbench.schema import CostEntry, RunManifest, Summary, SystemEntry
from ttsbench.store import read_manifest, read_summary

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class BitrateRow:
    """One L' of a sweep, read from its run directory."""

    layers: int  # L': RVQ layers generated and decoded
    kbps: float | None  # frame rate x L' x log2(K) / 1000
    metrics: Mapping[str, Cell]  # primary value, 95 % CI, n scored / failed, fingerprint (group)
    tflops: Cell | None  # analytic TFLOPs per utterance (group: its scope)
    rtf: Cell | None  # measured RTF (group: device, batch size)
    n_expected: int | None
    n_synth_ok: int | None
    n_synth_failed: int | None
    run_id: str
    path: str


@dataclass(frozen=True)
class BitrateTable:
    """A sweep: rows in L' order plus what the columns mean."""

    system: str
    prompt_set: str
    rows: tuple[BitrateRow, ...]
    num_layers: int | None  # J
    codebook_size: int | None  # K
    frame_rate: float | None  # code frames per second
    metrics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> label, fps, direction
    cost: Mapping[str, Any] = field(default_factory=dict)  # unit, method, scope of the TFLOPs

    @property
    def rtf_groups(self) -> list[str]:
        return sorted({r.rtf.group for r in self.rows if r.rtf is not None})


def read_row(run_dir: str | Path) -> tuple[BitrateRow, RunManifest, Summary]:
    """The row of one run directory, plus its run.json and summary.json."""
    path = Path(run_dir)
    if not (path / "summary.json").is_file():
        raise InputError(f"no summary.json in {path}: run `ttsbench run` (or the sweep) there first")
    run, summary = read_manifest(path / "run.json"), read_summary(path / "summary.json")
    system = run.system or SystemEntry()
    layers = system.detail("layers")
    if layers is None and run.spec is not None:
        layers = run.spec.system.options.get("layers")
    if not isinstance(layers, int) or layers < 1:
        raise InputError(f"{path}: run.json names no RVQ layer count L' (not a DiSTAR run with layers=L')")
    metrics = {name: metric_cell(name, m) for name, m in summary.metrics.items()}
    kbps = system.detail("kbps")  # DiSTARSystem.describe(): the tokenizer's kbps at this L'
    row = BitrateRow(layers=layers, kbps=kbps, metrics=metrics, tflops=cost_cell(_cost(run, summary)), rtf=rtf_cell(run, summary),
                     n_expected=summary.n_expected, n_synth_ok=summary.synth.ok,
                     n_synth_failed=summary.synth.failed, run_id=summary.run_id or "", path=str(path))
    return row, run, summary


def _cost(run: RunManifest, summary: Summary) -> CostEntry | None:
    return run.cost if run.cost is not None else summary.cost


def collect(run_dirs: Sequence[str | Path]) -> BitrateTable:
    """The sweep table of run directories that differ only in L' (rows sorted by L')."""
    if not run_dirs:
        raise InputError("no run directories to collect")
    read = sorted((read_row(p) for p in run_dirs), key=lambda t: t[0].layers)
    rows = tuple(r for r, _, _ in read)
    dupes = sorted({r.layers for r in rows if sum(x.layers == r.layers for x in rows) > 1})
    if dupes:
        raise InputError(f"two runs with the same L' ({dupes}); a sweep has one run per L'")
    metrics: dict[str, dict[str, Any]] = {}
    for _, _, summary in read:
        for name, m in summary.metrics.items():
            info = metrics.setdefault(name, {
                "label": m.label or name, "primary": m.primary, "higher_is_better": m.higher_is_better,
                "comparable": m.comparable, "fingerprint_ids": []})
            if m.fingerprint_id and m.fingerprint_id not in info["fingerprint_ids"]:
                info["fingerprint_ids"].append(m.fingerprint_id)
    _, run0, summary0 = read[-1]
    system = run0.system or SystemEntry()
    cost = _cost(run0, summary0)
    return BitrateTable(
        system=summary0.system or system.name or "?", prompt_set=summary0.prompt_set or "?",
        rows=rows, num_layers=system.detail("model_config", "num_layers"),
        codebook_size=_codebook_size(system), frame_rate=system.detail("tokenizer", "frame_rate"),
        metrics=metrics, cost={"unit": cost.unit, "method": cost.method, "scope": cost.scope} if cost else {})


def _codebook_size(system: SystemEntry) -> int | None:
    return system.detail("model_config", "codebook_size") or system.detail("tokenizer", "codebook_size")


# ---- flat rows (csv, json) ------------------------------------------------------------------------
def records(table: BitrateTable) -> list[dict[str, Any]]:
    """One flat dict per L': numbers only (units in `units(table)`)."""
    out = []
    for r in table.rows:
        rec: dict[str, Any] = {"layers": r.layers, "kbps": r.kbps}
        for name in table.metrics:
            c = r.metrics.get(name)
            rec |= {name: c and c.value, f"{name}_ci_low": c and c.ci_low, f"{name}_ci_high": c and c.ci_high,
                    f"{name}_n_scored": c and c.n_scored, f"{name}_n_failed": c and c.n_failed}
        rec |= {"tflops": r.tflops and r.tflops.value, "rtf": r.rtf and r.rtf.value,
                "rtf_device": r.rtf and r.rtf.group, "n_expected": r.n_expected, "n_synth_ok": r.n_synth_ok,
                "n_synth_failed": r.n_synth_failed, "run_id": r.run_id, "run_dir": r.path}
        out.append(rec)
    return out


def units(table: BitrateTable) -> dict[str, str]:
    """What every column of `records` means: unit and scope."""
    out = {"layers": "L': RVQ layers generated and decoded (of J)",
           "kbps": f"kilobits per second = {_kbps_formula(table)}"}
    for name, m in table.metrics.items():
        out[name] = (f"{m['label']}: recipe {name}, key {m['primary']}, fingerprint "
                     f"{', '.join(m['fingerprint_ids']) or 'unknown'}; _ci_low/_ci_high: 95 % bootstrap CI")
    out["tflops"] = _tflops_note(table)
    out["rtf"] = "synthesis wall seconds / generated audio seconds (this run's batches); device in rtf_device"
    return out


def to_json(table: BitrateTable, extra: Mapping[str, Any] | None = None) -> str:
    """rows + units + metric recipes (+ `extra`: the base spec, the run dirs) as JSON."""
    doc = {"schema_version": SCHEMA_VERSION, "system": table.system, "prompt_set": table.prompt_set,
           "num_layers": table.num_layers, "codebook_size": table.codebook_size, "frame_rate_hz": table.frame_rate,
           "metrics": table.metrics, "cost": table.cost, "units": units(table), **(extra or {}),
           "rows": records(table)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---- human tables ---------------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _cell(c: Cell | None) -> str:
    if c is None or c.value is None:
        return "n/a"
    ci = f" [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]" if c.ci_low is not None and c.ci_high is not None else ""
    return _fmt(c.value) + ci


def _kbps_formula(table: BitrateTable) -> str:
    rate = f"{table.frame_rate:g} Hz" if table.frame_rate else "frame rate"
    k = f"log2 {table.codebook_size}" if table.codebook_size else "log2 K"
    return f"{rate} x L' x {k} / 1000"


def _tflops_note(table: BitrateTable) -> str:
    c = table.cost
    if not c:
        return "TFLOPs: not recorded"
    return (f"10^12 {c.get('unit') or 'FLOPs'} per utterance, method {c.get('method') or 'unstated'}; "
            f"scope: {c.get('scope') or 'unstated'}")


def _direction(hib: bool | None) -> str:
    return {True: " ↑", False: " ↓"}.get(hib, "")


def _headers(table: BitrateTable, markdown: bool) -> list[str]:
    """Column titles: in Markdown with unit and scope; on the terminal short (the notes say the rest)."""
    heads = ["L'", f"kbps ({_kbps_formula(table)})" if markdown else "kbps"]
    for name, m in table.metrics.items():
        fps = "/".join(m["fingerprint_ids"]) or "?"
        direction = _direction(m["higher_is_better"])
        heads.append(f"{m['label']}{direction} [`{name}` {fps}]" if markdown else f"{name}{direction}")
    heads.append("scored / failed")
    heads.append("TFLOPs / utt (analytic, A.4 setup)" if markdown else "TFLOPs/utt")
    heads.append(f"RTF ({'; '.join(table.rtf_groups) or 'not measured'})" if markdown else "RTF")
    return heads


def _body(table: BitrateTable) -> list[list[str]]:
    body = []
    for r in table.rows:
        cells = [str(r.layers), _fmt(r.kbps)] + [_cell(r.metrics.get(n)) for n in table.metrics]
        counts = {(c.n_scored, c.n_failed) for c in r.metrics.values()}
        scored = "; ".join(f"{s} / {f}" for s, f in sorted(counts, key=str)) if counts else "n/a"
        synth = f"{r.n_synth_ok} / {r.n_synth_failed}" if r.n_synth_ok is not None else "n/a"
        body.append(cells + [scored if counts else synth,
                             _fmt(r.tflops.value if r.tflops else None), _fmt(r.rtf.value if r.rtf else None, 3)])
    return body


def notes(table: BitrateTable) -> list[str]:
    """Footnotes: what each column's number is, its unit and scope."""
    n = table.rows[0].n_expected if table.rows else None
    out = [(f"L' = RVQ layers generated and decoded, of J = {table.num_layers or '?'}; every row is one run "
            f"directory of {table.system} on {table.prompt_set} ({n} prompts), differing only in layers=L'."),
           f"kbps = {_kbps_formula(table)} (bitrate of the first L' RVQ layers).",
           ("Metric cells: the recipe's primary aggregate [95 % bootstrap CI where stored]; "
            "scored / failed = utterances scored / failed per metric.")]
    for name, m in table.metrics.items():
        kind = {True: "higher is better", False: "lower is better"}.get(m["higher_is_better"], "descriptive")
        stand_in = "" if m["comparable"] else "; offline stand-in, not comparable with published numbers"
        out.append(f"`{name}`: {m['label']}, key {m['primary']}, fingerprint "
                   f"{', '.join(m['fingerprint_ids']) or 'unknown'}; {kind}{stand_in}.")
    out.append(f"TFLOPs / utt = {_tflops_note(table)}.")
    out.append(f"RTF = synthesis wall seconds / generated audio seconds, measured on "
               f"{'; '.join(table.rtf_groups) or 'no device'} (all of each run's batches, first included).")
    return out


def render(table: BitrateTable, fmt: str = "table", extra: Mapping[str, Any] | None = None) -> str:
    """The sweep in one of the shared formats (`ttsbench.reports.tabular`): `json` is bitrate.json's
    document (with `extra`), `csv` the flat records, the others the table with its notes; headers
    carry units and fingerprints except on the terminal, where the notes say them."""
    if fmt == "json":
        return to_json(table, extra)
    if fmt == "csv":
        return render_records(records(table), "csv")
    name = f"Bitrate sweep: {table.system} on {table.prompt_set}"
    title = [] if fmt == "table" else [f"### {name}" if fmt == "md" else name]
    return render_table(_headers(table, markdown=fmt != "table"), _body(table), fmt, title=title,
                        notes=notes(table))


# ---- figure ---------------------------------------------------------------------------------------
def figure(table: BitrateTable) -> Any:
    """One panel per metric (quality vs kbps, 95 % CI bars) and one of analytic TFLOPs vs kbps.

    Every point is annotated with its L'. Returns a matplotlib Figure on the Agg canvas (nothing
    shown or saved; no pyplot state).
    """
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [(name, m) for name, m in table.metrics.items()] + [("tflops", None)]
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    with sns.axes_style("whitegrid"):
        fig = Figure(figsize=(4.6 * ncols, 3.9 * nrows + 0.5), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, meta) in zip(axes, panels):
        cells = [(r, r.tflops if meta is None else r.metrics.get(name)) for r in table.rows]
        _panel(ax, [(r.layers, r.kbps, c) for r, c in cells if r.kbps is not None and c and c.value is not None],
               sns, color="tab:gray" if meta is None else None)
        ax.set_xlabel(f"kbps ({_kbps_formula(table)})", fontsize=8)
        if meta is None:
            ax.set_ylabel("TFLOPs per utterance (analytic, A.4 setup)", fontsize=8)
            ax.set_title("Cost: 10^12 FLOPs (=2 MACs) per utterance", fontsize=9)
        else:
            kind = {True: "higher is better", False: "lower is better"}.get(meta["higher_is_better"], "descriptive")
            ax.set_ylabel(f"{meta['label']} ({kind})", fontsize=8)
            fps = ", ".join(meta["fingerprint_ids"]) or "?"
            stand_in = "" if meta["comparable"] else "; offline stand-in"
            has_ci = any(c and c.ci_low is not None for _, c in cells)
            bars = "95 % CI bars" if has_ci else "no CI stored"
            ax.set_title(f"{name} (fp {fps}{stand_in})\nprimary {meta['primary']}; {bars}", fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    n = table.rows[0].n_expected if table.rows else "?"
    fig.suptitle(f"{table.system} on {table.prompt_set} ({n} prompts): quality and cost vs bitrate, "
                 f"L' = RVQ layers decoded of J = {table.num_layers or '?'}", fontsize=10)
    return fig


def _panel(ax: Any, points: list[tuple[int, float, Cell]], sns: Any, color: str | None) -> None:
    """A line through (kbps, value) with CI bars where stored and "L'=k" next to each point."""
    if not points:
        ax.text(0.5, 0.5, "no values stored", ha="center", va="center", transform=ax.transAxes, fontsize=9)
        return
    xs = [p[1] for p in points]
    ys = [p[2].value for p in points]
    sns.lineplot(x=xs, y=ys, marker="o", ax=ax, color=color, markersize=7)
    ci = [(x, c) for _, x, c in points if c.ci_low is not None and c.ci_high is not None]
    if ci:
        ax.errorbar([x for x, _ in ci], [c.value for _, c in ci],
                    yerr=[[max(c.value - c.ci_low, 0.0) for _, c in ci], [max(c.ci_high - c.value, 0.0) for _, c in ci]],
                    fmt="none", ecolor="0.35", elinewidth=1, capsize=4)
    for layers, x, c in points:
        ax.annotate(f"L'={layers}", (x, c.value), textcoords="offset points", xytext=(6, -6), va="top",
                    fontsize=8)  # below right: off a rising line
    ax.margins(x=0.12, y=0.15)
