"""The one renderer of ttsbench's tables (flops, speed, params, bitrate, compare, list).

Every command that prints a table builds a header and string cells (its own number formatting and
footnotes: units and scope belong to the command) and hands them here; machine-readable output
(`json`, `csv`) is rendered from the command's raw rows instead, so numbers stay unrounded. The
paper-layout report tables (`reports/render.py`, bold best / underlined second, per-cell footnote
letters) render through pandas in the same dialects.

Formats, spelt the same in every command's `--format`:

    table   aligned plain text for the terminal (tabulate "simple")
    md      a GitHub-flavoured Markdown pipe table
    csv     the raw rows, comma-separated, one header line
    json    the raw rows as a JSON list (or the command's JSON document)
    latex   a booktabs tabular (text escaped)
    html    an HTML table (text escaped)

Names in the rows come from run directories and prompt sets, so any text may be hostile. In `md`
every cell, the title and the notes go through `ttsbench.reports.dialects.md_text` (one line, no
link, image, HTML tag or cell split; a command's own code spans survive). In `csv` every text cell
and header goes through `csv_text`, the spreadsheet-injection guard; numbers are left as they are.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

from ttsbench.reports.dialects import md_text

FORMATS = ("table", "md", "csv", "json", "latex", "html")
TEXT_FORMATS = ("table", "md", "latex", "html")
_TABLEFMT = {"table": "simple", "md": "github", "latex": "latex_booktabs", "html": "html"}


def render_table(header: Sequence[str], body: Sequence[Sequence[Any]], fmt: str = "table", *,
                 title: Sequence[str] = (), notes: Sequence[str] = ()) -> str:
    """A human-readable table: `title` lines above it and `notes` below, in the format's own markup.

    Cells are printed as given (`disable_numparse`: the command formatted its numbers, with units).
    """
    if fmt not in _TABLEFMT:
        raise ValueError(f"render_table: format {fmt!r}; one of {', '.join(TEXT_FORMATS)}")
    cell = md_text if fmt == "md" else str  # tabulate leaves Markdown text as it is
    table = tabulate([[cell(c) for c in row] for row in body], headers=[cell(h) for h in header],
                     tablefmt=_TABLEFMT[fmt], disable_numparse=True)
    if fmt == "html":
        top = "".join(f"<p>{html.escape(line)}</p>\n" for line in title)
        bottom = ("<ul>\n" + "".join(f"<li>{html.escape(n)}</li>\n" for n in notes) + "</ul>\n") if notes else ""
        return top + table + "\n" + bottom
    if fmt == "latex":
        top = "".join(f"% {line}\n" for line in title)
        bottom = "".join(f"% {n}\n" for n in notes)
        return top + table + "\n" + bottom
    if fmt == "md":
        title, notes = [md_text(line) for line in title], [md_text(n) for n in notes]
    top = "\n".join(title) + ("\n\n" if title and fmt == "md" else "\n" if title else "")
    if fmt == "md":
        bottom = ("\n" + "".join(f"- {n}\n" for n in notes)) if notes else ""
    else:
        bottom = ("\n" + "".join(f"{n}\n" for n in notes)) if notes else ""
    return top + table + "\n" + bottom


def render_records(rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Raw rows as `json` (a list of objects) or `csv` (columns in first-seen order; None is empty)."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2, ensure_ascii=False, default=_plain) + "\n"
    if fmt != "csv":
        raise ValueError(f"render_records: format {fmt!r}; json or csv")
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_text(k) for k in columns])
    for row in rows:
        writer.writerow([csv_text(_csv_cell(row.get(k))) for k in columns])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    return value


# What a spreadsheet reads as the start of a formula (OWASP "CSV injection"); leading blanks do not
# stop some of them, so the first non-blank character counts.
_FORMULA_START = ("=", "+", "-", "@")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_text(value: Any) -> Any:
    """A CSV cell no spreadsheet runs: text that would start a formula gets a leading apostrophe.

    Only text is touched: numbers (and text that is just a number, such as "-2") stay numbers. A
    carriage return becomes a newline: Python's writer quotes fields with a newline but not one with
    a lone CR, which readers take for the end of the row.
    """
    if not isinstance(value, str):
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    head = text.strip()
    if head.startswith(_FORMULA_START) and not _NUMBER.fullmatch(head):
        return "'" + text
    return text


def _plain(obj: Any) -> Any:
    """JSON for what rows may hold beyond plain values: paths, numpy scalars and arrays."""
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
