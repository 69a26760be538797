"""Escaping and markup per output format: every piece of text a table prints goes through one of these."""

from __future__ import annotations

import html
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


def _md_escape(text: str) -> str:
    # `|` would split the cell; `<`/`>` would be read as HTML by Markdown renderers; `*`, `` ` ``, `\`
    # would start emphasis, code or an escape.
    out = str(text)
    for ch, rep in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;")):
        out = out.replace(ch, rep)
    return out


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
          "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
          "↓": r"$\downarrow$", "↑": r"$\uparrow$", "◆": r"$\blacklozenge$", "♣": r"$\clubsuit$",
          "♠": r"$\spadesuit$", "†": r"$^\dagger$", "–": "--", "±": r"$\pm$", "<": r"\textless{}",
          ">": r"\textgreater{}", "|": r"\textbar{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


MARKDOWN = Dialect(
    escape=_md_escape, bold=lambda s: f"**{s}**", under=lambda s: f"<u>{s}</u>",
    sup=lambda s: f"<sup>{s}</sup>", small=lambda s: s,
    code=lambda s: "`" + s.replace("`", "").replace("|", "\\|") + "`",
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
    marks=lambda s: html.escape(str(s), quote=True), up="↑", down="↓", dagger="†", approx="~ ", dash="–")
