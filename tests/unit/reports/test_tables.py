"""Comparison tables: layout, ranking per direction, escaping, CSV, footnotes, paper rows."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pandas as pd
import pytest
from ttsbench.reports.paper import paper_rows
from ttsbench.reports.tables import build_table, to_csv, to_html, to_latex, to_markdown


def _md_rows(md: str) -> dict[str, list[str]]:
    """System -> its cells, from the Markdown table."""
    lines = [line for line in md.splitlines() if line.startswith("|")][2:]
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    return {c[1]: c for c in cells}


def _header(md: str) -> list[str]:
    return [c.strip() for c in md.splitlines()[0].split("|")[1:-1]]


@pytest.fixture
def three(make_run, tmp_path):
    make_run("alpha", wer=2.0, sim=0.60, flops=3e12, ci=0.25)
    make_run("beta", wer=3.0, sim=0.70, flops=1e12, failed=2)
    make_run("gamma", wer=5.0, sim=0.50)
    make_run("ground-truth", wer=1.0, sim=0.90)
    return build_table([tmp_path / "runs"])


def test_frame_has_one_row_per_run_and_machine_readable_columns(three):
    assert sorted(three["system"]) == ["alpha", "beta", "gamma", "ground-truth"]
    assert three["system"].iloc[0] == "ground-truth"  # reference rows first, as in the papers
    for col in ("wer-test", "wer-test_ci_low", "wer-test_ci_high", "wer-test_group", "sim-test", "tflops",
                "tflops_group", "rtf", "n_expected", "n_scored", "n_dropped"):
        assert col in three.columns
    beta = three.set_index("system").loc["beta"]
    assert (beta["n_expected"], beta["n_scored"], beta["n_dropped"]) == (10, 8, 2)
    assert beta["tflops"] == pytest.approx(1.0)  # 1e12 FLOPs -> 1 TFLOPs


def test_markdown_bolds_best_and_underlines_second_per_direction(three):
    md = to_markdown(three)
    rows = _md_rows(md)
    head = _header(md)
    wer, sim, tflops = (next(i for i, h in enumerate(head) if h.startswith(p))
                        for p in ("WER", "SIM", "TFLOPs"))
    assert rows["alpha"][wer].startswith("**2.00** [1.75, 2.25]")  # lower is better; CI shown
    assert rows["beta"][wer].startswith("<u>3.00</u>")
    assert "**" not in rows["gamma"][wer] and "<u>" not in rows["gamma"][wer]
    assert rows["beta"][sim].startswith("**0.70**")  # higher is better
    assert rows["alpha"][sim].startswith("<u>0.60</u>")
    assert "**" not in rows["ground-truth"][wer] + rows["ground-truth"][sim]  # references are not ranked
    assert rows["beta"][tflops].startswith("**1.00**") and rows["alpha"][tflops].startswith("<u>3.00</u>")
    assert rows["gamma"][tflops] == "–"
    assert rows["beta"][3] == "10 / 8 / 2"  # n expected / scored / dropped
    assert "↓" in head[wer] and "↑" in head[sim]
    assert "fp f00dfeed0001" in head[wer] and "`wer-test`" in head[wer]  # the recipe fingerprint
    assert "†" in head[sim] and "offline stand-in" in md  # the SIM fixture recipe is not comparable


def test_latex_uses_textbf_underline_and_escapes(three):
    tex = to_latex(three)
    assert r"\textbf{2.00} [1.75, 2.25]" in tex and r"\underline{3.00}" in tex
    assert r"\textbf{0.70}" in tex and r"\underline{0.60}" in tex
    assert r"WER (\%) $\downarrow$" in tex and r"\texttt{wer-test}" in tex
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and r"\end{table}" in tex
    gt = next(line for line in tex.splitlines() if "ground-truth" in line)
    assert r"\textbf" not in gt and r"\underline" not in gt  # reference rows are not ranked


def test_html_escapes_every_text(make_run, tmp_path):
    make_run("<script>alert(1)</script>", wer=2.0, sim=0.6)
    make_run("a&b", wer=3.0, sim=0.5)
    df = build_table([tmp_path / "runs"])
    page = to_html(df)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a&amp;b" in page
    assert "<b>2.00</b>" in page and "<u>3.00</u>" in page  # our markup survives, theirs does not
    md, tex = to_markdown(df), to_latex(df)
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "<script>" not in tex and r"\textless{}script\textgreater{}" in tex


def test_csv_round_trip(three):
    back = pd.read_csv(io.StringIO(to_csv(three)))
    assert list(back.columns) == list(three.columns)
    for col in ("wer-test", "wer-test_ci_low", "wer-test_ci_high", "sim-test", "tflops", "rtf"):
        pd.testing.assert_series_equal(back[col], three[col].astype(float), check_names=False,
                                       check_dtype=False)
    for col in ("system", "prompt_set", "wer-test_group", "sim-test_group", "run_id"):
        assert back[col].tolist() == three[col].tolist()
    assert back["n_dropped"].tolist() == three["n_dropped"].tolist()


def test_two_fingerprints_in_one_column_get_markers_and_footnotes(make_run, tmp_path):
    make_run("alpha", wer=2.0, sim=0.6)
    make_run("beta", wer=3.0, sim=0.5, wer_fp="beefbeef0002")
    df = build_table([tmp_path / "runs"])
    md = to_markdown(df)
    head = _header(md)
    wer = next(i for i, h in enumerate(head) if h.startswith("WER"))
    assert "fp mixed" in head[wer]
    rows = _md_rows(md)
    marks = {s: re.search(r"<sup>(\w+)</sup>$", rows[s][wer]).group(1) for s in ("alpha", "beta")}
    assert marks["alpha"] != marks["beta"]
    note = "WER (%): ttsbench recipe wer-test (key wer_macro), fingerprint"
    assert f"<sup>{marks['alpha']}</sup> {note} f00dfeed0001" in md
    assert f"<sup>{marks['beta']}</sup> {note} beefbeef0002" in md
    assert "not ranked in tiny-en" in md  # two recipes are never ranked against each other
    assert "**" not in rows["alpha"][wer] + rows["beta"][wer]


def test_prompt_sets_are_ranked_separately(make_run, tmp_path):
    make_run("alpha", wer=2.0, sim=0.6, prompt_set="set-a")
    make_run("beta", wer=3.0, sim=0.5, prompt_set="set-a")
    make_run("alpha", wer=9.0, sim=0.6, prompt_set="set-b")
    make_run("beta", wer=8.0, sim=0.5, prompt_set="set-b")
    md = to_markdown(build_table([tmp_path / "runs"]))
    assert "**2.00**" in md and "**8.00**" in md and "<u>3.00</u>" in md and "<u>9.00</u>" in md


def test_paper_rows_are_quoted_and_reproduce_the_papers_ranks():
    df = build_table(paper_rows("ditar-table1"))
    assert set(df["source"]) == {"quoted"} and len(df) == 14
    md = to_markdown(df)
    # subsets A and B used different ASR models: two groups in one column, so every cell has a marker
    rows = {(r[0], r[1]): [re.sub(r"<sup>\w+</sup>$", "", c) for c in r] for r in _md_rows_all(md)}
    a, b = "LibriSpeech test-clean A (DiTAR Table 1)", "LibriSpeech test-clean B (DiTAR Table 1)"
    # the underlines visible in the paper's text: NS3 WER, DiTAR SIM and UTMOS (A); DiTAR SIM (B)
    assert rows[(a, "NaturalSpeech 3 ◆")][4] == "<u>1.81</u>"
    assert rows[(a, "DiTAR (NFE=10)")][4] == "**1.78**" and rows[(a, "DiTAR (NFE=10)")][5] == "<u>0.64</u>"
    assert rows[(a, "DiTAR (NFE=10)")][6] == "<u>4.15</u>"
    assert rows[(b, "DiTAR (NFE=10)")][5] == "<u>0.67</u>" and rows[(b, "MaskGCT (NFE=50)")][5] == "**0.69**"
    assert rows[(a, "Human")][4] == "0.34"  # Human / Vocoder bound rows: not ranked
    assert rows[(b, "DiTAR (NFE=10)")][7] == "~ **2.75**"
    assert "quoted from DiTAR (Jia et al., 2025, arXiv:2502.03930v1) Table 1, subset A" in md
    assert "◆ scores reported in NaturalSpeech 3" in md and "unverified" in md


def _md_rows_all(md: str) -> list[list[str]]:
    lines = [line for line in md.splitlines() if line.startswith("|")][2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def test_paper_rows_sit_under_the_matching_measured_column_with_a_footnote(make_run, tmp_path):
    make_run("alpha", wer=2.0, sim=0.6)
    df = build_table([tmp_path / "runs", *paper_rows("ditar-table1-b")])
    assert "WER" not in df.columns  # the quoted WER (%) joined the measured WER (%) column
    assert df.loc[df["system"] == "DiTAR (NFE=10)", "wer-test"].item() == pytest.approx(2.39)
    assert df["UTMOS"].notna().sum() == 6  # no measured UTMOS: its own quoted column
    md = to_markdown(df)
    assert "WER (%): quoted from DiTAR" in md and "not measured by ttsbench" in md


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
def test_latex_compiles(make_run, tmp_path):
    make_run("tone_{x}&#%$~^\\", wer=2.0, sim=0.6, flops=1e12, ci=0.2)
    make_run("<b>", wer=3.0, sim=0.5, wer_fp="beefbeef0002")
    tex = to_latex(build_table([tmp_path / "runs", *paper_rows("ditar-table1")]), caption="50% & more_")
    doc = tmp_path / "t.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs,amssymb}\n"
                   "\\begin{document}\n" + tex + "\\end{document}\n", encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]
