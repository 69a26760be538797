"""Escaping and markup per output format: every piece of text a table prints goes through one of these.

Names in a table (system, prompt set, metric, label, scope, device) come from run directories and
prompt sets, so anyone can put anything in them. Each format neutralises them:

- Markdown (`md_text`, `MARKDOWN.escape`): line breaks and control characters become spaces, so a
  name stays in its cell and row; `\\`, `|`, `[` and `]` are backslash-escaped, so no cell splits and
  no link, image or reference forms (each needs an unescaped `[`); `<`/`>` become entities, so no HTML
  tag forms. `MARKDOWN.escape` also escapes `*` and `` ` `` (the report's text is never markup; a
  command's own notes may hold code spans).
- LaTeX: every special character is escaped and line breaks become spaces (a blank line would end
  the paragraph inside a tabular).
- HTML: `html.escape`.

CSV has no markup; its guard against spreadsheet formulas lives with the CSV writer
(`ttsbench.reports.tabular.csv_text`).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """How one format escapes text and spells bold, underline, superscripts and symbols."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    under: Callable[[str], str]
    sup: Callable[[str], str]
    small: Callable[[str], str]
    code: Callable[[str], str]
    stack: Callable[[list[str]], str]
    marks: Callable[[str], str]
    up: str
    down: str
    dagger: str
    approx: str
    dash: str
    hint: Callable[[str, str], str] = lambda text, tip: text  # text with a hover line (HTML only)


# Unicode line and paragraph separators and the bidirectional overrides/isolates (which reorder
# what a reader sees) are not in category Cc, but are as disruptive in a one-line cell.
_NOT_ONE_LINE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def one_line(text: str) -> str:
    """`text` with every control character (newlines, tabs, C0/C1 controls) and line separator as a space."""
    return "".join(" " if ch in _NOT_ONE_LINE or unicodedata.category(ch) == "Cc" else ch for ch in str(text))


# `\` first: it escapes the escapes added after it. `|` would split the cell. `[`/`]` would open a
# link, an image or a reference (`[x](javascript:...)`, `![x](url)`, `[x]: url`): every one of them
# starts with an unescaped `[`, so with both brackets escaped none can form, and `(`/`)` (in every
# unit, "WER (%)") stay readable. `<`/`>` would be read as HTML by Markdown renderers.
_MD_TEXT = (("\\", "\\\\"), ("|", "\\|"), ("[", "\\["), ("]", "\\]"), ("<", "&lt;"), (">", "&gt;"))


def md_text(text: str) -> str:
    """Text for one Markdown table cell or line: one line, no link, image, HTML tag or cell split.

    Emphasis and code spans are left alone, so a command's notes may still use `code`.
    """
    out = one_line(text)
    for ch, rep in _MD_TEXT:
        out = out.replace(ch, rep)
    return out


def _md_escape(text: str) -> str:
    # the report's text is never markup: `*` and `` ` `` would start emphasis or code as well
    return md_text(text).replace("*", "\\*").replace("`", "\\`")


def _md_code(text: str) -> str:
    # inside a code span nothing forms a link and escapes are literal: only the row and the span's
    # own end (a backtick) and the cell's end (a pipe, which GFM splits on even here) need care
    return "`" + one_line(text).replace("`", "").replace("|", "\\|") + "`"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
          "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
          "↓": r"$\downarrow$", "↑": r"$\uparrow$", "◆": r"$\blacklozenge$", "♣": r"$\clubsuit$",
          "▲": r"$\blacktriangle$", "▼": r"$\blacktriangledown$",
          "♠": r"$\spadesuit$", "†": r"$^\dagger$", "–": "--", "±": r"$\pm$", "<": r"\textless{}",
          ">": r"\textgreater{}", "|": r"\textbar{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in one_line(text))


MARKDOWN = Dialect(
    escape=_md_escape, bold=lambda s: f"**{s}**", under=lambda s: f"<u>{s}</u>",
    sup=lambda s: f"<sup>{s}</sup>", small=lambda s: s,
    code=_md_code,
    stack=" · ".join, marks=_md_escape, up="↑", down="↓", dagger="†", approx="~ ", dash="–")

LATEX = Dialect(
    escape=_latex_escape, bold=lambda s: rf"\textbf{{{s}}}", under=lambda s: rf"\underline{{{s}}}",
    sup=lambda s: rf"\textsuperscript{{{s}}}", small=lambda s: rf"{{\scriptsize {s}}}",
    code=lambda s: rf"\texttt{{{_latex_escape(s)}}}",
    stack=lambda parts: parts[0] if len(parts) == 1 else r"\shortstack{" + r" \\ ".join(parts) + "}",
    marks=_latex_escape, up=r"$\uparrow$", down=r"$\downarrow$", dagger=r"$^\dagger$", approx=r"$\sim$",
    dash="--")

HTML = Dialect(
    escape=lambda s: html.escape(str(s), quote=True), bold=lambda s: f"<b>{s}</b>",
    under=lambda s: f"<u>{s}</u>",
    sup=lambda s: f"<sup>{s}</sup>", small=lambda s: f"<small>{s}</small>",
    code=lambda s: f"<code>{html.escape(s, quote=True)}</code>", stack="<br>".join,
    marks=lambda s: html.escape(str(s), quote=True), up="↑", down="↓", dagger="†", approx="~ ", dash="–",
    hint=lambda text, tip: f'<span class="hint" title="{html.escape(one_line(tip), quote=True)}">{text}</span>')
