"""The quality-vs-cost plot: a Figure from a table frame, saved as a PNG, nothing shown."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure
from ttsbench.errors import InputError
from ttsbench.reports.paper import paper_rows
from ttsbench.reports.plots import quality_vs_cost, resolve_column
from ttsbench.reports.tables import build_table


def test_plot_returns_a_figure_and_saves_a_png(make_run, tmp_path):
    backend = matplotlib.get_backend()
    make_run("alpha", wer=2.0, sim=0.6, flops=3e12, ci=0.2)
    make_run("beta", wer=3.0, sim=0.7, flops=1e12)
    df = build_table([tmp_path / "runs", *paper_rows("ditar-table1-b")])
    fig = quality_vs_cost(df, y="wer")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "TFLOPs" in ax.get_xlabel()
    assert "WER (%)" in ax.get_ylabel() and "lower is better" in ax.get_ylabel()
    labels = {t.get_text() for t in ax.texts}
    assert {"alpha", "beta", "DiTAR (NFE=10)"} <= labels
    fig.savefig(tmp_path / "q.png")
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == backend  # no global backend switch, no pyplot state


def test_columns_resolve_by_key_or_label_word(make_run, tmp_path):
    make_run("alpha", rtf=0.2)
    df = build_table([tmp_path / "runs"])
    assert resolve_column(df, "sim") == "sim-test" and resolve_column(df, "wer-test") == "wer-test"
    fig = quality_vs_cost(df, y="sim")  # no FLOPs in these runs: RTF is the cost axis
    assert "RTF" in fig.axes[0].get_xlabel()
    with pytest.raises(InputError, match="no table column 'utmos'"):
        quality_vs_cost(df, y="utmos")
