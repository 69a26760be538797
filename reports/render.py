"""Render a `build_table` frame as Markdown, LaTeX or HTML, with the papers' conventions.

Per prompt set and column: **bold** = best, underlined = second best, in the column's direction
(↓ lower is better, ↑ higher is better), ties sharing a place (dense ranking on the printed
digits). Reference rows (ground truth, vocoder) are not ranked, nor are cells of a prompt set whose
rows mix recipe fingerprints (or FLOPs scopes, or timing devices).

Every group (fingerprint, scope, device, quoted source) of a column gets a footnote letter: on the
header when the column has one group, on each cell when it mixes groups. Offline stand-in recipes
carry † in the header. Values print as "x [low, high]" with the 95 % bootstrap CI where stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ttsbench.reports.dialects import HTML, LATEX, MARKDOWN, Dialect
from ttsbench.reports.paper import mark_notes

SYMBOL = {"better": "▲", "worse": "▼"}  # the verdicts of ttsbench.reports.significance


@dataclass(frozen=True)
class Layout:
    """What the renderers need, computed once per table: ranks, footnote letters, notes, decimals."""

    rank: dict[tuple[int, str], int]          # (row, column) -> 1 best, 2 second
    letters: dict[tuple[str, str], str]       # (column, group) -> footnote letter
    notes: list[tuple[str, str]]              # (marker, text), in order
    decimals: dict[str, int]


def _is_num(v: Any) -> bool:
    """A present number (not None, NaN or pd.NA)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v) \
        or (hasattr(v, "dtype") and not pd.isna(v))


def _decimals(values: pd.Series) -> int:
    """2 decimals as the papers print; more when the column is small (e.g. WER as a fraction)."""
    nonzero = [abs(float(v)) for v in values if _is_num(v) and float(v) != 0.0]
    typical = float(pd.Series(nonzero).median()) if nonzero else 1.0
    return 2 if typical >= 0.1 else 3 if typical >= 0.01 else 4


def _ranks(df: pd.DataFrame, key: str, meta: dict[str, Any], d: int, notes: list[tuple[str, str]]) -> dict:
    out: dict[tuple[int, str], int] = {}
    hib = meta.get("higher_is_better")
    if hib is None:
        return out
    for prompt_set, part in df.groupby("prompt_set", sort=False):
        part = part[~part["reference"].astype(bool) & part[key].map(_is_num)]
        if len(part) < 2:
            continue
        if part[f"{key}_group"].nunique() > 1:
            notes.append(("", f"{meta['label']} is not ranked in {prompt_set}: its rows mix recipes/scopes"))
            continue
        shown = part[key].astype(float).round(d)
        places = sorted(set(shown), reverse=bool(hib))
        if len(places) < 2:  # all equal: nothing to tell apart
            continue
        for idx, v in shown.items():
            place = places.index(v) + 1
            if place <= 2:
                out[(idx, key)] = place
    return out


def layout(df: pd.DataFrame) -> Layout:
    """Ranks, footnote letters and notes of a table frame."""
    columns = df.attrs.get("columns", {})
    rank: dict[tuple[int, str], int] = {}
    letters: dict[tuple[str, str], str] = {}
    notes: list[tuple[str, str]] = []
    unranked: list[tuple[str, str]] = []
    decimals: dict[str, int] = {}
    for key, meta in columns.items():
        decimals[key] = _decimals(df[key])
        for group, info in meta["groups"].items():
            letter = _letter(len(letters))
            letters[(key, group)] = letter
            stand_in = "" if info["comparable"] or "not comparable" in info["note"] else \
                " (offline stand-in: not comparable with published numbers)"  # (another model says why itself)
            notes.append((letter, info["note"] + stand_in))
        rank.update(_ranks(df, key, meta, decimals[key], unranked))
    return Layout(rank, letters, notes + unranked, decimals)


