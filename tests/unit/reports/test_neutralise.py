"""Hostile names in every Markdown and CSV we write (issue 13 #16).

A name is whatever a run directory or a prompt set says (system, prompt set, metric, label, scope,
device). In Markdown it must stay one cell of one row and never become a link or an image; in CSV
a text cell must never start a spreadsheet formula, while numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from ttsbench.reports import bitrate
from ttsbench.reports.records import Cell, Row
from ttsbench.reports.tables import build_table, to_csv, to_html, to_latex, to_markdown
from ttsbench.reports.tabular import render_records, render_table

HOSTILE = [
    "two\nlines | and a pipe",
    "[click](javascript:alert(1))",
    "![pixel](http://evil.example/x.png)",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "tab\there\rcr\x0bvt\u2028ls\x85nel\u202eltr",
    "back\\|slash",
    "para\n\nbreak",
    "<img src=x onerror=alert(1)>",
]
FORMULA_START = tuple("=+-@\t\r")


def _parse_md(text: str):
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").parse(text)


def _kinds(tokens) -> list[str]:
    return [t.type for t in tokens] + [c.type for t in tokens for c in (t.children or [])]


def _frame(names: list[str], *, scope: str = "analytic: 3 s prompt", label: str = "WER (%)"):
    rows = [Row(system=name, prompt_set="tiny-en", n_expected=10,
                metrics={"wer-test": Cell(value=2.0 + i, label=label, higher_is_better=False,
                                          group="f00dfeed0001", note=f"{label}: recipe wer-test")},
                tflops=Cell(value=-0.5 if i == 0 else 1.0, label="TFLOPs", higher_is_better=False,
                            group=scope, note=f"TFLOPs; scope: {scope}"))
            for i, name in enumerate(names)]
    return build_table(rows)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_report_markdown_keeps_every_name_in_one_cell_and_forms_no_link():
    md = to_markdown(_frame(HOSTILE, scope="a scope\n- [x](javascript:alert(2))",
                            label="WER [%](javascript:x)"))
    assert sum(line.startswith("|") for line in md.splitlines()) == 2 + len(HOSTILE)  # without a parser too
    assert not re.search(r"(?<!\\)\[", md)  # no bracket left to open a link
    tokens = _parse_md(md)
    kinds = _kinds(tokens)
    assert kinds.count("tr_open") == 1 + len(HOSTILE)  # the header and one row per name: no split row
    assert "link_open" not in kinds and "image" not in kinds
    html = {c.content for t in tokens for c in (t.children or []) if c.type == "html_inline"}
    assert html <= {"<u>", "</u>", "<sup>", "</sup>"}  # only our own markup is HTML
    cells = [t.children for prev, t in zip(tokens, tokens[1:], strict=False)
             if t.type == "inline" and prev.type == "td_open"]
    in_system_column = cells[1::kinds.count("th_open")]
    systems = ["".join(c.content for c in cell if c.type == "text") for cell in in_system_column]
    for name, shown in zip(HOSTILE, systems, strict=True):  # escaped, not mangled: the name still reads
        assert "\n" not in shown and "\r" not in shown and "\u2028" not in shown and "\u202e" not in shown
        assert shown.split() == name.replace("\u202e", " ").split()
    assert not any(line.startswith("- [x]") for line in md.splitlines())  # the scope made no list item


def test_report_csv_guards_text_cells_and_keeps_numbers():
    df = _frame(HOSTILE)
    rows = _csv_rows(to_csv(df))
    header, body = rows[0], rows[1:]
    systems = [r[header.index("system")] for r in body]
    for name, cell in zip(df["system"], systems, strict=True):
        assert not cell.lstrip().startswith(FORMULA_START)
        name = name.replace("\r", "\n")  # a lone CR would end the row in a reader; a newline is quoted
        assert cell in (name, "'" + name)  # only a leading apostrophe is added
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in systems and "'@SUM(A1:A9)" in systems
    tflops = [r[header.index("tflops")] for r in body]
    assert tflops[df["system"].tolist().index(HOSTILE[0])] == "-0.5"  # a negative number stays a number


def test_render_records_guards_text_cells_and_headers_but_not_numbers():
    rows = [{"system": "=cmd|' /C calc'!A0", "value": -1.5, "count": -3, "note": "-2", "ok": "fine",
             "@evil": "x", "nested": ["=a"]}]
    (header, body) = _csv_rows(render_records(rows, "csv"))
    assert header == ["system", "value", "count", "note", "ok", "'@evil", "nested"]
    assert body == ["'=cmd|' /C calc'!A0", "-1.5", "-3", "-2", "fine", "x", '["=a"]']


def test_render_table_markdown_neutralises_cells_title_and_notes():
    header = ["System", "[h](javascript:h)"]
    body = [[name, "1.0"] for name in HOSTILE]
    md = render_table(header, body, "md", title=["### sweep of [t](javascript:t)\n# injected"],
                      notes=["n1\n- [z](javascript:z)", "`code` stays code"])
    assert sum(line.startswith("|") for line in md.splitlines()) == 2 + len(HOSTILE)
    assert not re.search(r"(?<!\\)\[", md)
    kinds = _kinds(_parse_md(md))
    assert kinds.count("tr_open") == 1 + len(HOSTILE)
    assert "link_open" not in kinds and "image" not in kinds and "html_inline" not in kinds
    assert kinds.count("list_item_open") == 2 and kinds.count("heading_open") == 1
    assert "code_inline" in kinds  # a command's own code spans survive


def _sweep_table(name: str) -> bitrate.BitrateTable:
    cell = Cell(value=2.0, label="WER [%](javascript:x)", higher_is_better=False, group="fp", n_scored=2,
                n_failed=0)
    row = bitrate.BitrateRow(layers=1, kbps=0.5, metrics={"=m": cell},
                             tflops=Cell(value=1.0, label="TFLOPs", higher_is_better=False, group="s"),
                             rtf=Cell(value=0.1, label="RTF", higher_is_better=False, group="@gpu\nx"),
                             n_expected=2, n_synth_ok=2, n_synth_failed=0, run_id="r", path="-runs/r")
    metrics = {"=m": {"label": cell.label, "primary": "wer", "higher_is_better": False,
                      "fingerprint_ids": ["fp"], "comparable": True}}
    return bitrate.BitrateTable(system=name, prompt_set="[p](javascript:p)", rows=(row,), num_layers=4,
                                codebook_size=16, frame_rate=12.5, metrics=metrics)


def test_bitrate_csv_and_markdown_are_neutralised():
    table = _sweep_table("=evil\n[x](javascript:alert(1))")
    (header, *body) = _csv_rows(bitrate.render(table, "csv"))
    assert header[2] == "'=m" and all(not h.startswith(FORMULA_START) for h in header)
    record = dict(zip(header, body[0], strict=True))
    assert record["rtf_device"] == "'@gpu\nx" and record["run_dir"] == "'-runs/r" and record["kbps"] == "0.5"
    kinds = _kinds(_parse_md(bitrate.render(table, "md")))
    assert "link_open" not in kinds and kinds.count("tr_open") == 2 and kinds.count("heading_open") == 1


def test_html_and_latex_stay_escaped_for_hostile_names():
    df = _frame(HOSTILE)
    page, tex = to_html(df), to_latex(df)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in tex and r"\textless{}img" in tex
    assert "\n\n" not in tex.split(r"\begin{tabular}")[1]  # no paragraph break inside the tabular
