"""The report's HTML pages: the index (tables, differences from the reference, plots) and one
listening page per prompt set.

Every text from a run or a prompt set (system, prompt-set and metric names, utterance ids, target
texts, transcripts, error messages, paths) goes through `esc` (html.escape, quotes included) before
it reaches the page, attributes included; links are relative URLs that `ttsbench.reports.audio_links`
built. No event handler is written into the markup: the only script is the shipped
`assets/listen.js`, which reads the numbers from a JSON block (`json_block`: `<`, `>` and `&` are
escaped inside it, so no text can close the script element) and the utterance blocks from a
`<template>`, and binds its controls with addEventListener.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ttsbench.reports.utterances import RATIO, Column, ListeningPage
from ttsbench.reports.worddiff import DEL, EQUAL, INS, SUB

PAGE_SIZES = (10, 25, 50, 100)


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class FigureRef:
    """A plot as the pages show it: the SVG inline as an image, the PNG a click away."""

    title: str
    svg: str  # relative hrefs
    png: str
    caption: str = ""

    def html(self) -> str:
        return (f'<figure><a href="{esc(self.png)}"><img src="{esc(self.svg)}" alt="{esc(self.title)}" '
                f'loading="lazy"></a><figcaption>{esc(self.title)}{": " + esc(self.caption) if self.caption else ""}'
                f' (<a href="{esc(self.svg)}">SVG</a>, <a href="{esc(self.png)}">PNG</a>)</figcaption></figure>')


def json_block(element_id: str, payload: Any) -> str:
    """A JSON data island no string in it can break out of."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def document(title: str, body: str, *, script: str = "") -> str:
    """A whole page: UTF-8, the shipped stylesheet, no external resource."""
    tail = f'\n<script src="assets/{esc(script)}"></script>' if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<link rel=\"stylesheet\" href=\"assets/report.css\">\n"
            # an empty icon: no favicon.ico request, which a static server answers with a logged 404
            "<link rel=\"icon\" href=\"data:,\">\n</head>\n"
            f"<body>\n{body}{tail}\n</body>\n</html>\n")


def notes_list(notes: Sequence[str], cls: str = "notes") -> str:
    if not notes:
        return ""
    return f'<ul class="{esc(cls)}">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>\n"


def figures_html(figures: Sequence[FigureRef]) -> str:
    return '<div class="figures">' + "".join(f.html() for f in figures) + "</div>\n" if figures else ""


# ---- index ----------------------------------------------------------------------------------------
def index_html(*, measured: str, quoted: str, differences: str, figures: Sequence[FigureRef],
               listening: Sequence[tuple[str, str, int]], files: Sequence[str], notes: Sequence[str],
               subtitle: str) -> str:
    """The index page. `measured`, `quoted` and `differences` are rendered tables (already escaped);
    `listening` holds (prompt set, href, utterances) per listening page."""
    nav = "".join(f'<a href="{esc(href)}">Listen: {esc(name)} ({n} utterances)</a>' for name, href, n in listening)
    body = [f"<header><h1>ttsbench report</h1><p class=\"muted\">{esc(subtitle)}</p><nav>{nav}</nav></header>",
            notes_list(notes, "notes warn")]
    if measured:
        body.append(f'<section class="measured"><h2>Measured</h2>\n{measured}</section>')
    if differences:
        body.append(f'<section class="differences"><h2>Differences from the reference</h2>\n{differences}</section>')
    if quoted:
        body.append(f'<section class="quoted"><h2>Quoted from papers</h2>\n{quoted}</section>')
    if figures:
        body.append(f'<section class="plots"><h2>Plots</h2>\n{figures_html(figures)}</section>')
    links = " · ".join(f'<a href="{esc(f)}">{esc(f)}</a>' for f in files)
    body.append(f'<footer><h2>Files</h2><p>{links}</p></footer>')
    return document("ttsbench report", "\n".join(body))