def _letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i % 26] * (i // 26 + 1)


def _header(key: str, meta: dict[str, Any], lay: Layout, dia: Dialect) -> str:
    arrow = {True: dia.up, False: dia.down}.get(meta.get("higher_is_better"), "")
    groups = list(meta["groups"])
    parts = [dia.escape(meta["label"]) + (f" {arrow}" if arrow else "")]
    measured = [g for g in groups if not meta["groups"][g]["quoted"]]
    if meta["kind"] == "metric" and measured:
        fp = f"fp {measured[0]}" if len(measured) == 1 else "fp mixed"
        parts.append(dia.small(dia.code(key) + " " + dia.escape(fp)))
    elif not measured:
        parts.append(dia.small(dia.escape("quoted")))
    if any(not g["comparable"] for g in meta["groups"].values()):
        parts[0] += dia.dagger
    head = dia.stack(parts)
    if len(groups) == 1:
        head += dia.sup(lay.letters[(key, groups[0])])
    return head


def _cell(df: pd.DataFrame, idx: int, key: str, lay: Layout, dia: Dialect) -> str:
    row = df.loc[idx]
    v = row[key]
    if not _is_num(v):
        return dia.dash
    d = lay.decimals[key]
    text = f"{float(v):.{d}f}"
    place = lay.rank.get((idx, key))
    text = dia.bold(text) if place == 1 else dia.under(text) if place == 2 else text
    if row.get(f"{key}_approx") is True:
        text = dia.approx + text
    lo, hi = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if _is_num(lo) and _is_num(hi):
        text += f" [{float(lo):.{d}f}, {float(hi):.{d}f}]"
    if len(df.attrs["columns"][key]["groups"]) > 1:
        text += dia.sup(lay.letters[(key, row[f"{key}_group"])])
    verdict = row.get(f"{key}_sig")
    if isinstance(verdict, str) and verdict:
        text += f" {dia.escape(SYMBOL[verdict])}" if verdict in SYMBOL else ""
        text = dia.hint(text, str(row.get(f"{key}_sig_tip") or ""))
    return text


def _count(v: Any, dash: str) -> str:
    return str(int(v)) if _is_num(v) else dash


def display_frame(df: pd.DataFrame, dia: Dialect, lay: Layout | None = None) -> pd.DataFrame:
    """The table as formatted strings in one dialect (escaped text, markup, footnote markers)."""
    lay = lay or layout(df)
    columns = df.attrs.get("columns", {})
    out = pd.DataFrame(index=df.index)
    out["Prompt set"] = df["prompt_set"].map(dia.escape)
    marks = df["marks"].fillna("").map(dia.marks)
    seeds = df["seeds"].fillna("").map(lambda v: f" ({v.count(',') + 1} seeds)" if "," in str(v) else "") \
        if "seeds" in df else ""
    out["System"] = df["system"].map(dia.escape) + marks.map(lambda m: f" {m}" if m else "") + seeds
    out["Source"] = df["source"].map(dia.escape)
    out["n (exp / scored / dropped)"] = [
        f"{_count(e, dia.dash)} / {_count(s, dia.dash)} / {_count(x, dia.dash)}"
        for e, s, x in zip(df["n_expected"], df["n_scored"], df["n_dropped"], strict=True)]
    for key, meta in columns.items():
        out[_header(key, meta, lay, dia)] = [_cell(df, i, key, lay, dia) for i in df.index]
    return out


def footnotes(df: pd.DataFrame, lay: Layout, dia: Dialect) -> list[str]:
    """Footnote lines: conventions, then one per group letter, then paper marks."""
    lines = [dia.escape("Bold: best, underlined: second best per prompt set and column (↓ lower is better, "
                        "↑ higher is better); reference rows and columns mixing recipes are not ranked. "
                        "x [low, high]: the value and its 95 % bootstrap CI. n: prompts expected / scored "
                        "by every metric / dropped (synthesis or scoring failed, or not scored). "
                        "Quoted rows are copied from the cited paper, not measured.")]
    if "seeds" in df and df["seeds"].fillna("").astype(str).str.contains(",").any():
        lines.append(dia.escape("(k seeds): the mean over k runs that differ only in their seed, on the utterances "
                                "every seed scored; its CI is the bootstrap over utterances and seeds."))
    sig = df.attrs.get("significance")
    if sig:
        policy = ("failed utterances count as the worst value of their metric" if sig["failed"] == "worst"
                  else "failed utterances left out")
        lines.append(dia.escape(f"▲ / ▼: significantly better / worse than {sig['reference']} on the same "
                                f"prompt set (paired bootstrap over the utterances both attempted, two-sided "
                                f"p < {sig['alpha']:g}; {policy})."))
    lines += [(dia.sup(m) + " " if m else "") + dia.escape(text) for m, text in lay.notes]
    if any(df.attrs.get("columns", {})) and any(
            (df[f"{k}_approx"] == True).any() for k in df.attrs["columns"]):  # noqa: E712 - object column
        lines.append(dia.approx.strip() + dia.escape(" approximate, as printed in the paper"))
    present = {ch for m in df["marks"].fillna("") for ch in m}
    lines += [dia.marks(line[0]) + dia.escape(line[1:]) for line in mark_notes(present)]
    return lines


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (**bold**, <u>underline</u>) and its footnotes."""
    lay = layout(df)
    table = display_frame(df, MARKDOWN, lay).to_markdown(index=False, disable_numparse=True)
    return table + "\n\n" + "\n".join(f"- {line}" for line in footnotes(df, lay, MARKDOWN)) + "\n"


def to_latex(df: pd.DataFrame, caption: str = "Objective evaluation results.") -> str:
    """A booktabs LaTeX table (needs the booktabs and amssymb packages), prompt sets as row groups."""
    lay = layout(df)
    shown = display_frame(df, LATEX, lay).set_index(["Prompt set", "System"])
    styler = shown.style
    body = styler.to_latex(hrules=True, multirow_align="naive", clines="skip-last;data",
                           column_format="ll" + "l" * len(shown.columns))
    notes = "\\\\\n".join(footnotes(df, lay, LATEX))
    return ("\\begin{table}[t]\n\\centering\n\\caption{" + LATEX.escape(caption) + "}\n" + body
            + "\\par\\smallskip\n{\\footnotesize\n" + notes + "\\par}\n\\end{table}\n")


def to_html(df: pd.DataFrame, caption: str = "Objective evaluation results") -> str:
    """An HTML table (all text escaped; <b>, <u>, <sup> markup only) and its footnotes."""
    lay = layout(df)
    shown = display_frame(df, HTML, lay).set_index(["Prompt set", "System"])
    table = shown.style.set_caption(HTML.escape(caption)).to_html(table_attributes='class="ttsbench-report"')
    notes = "\n".join(f"<li>{line}</li>" for line in footnotes(df, lay, HTML))
    return f'{table}\n<ul class="ttsbench-notes">\n{notes}\n</ul>\n'
