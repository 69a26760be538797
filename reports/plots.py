"""Quality vs cost: one point per table row, a pure function of a `build_table` frame.

The figure is built on matplotlib's object API with the Agg canvas (no pyplot state, no window,
never `plt.show()`); the caller saves it (`fig.savefig(path)`).
"""

from __future__ import annotations

import re

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ttsbench.errors import InputError
from ttsbench.reports.dialects import one_line
from ttsbench.reports.records import RTF, TFLOPS
from ttsbench.reports.tables import column_keys

AXIS_UNITS = {TFLOPS: "TFLOPs (10^12 FLOPs per utterance, scope in the table notes; log scale)",
              RTF: "RTF (wall s / audio s, device in the table notes; log scale)"}


def plain_label(text: str, limit: int = 40) -> str:
    """A name as matplotlib draws it literally: one line, `$` escaped (a name from a run is never
    read as mathtext, which can fail to draw), shortened to `limit` characters."""
    out = one_line(str(text)).replace("$", r"\$")
    return out if len(out) <= limit else out[: limit - 1] + "…"


def resolve_column(df: pd.DataFrame, name: str) -> str:
    """A value column by key ("wer-seedtts-en", "tflops") or by its label's leading word ("wer")."""
    keys = column_keys(df)
    if name in keys:
        return name
    meta = df.attrs.get("columns", {})
    hits = [k for k in keys if re.match(r"[A-Za-z]+", meta.get(k, {}).get("label", k) or "")
            and re.match(r"[A-Za-z]+", meta.get(k, {}).get("label", k)).group(0).lower() == name.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise InputError(f"no table column {name!r}; columns: {', '.join(keys) or 'none'}")
    raise InputError(f"{name!r} matches several columns ({', '.join(hits)}); name one")


def _label(df: pd.DataFrame, key: str) -> str:
    meta = df.attrs.get("columns", {}).get(key, {})
    label = meta.get("label", key)
    hib = meta.get("higher_is_better")
    direction = {True: "higher is better", False: "lower is better"}.get(hib, "")
    groups = [g for g, info in meta.get("groups", {}).items() if not info.get("quoted")]
    fp = f"{key}, fp {groups[0]}" if len(groups) == 1 else (f"{key}, mixed recipes" if groups else "quoted")
    return f"{label} ({direction}; {fp})" if direction else f"{label} ({fp})"


def quality_vs_cost(df: pd.DataFrame, *, y: str = "wer", x: str | None = None) -> Figure:
    """Scatter of a quality column against a cost column, with 95 % CI bars where stored.

    Args:
        df: a `build_table` frame.
        y: quality column: a metric name or a label word ("wer", "sim", "utmos").
        x: cost column, "tflops" or "rtf"; default TFLOPs when any row has them, else RTF.

    Returns:
        A matplotlib Figure (Agg canvas attached); nothing is shown or saved.
    """
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import seaborn as sns

    if x is None:
        x = TFLOPS if TFLOPS in column_keys(df) and df[TFLOPS].notna().any() else RTF
    xk, yk = resolve_column(df, x), resolve_column(df, y)
    data = df[df[xk].notna() & df[yk].notna()].copy()
    if data.empty:
        raise InputError(f"no table row has both {xk} and {yk}: nothing to plot")
    data[xk], data[yk] = data[xk].astype(float), data[yk].astype(float)
    data["source"] = data["source"].astype(str)
    data["prompt_set"] = data["prompt_set"].map(plain_label)
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    sns.scatterplot(data=data, x=xk, y=yk, hue="prompt_set", style="source", s=60, ax=ax)
    lo, hi = f"{yk}_ci_low", f"{yk}_ci_high"
    if lo in data and data[lo].notna().any():
        ci = data[data[lo].notna() & data[hi].notna()]
        ax.errorbar(ci[xk], ci[yk], yerr=[ci[yk] - ci[lo].astype(float), ci[hi].astype(float) - ci[yk]],
                    fmt="none", ecolor="0.4", elinewidth=1, capsize=3)
    for _, row in data.iterrows():
        ax.annotate(plain_label(row["system"]), (row[xk], row[yk]), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    if (data[xk] > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel(plain_label(AXIS_UNITS.get(xk, _label(df, xk)), 120))
    head, sep, tail = plain_label(_label(df, yk), 120).rpartition(" (")
    ax.set_ylabel(f"{head}\n({tail}" if sep else tail)  # two lines: the axis is shorter than the label
    ax.set_title("Quality vs cost (quoted rows: copied from papers, not measured)", fontsize=9)
    ax.grid(True, alpha=0.3)
    return fig