# ---- listening page -------------------------------------------------------------------------------
def listening_html(page: ListeningPage, figures: Sequence[FigureRef], subtitle: str) -> str:
    """One prompt set's listening page (see the module docstring for what the script does)."""
    header = (f'<header><p><a href="index.html">← report</a></p><h1>Listening: {esc(page.prompt_set)}</h1>'
              f'<p class="muted">{esc(subtitle)}</p></header>')
    body = [header, notes_list(page.notes, "notes warn"), _controls(page), _legend(page),
            _table_head(page), _template(page), json_block("ttsbench-data", _numbers(page)),
            '<noscript><p class="warn">Sorting, filtering and the rows themselves need JavaScript.</p></noscript>']
    if figures:
        body.append(f"<h2>Plots</h2>\n{figures_html(figures)}")
    return document(f"Listening: {page.prompt_set}", "\n".join(body), script="listen.js")


def default_sort(page: ListeningPage) -> str:
    """The transcript metric's column (WER, worst first), else the first ranked column, else the id."""
    keys = [c.key for c in page.columns]
    if page.transcripts_from in keys:
        return str(page.transcripts_from)
    return next((c.key for c in page.columns if c.higher_is_better is not None), "id")


def _numbers(page: ListeningPage) -> dict[str, Any]:
    return {"columns": [{"key": c.key, "hib": c.higher_is_better, "ratio": c.key == RATIO} for c in page.columns],
            "default_sort": default_sort(page),
            "rows": [{"v": [[line.get("v", {}).get(c.key) for c in page.columns] for line in row["out"]],
                      "st": [line["st"] for line in row["out"]]} for row in page.rows]}


def _controls(page: ListeningPage) -> str:
    systems = "".join(f'<label><input type="checkbox" class="sys-toggle" data-s="{i}" checked> {esc(t.label)}</label>'
                      for i, t in enumerate(page.tracks))
    sort_cols = "".join(f'<option value="{esc(c.key)}">{esc(c.label)}</option>' for c in page.columns)
    over = "".join(f'<option value="{i}">{esc(t.label)}</option>' for i, t in enumerate(page.tracks))
    range_cols = "".join(f'<option value="{esc(c.key)}">{esc(c.label)}</option>' for c in page.columns)
    sizes = "".join(f'<option value="{n}"{" selected" if n == 25 else ""}>{n}</option>' for n in PAGE_SIZES)
    return ('<section class="controls" aria-label="sort and filter">'
            f"<fieldset><legend>Systems</legend>{systems}</fieldset>"
            f'<fieldset><label>Sort by <select id="sort-col"><option value="id">utterance (list order)</option>'
            f'{sort_cols}</select></label><label>of <select id="sort-over"><option value="worst">the worst shown '
            f'system</option>{over}</select></label><button type="button" id="sort-dir">worst first</button></fieldset>'
            f'<fieldset><label>Range <select id="range-col"><option value="">(any)</option>{range_cols}</select></label>'
            '<input type="number" id="range-min" placeholder="min" step="any"> to '
            '<input type="number" id="range-max" placeholder="max" step="any"></fieldset>'
            '<fieldset><label>Text <input type="search" id="text-filter" placeholder="id, text or transcript">'
            "</label></fieldset>"
            f'<fieldset class="pager"><label>Per page <select id="page-size">{sizes}</select></label>'
            '<button type="button" id="prev">‹ previous</button><button type="button" id="next">next ›</button>'
            '<span id="page-info"></span></fieldset></section>')


def _legend(page: ListeningPage) -> str:
    source = f" (alignment of {esc(page.transcripts_from)}, as it counted S, D and I)" if page.transcripts_from else ""
    return ('<p class="legend">Transcript vs normalized reference' + source + ': '
            '<span class="w-sub"><s>ref</s>heard</span> substituted '
            '<span class="w-del">word</span> deleted <span class="w-ins">word</span> inserted. '
            'Failed outputs sort as the worst.</p>')


