"""The report folder `ttsbench report RUN... --out DIR` writes, as one pure function of stored runs.

    index.html             the paper-layout table of measured rows (▲/▼ against --reference, the
                           difference and its CI on hover), the differences from the reference, the
                           quoted paper rows apart, the plots, links to the listening pages
    listen-<set>.html      one per prompt set: players, transcripts diffed against the reference text,
                           per-utterance numbers; sort, filter, pages (assets/listen.js)
    report.md/.tex/.csv/.html   the table alone, in four formats (as before); significance.csv
    plots/*.svg, *.png     quality vs TFLOPs and vs RTF, per-utterance WER ECDF, SIM vs WER,
                           duration ratio; quality_vs_cost.png (the default cost axis, as before)
    assets/                report.css and listen.js (shipped with ttsbench: no CDN, no network)
    audio/                 with --copy-audio only: every file a page plays

Without --copy-audio the players link into the run directories and prompt sets by relative paths.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ttsbench import __version__
from ttsbench.errors import InputError
from ttsbench.paths import path_component
from ttsbench.reports import pages, utterance_plots
from ttsbench.reports.audio_links import AudioLinks
from ttsbench.reports.pages import FigureRef
from ttsbench.reports.plots import quality_vs_cost
from ttsbench.reports.records import RTF, TFLOPS, Row, row_from_runs, seed_groups
from ttsbench.reports.significance import add_significance, significance
from ttsbench.reports.tables import build_table, to_csv, to_html, to_latex, to_markdown
from ttsbench.reports.tabular import render_records, render_table
from ttsbench.reports.utterances import RATIO, ListeningPage, listening_page
from ttsbench.store import RunRecord

ASSETS = ("report.css", "listen.js")


@dataclass(frozen=True)
class ReportOptions:
    """What `ttsbench report` was asked for (see its --help)."""

    keys: Mapping[str, str] = field(default_factory=dict)
    references: Sequence[str] = ()  # unranked rows; the first is the significance reference
    failed: str = "worst"
    per_seed: bool = False
    copy_audio: str | None = None
    y: str = "wer"
    x: str | None = None


@dataclass
class Report:
    """The table frame (with significance columns when a reference was given) and what was written."""

    table: pd.DataFrame
    significance: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def build_report(records: Sequence[RunRecord], quoted: Sequence[Row], options: ReportOptions) -> tuple[Report, list]:
    """The table of runs (seeds merged unless per_seed) and quoted rows, with significance marks."""
    groups = seed_groups(records, options.per_seed)
    rows = [row_from_runs(g, options.keys, options.references) for g in groups]
    report = Report(build_table([*rows, *quoted]))
    if options.references and groups:
        reference = options.references[0]
        report.significance, report.notes = significance(groups, reference, options.keys, options.failed)
        report.table = add_significance(report.table, report.significance, reference, options.failed)
    return report, rows


def write_report(out: Path, records: Sequence[RunRecord], quoted: Sequence[Row], options: ReportOptions) -> Report:
    """Write the whole folder (see the module docstring); returns the table and the files written."""
    report, rows = build_report(records, quoted, options)
    out.mkdir(parents=True, exist_ok=True)
    df = report.table
    for name, render in (("report.md", to_markdown), ("report.tex", to_latex), ("report.csv", to_csv)):
        report.files.append(_write(out / name, render(df)))
    figures = _table_figures(df, out, options)
    legacy = next((f for f in figures if f.png.endswith(f"quality_vs_{options.x or _default_x(df)}.png")), None)
    if legacy is not None:
        shutil.copyfile(out / legacy.png, out / "quality_vs_cost.png")
        report.files.append(out / "quality_vs_cost.png")
    report.files.append(_write(out / "report.html", _table_page(to_html(df), legacy is not None)))
    if report.significance:
        report.files.append(_write(out / "significance.csv", render_records(report.significance, "csv")))
    _copy_assets(out)
    listening = []
    links = AudioLinks(out, options.copy_audio)
    for prompt_set, members in _by_prompt_set(records).items():
        page = listening_page(members, links, prompt_set)
        set_figures = _utterance_figures(page, out)
        href = f"listen-{path_component(prompt_set, 'prompt set', encode=True)}.html"
        report.files.append(_write(out / href, pages.listening_html(page, set_figures, _subtitle(members))))
        listening.append((prompt_set, href, len(page.rows)))
        figures.extend(set_figures)
    report.files.append(_write(out / "index.html", _index(report, rows, quoted, options, figures, listening, records)))
    return report


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _copy_assets(out: Path) -> None:
    folder = out / "assets"
    folder.mkdir(exist_ok=True)
    for name in ASSETS:
        (folder / name).write_bytes((resources.files("ttsbench.reports") / "assets" / name).read_bytes())


def _by_prompt_set(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    out: dict[str, list[RunRecord]] = {}
    for rec in records:
        out.setdefault(rec.prompt_set_name or "?", []).append(rec)
    return out


def _subtitle(records: Sequence[RunRecord]) -> str:
    systems = {r.system_name for r in records}
    sets = {r.prompt_set_name for r in records}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{len(records)} run(s) of {len(systems)} system(s) on {len(sets)} prompt set(s); "
            f"written {when} by ttsbench {__version__} from stored results (nothing re-scored)")


def _default_x(df: pd.DataFrame) -> str:
    return TFLOPS if TFLOPS in df and df[TFLOPS].notna().any() else RTF


def _save(fig: Figure, out: Path, stem: str, title: str, caption: str = "") -> FigureRef:
    folder = out / "plots"
    folder.mkdir(exist_ok=True)
    fig.savefig(folder / f"{stem}.svg", metadata={"Date": None})
    fig.savefig(folder / f"{stem}.png", dpi=150)
    return FigureRef(title, f"plots/{stem}.svg", f"plots/{stem}.png", caption)


def _table_figures(df: pd.DataFrame, out: Path, options: ReportOptions) -> list[FigureRef]:
    """Quality against each cost axis the table has (TFLOPs, RTF); none without one."""
    figures = []
    for x in ([options.x] if options.x else [TFLOPS, RTF]):
        try:
            fig = quality_vs_cost(df, y=options.y, x=x)
        except InputError:
            continue
        name = "TFLOPs per utterance" if x == TFLOPS else "real-time factor"
        figures.append(_save(fig, out, f"quality_vs_{x}", f"Quality vs {name}",
                             "one point per table row, 95 % CI bars where stored"))
    return figures


def _utterance_figures(page: ListeningPage, out: Path) -> list[FigureRef]:
    frame = utterance_plots.utterance_frame(page)
    if frame.empty:
        return []
    slug = path_component(page.prompt_set, "prompt set", encode=True)
    cols = {c.key: c for c in page.columns}
    wer = page.transcripts_from if page.transcripts_from in cols else None
    sim = next((c for c in page.columns if c.field == "sim_o"), None)
    figures = []
    if wer and utterance_plots.has_values(frame, wer):
        fig = utterance_plots.wer_ecdf(frame, wer, cols[wer].label, f"Per-utterance WER, {page.prompt_set}")
        figures.append(_save(fig, out, f"{slug}-wer-ecdf", f"{page.prompt_set}: per-utterance WER distribution",
                             "ECDF per system"))
    if wer and sim and utterance_plots.has_values(frame, wer, sim.key):
        fig = utterance_plots.sim_vs_wer(frame, wer, cols[wer].label, sim.key, sim.label,
                                         f"SIM vs WER per utterance, {page.prompt_set}")
        figures.append(_save(fig, out, f"{slug}-sim-vs-wer", f"{page.prompt_set}: SIM vs WER", "one point per utterance"))
    if RATIO in cols and utterance_plots.has_values(frame, RATIO):
        fig = utterance_plots.duration_ratio(frame, f"Duration ratio, {page.prompt_set}")
        figures.append(_save(fig, out, f"{slug}-duration-ratio", f"{page.prompt_set}: generated / ground-truth "
                             "duration"))
    return figures


def _table_page(table: str, plot: bool) -> str:
    img = '<p><img src="quality_vs_cost.png" alt="quality vs cost"></p>\n' if plot else ""
    return pages.document("ttsbench report: table", f"{table}{img}")


def p_text(p: float, resamples: int = 1000) -> str:
    """A bootstrap p-value as printed: below 1 / resamples it cannot be resolved."""
    return f"<{1 / resamples:g}" if p < 1 / resamples else f"{p:.3g}"


def _differences(results: Sequence[Mapping[str, Any]]) -> str:
    header = ["Prompt set", "System", "Metric", "Key", "Reference", "System value", "Difference", "95 % CI",
              "p", "n", "Failed (system / reference)", "Verdict"]
    body = []
    for r in results:
        failed = (f"{r['imputed_b']} / {r['imputed_a']} as worst" if r["failed"] == "worst"
                  else f"{r['dropped_b']} / {r['dropped_a']} left out")
        body.append([r["prompt_set"], r["system"], r["metric"], r["key"], f"{r['value_a']:.3f}", f"{r['value_b']:.3f}",
                     f"{r['diff']:+.3f}", f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]", p_text(r["p_value"]),
                     str(r["n"]), failed, {"better": "▲ better", "worse": "▼ worse"}.get(r["verdict"], "–")])
    return render_table(header, body, "html")


def _index(report: Report, rows: Sequence[Row], quoted: Sequence[Row], options: ReportOptions,
           figures: list[FigureRef], listening: list[tuple[str, str, int]], records: Sequence[RunRecord]) -> str:
    measured = ""
    if rows:
        df = build_table(rows)
        if report.significance:
            df = add_significance(df, report.significance, options.references[0], options.failed)
        measured = to_html(df, caption="")
    quoted_html = to_html(build_table(quoted), caption="") if quoted else ""
    differences = ""
    if report.significance:
        ref = options.references[0]
        policy = ("failed utterances count as the worst value of their metric, so these values can differ from "
                  "the table's, which average the scored utterances (see n dropped)" if options.failed == "worst"
                  else "failed utterances are left out (--failed drop)")
        differences = (f"<p>Each system minus {pages.esc(ref)} on the same prompt set: paired bootstrap over the "
                       f"utterances both attempted (1000 resamples, 95 % percentile CI, two-sided p); {policy}.</p>\n"
                       + _differences(report.significance))
    files = [p.name for p in report.files if p.suffix in (".md", ".tex", ".csv") or p.name == "report.html"]
    subtitle = _subtitle(records) if records else "quoted rows only"
    return pages.index_html(measured=measured, quoted=quoted_html, differences=differences, figures=figures,
                            listening=listening, files=files, notes=report.notes, subtitle=subtitle)

