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
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

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
    cell = _md_cell if fmt == "md" else str  # a bare '|' would split a Markdown cell; tabulate leaves it
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
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
    return buf.getvalue()


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    return value


def _plain(obj: Any) -> Any:
    """JSON for what rows may hold beyond plain values: paths, numpy scalars and arrays."""
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