def _table_head(page: ListeningPage) -> str:
    heads = "".join(f'<th class="sortable num" data-sort="{esc(c.key)}">{esc(c.label)}{_arrow(c)}</th>'
                    for c in page.columns)
    return ('<table class="listen" id="utts"><thead><tr><th class="sortable" data-sort="id">Utterance · system</th>'
            f"<th>Output</th><th>Transcript (diff vs normalized reference)</th>{heads}</tr></thead></table>")


def _arrow(c: Column) -> str:
    return {True: " ↑", False: " ↓"}.get(c.higher_is_better, "")


def _template(page: ListeningPage) -> str:
    width = 3 + len(page.columns)
    blocks = [_block(i, row, page, width) for i, row in enumerate(page.rows)]
    return '<template id="rows">' + "".join(blocks) + "</template>"


def _player(href: str | None, what: str = "audio") -> str:
    """A player that loads nothing until played (a page holds hundreds), or a badge saying what is missing."""
    if not href:
        return f'<span class="badge">no {esc(what)}</span>'
    return f'<audio controls preload="none" src="{esc(href)}"></audio>'


def _block(i: int, row: dict[str, Any], page: ListeningPage, width: int) -> str:
    players = []
    if page.has_prompts:
        players.append(f"<label>prompt {_player(row['prompt'], 'prompt audio')}</label>")
    if page.has_ground_truth:
        secs = f" {row['gt_s']:.2f} s" if row.get("gt_s") is not None else ""
        players.append(f"<label>ground truth {_player(row['gt'], 'ground truth')}{secs}</label>")
    head = (f'<tr class="utt"><td colspan="{width}"><span class="id">{esc(row["id"])}</span>'
            f'<span class="text">{esc(row["text"])}</span><div class="players">{"".join(players)}</div></td></tr>')
    lines = "".join(_line(s, t.label, line, page) for s, (t, line) in enumerate(zip(page.tracks, row["out"])))
    return f'<tbody class="u" data-i="{i}">{head}{lines}</tbody>'


def _line(s: int, label: str, line: dict[str, Any], page: ListeningPage) -> str:
    if line["st"] == "missing":
        output = '<span class="badge">not run</span>'
    elif line["st"] == "failed":
        output = f'<span class="badge failed" title="{esc(line.get("err", ""))}">failed</span>'
    else:
        output = _player(line.get("a"))
    diff = diff_html(line["d"]) if "d" in line else ""
    if line.get("dm"):
        diff += f' <span class="badge mismatch" title="{esc(line["dm"])}">diff ≠ stored S/D/I</span>'
    if line["st"] == "ok" and line.get("err"):
        diff += f' <span class="badge failed">{esc(line["err"])}</span>'
    raw = f' title="raw transcript: {esc(line["hyp"])}"' if line.get("hyp") else ""
    nums = "".join(_number(c, line) for c in page.columns)
    return (f'<tr class="line" data-s="{s}"><td class="sys">{esc(label)}</td><td>{output}</td>'
            f'<td class="diff"{raw}>{diff}</td>{nums}</tr>')


def _number(c: Column, line: dict[str, Any]) -> str:
    v = line.get("v", {}).get(c.key)
    shown = "–" if v is None else f"{v:.{c.decimals}f}"
    return f'<td class="num" data-k="{esc(c.key)}">{shown}</td>'


def diff_html(ops: Sequence[Sequence[str]]) -> str:
    """The coloured transcript: one span per substituted, deleted and inserted word."""
    parts = []
    for op in ops:
        kind = op[0]
        if kind == EQUAL:
            parts.append(esc(op[1]))
        elif kind == SUB:
            parts.append(f'<span class="w-sub" title="substituted: reference &quot;{esc(op[1])}&quot;">'
                         f"<s>{esc(op[1])}</s>{esc(op[2])}</span>")
        elif kind == DEL:
            parts.append(f'<span class="w-del" title="deleted">{esc(op[1])}</span>')
        elif kind == INS:
            parts.append(f'<span class="w-ins" title="inserted">{esc(op[1])}</span>')
    return " ".join(parts)
