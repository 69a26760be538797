"""Comparison tables in the papers' layout: systems as rows, WER / SIM / UTMOS / TFLOPs as columns.

`build_table(records)` turns stored runs (and quoted paper rows) into one machine-readable wide
DataFrame; the renderers (`to_markdown`, `to_latex`, `to_html`, in `render.py`, re-exported here)
format it with CIs, bold best / underlined second per direction and per prompt set, and footnotes.

Columns of the frame, one row per (system, prompt set):

- `system`, `prompt_set`, `source` ("measured" or "quoted"), `reference` (never ranked), `marks`,
  `provenance`, `run_id`, `path` (comma-separated for a row over several seeds), `seeds` (the runs'
  seeds, comma-separated: more than one means each value is the mean over those seeds);
- `n_expected` (prompts in the set), `n_synth_failed`, `n_scored` (the fewest any metric of the row
  scored), `n_dropped` = n_expected - n_scored: utterances missing from at least one number;
- per metric column `<m>`: the value in the unit of its label, `<m>_ci_low` / `<m>_ci_high` (95 %
  bootstrap CI, where stored), `<m>_group` (recipe fingerprint id, or the quoted source),
  `<m>_n_scored`, `<m>_n_failed`, `<m>_approx`;
- the same for `tflops` (10^12 FLOPs per the run's cost scope, which is its group) and `rtf`
  (wall s / audio s; its group is the device and batch size).

Column metadata travel in `df.attrs["columns"]`: label, direction, and per group a note and
whether it is comparable (not an offline stand-in) and quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ttsbench.reports.records import QUOTED, RTF, TFLOPS, Cell, Row, load_rows, row_from_run
from ttsbench.reports.render import to_html, to_latex, to_markdown
from ttsbench.reports.tabular import csv_text

__all__ = ["build_table", "to_csv", "to_html", "to_latex", "to_markdown", "column_keys"]

CELL_FIELDS = ("ci_low", "ci_high", "group", "n_scored", "n_failed", "approx")


def _quantity(label: str) -> tuple[str, bool]:
    """(leading word of a label, upper-cased; whether it is in percent): "WER (%)" -> ("WER", True)."""
    word = re.match(r"[A-Za-z]+", label or "")
    return (word.group(0).upper() if word else "", "%" in (label or ""))


def _as_rows(records: Iterable[Any]) -> list[Row]:
    rows: list[Row] = []
    paths: list[str | Path] = []
    for rec in records:
        if isinstance(rec, Row):
            rows.append(rec)
        elif isinstance(rec, (str, Path)):
            paths.append(rec)
        else:  # a ttsbench.store.RunRecord

            rows.append(row_from_run(rec))
    return load_rows(paths) + rows if paths else rows


def _place_quoted(rows: list[Row]) -> tuple[dict[str, dict[str, Any]], list[tuple[Row, dict[str, Cell]]]]:
    """Column metadata in first-seen order, and each row's cells keyed by column.

    Quoted cells (keyed by quantity) go under every measured column of the same quantity and unit;
    a quantity no measured column has gets its own column.
    """
    columns: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.source != QUOTED:
            for name, cell in row.metrics.items():
                columns.setdefault(name, {"label": cell.label, "higher_is_better": cell.higher_is_better,
                                          "kind": "metric", "groups": {}})
    placed = []
    for row in rows:
        cells: dict[str, Cell] = {}
        if row.source == QUOTED:
            for quantity, cell in row.metrics.items():
                targets = [k for k, c in columns.items()
                           if c["kind"] == "metric" and _quantity(c["label"]) == _quantity(cell.label)
                           and c.get("origin") != QUOTED]
                if not targets:
                    columns.setdefault(quantity, {"label": cell.label,
                                                  "higher_is_better": cell.higher_is_better,
                                                  "kind": "metric", "groups": {}, "origin": QUOTED})
                    targets = [quantity]
                cells.update({k: cell for k in targets})
        else:
            cells.update(row.metrics)
        if row.tflops is not None:
            cells[TFLOPS] = row.tflops
        if row.rtf is not None:
            cells[RTF] = row.rtf
        placed.append((row, cells))
    for key, cell_label in ((TFLOPS, "TFLOPs"), (RTF, "RTF")):
        if any(key in cells for _, cells in placed):
            columns[key] = {"label": cell_label, "higher_is_better": False, "kind": "cost", "groups": {}}
    return columns, placed


def build_table(records: Iterable[Any]) -> pd.DataFrame:
    """The wide table of runs and quoted rows (see the module docstring for its columns).

    Args:
        records: `Row`s (e.g. from `paper_rows`), `ttsbench.store.RunRecord`s, or run paths.

    Returns:
        One row per record, measured prompt sets first in first-seen order, reference rows first
        within a prompt set; metadata in `df.attrs["columns"]`.
    """
    rows = _as_rows(records)
    columns, placed = _place_quoted(rows)
    out = []
    for row, cells in placed:
        rec: dict[str, Any] = {"system": row.system, "prompt_set": row.prompt_set, "source": row.source,
                               "reference": row.reference, "marks": row.marks, "provenance": row.provenance,
                               "run_id": row.run_id, "path": row.path,
                               "seeds": ",".join("?" if x is None else str(x) for x in row.seeds),
                               "n_expected": row.n_expected,
                               "n_synth_failed": row.n_synth_failed}
        counts = [c.n_scored for k, c in cells.items()
                  if columns[k]["kind"] == "metric" and c.n_scored is not None]
        rec["n_scored"] = min(counts) if counts else None
        known = counts and row.n_expected is not None
        rec["n_dropped"] = (row.n_expected - rec["n_scored"]) if known else None
        for key, meta in columns.items():
            cell = cells.get(key)
            rec[key] = None if cell is None else cell.value
            for f in CELL_FIELDS:
                rec[f"{key}_{f}"] = None if cell is None else getattr(cell, f)
            if cell is not None:
                meta["groups"].setdefault(cell.group, {"note": cell.note or cell.group,
                                                       "comparable": cell.comparable or row.source == QUOTED,
                                                       "quoted": row.source == QUOTED})
        out.append(rec)
    df = pd.DataFrame(out, columns=_column_order(columns))
    counts = ["n_expected", "n_synth_failed", "n_scored", "n_dropped",
              *(f"{k}_{f}" for k in columns for f in ("n_scored", "n_failed"))]
    df[counts] = df[counts].astype("Int64")
    order = {t: i for i, t in enumerate(dict.fromkeys(df["prompt_set"]))}
    df = df.assign(_t=df["prompt_set"].map(order), _r=~df["reference"].astype(bool)) \
        .sort_values(["_t", "_r"], kind="stable").drop(columns=["_t", "_r"]).reset_index(drop=True)
    df.attrs["columns"] = columns
    return df


def _column_order(columns: Mapping[str, Any]) -> list[str]:
    head = ["system", "prompt_set", "source", "reference", "marks", "provenance", "run_id", "path", "seeds",
            "n_expected", "n_synth_failed", "n_scored", "n_dropped"]
    return head + [c for key in columns for c in (key, *(f"{key}_{f}" for f in CELL_FIELDS))]


def column_keys(df: pd.DataFrame) -> list[str]:
    """The value columns of a table (metrics, then tflops / rtf), from attrs or from the CSV names."""
    if "columns" in df.attrs:
        return list(df.attrs["columns"])
    return [c[: -len("_group")] for c in df.columns if c.endswith("_group")]


def to_csv(df: pd.DataFrame) -> str:
    """Machine-readable CSV: numbers unformatted, CI, group (fingerprint) and counts in own columns.

    Text cells and headers (system, prompt set, group, path, metric names) pass the spreadsheet-
    injection guard `csv_text`; numeric columns are written as they are.
    """
    text = df.select_dtypes(include="object").columns
    safe = df.assign(**{c: df[c].map(csv_text) for c in text}) if len(text) else df
    return safe.rename(columns=csv_text).to_csv(index=False, float_format="%.10g")
