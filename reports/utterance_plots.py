"""Per-utterance plots of one prompt set: WER distribution (ECDF), SIM vs WER, duration ratio.

Pure functions of a long frame (`utterance_frame`: one row per utterance and run line, a column per
per-utterance number of the listening page) that return a matplotlib Figure on the Agg canvas
(no pyplot state, never shown); the caller saves it. Names from runs are drawn as plain text
(`plain_label`): matplotlib would read `$...$` in a legend as mathematics, and can fail on it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ttsbench.reports.plots import plain_label
from ttsbench.reports.utterances import RATIO, ListeningPage

SYSTEM = "system"


def utterance_frame(page: ListeningPage) -> pd.DataFrame:
    """One row per (utterance, run line) with a value column per page column key (NaN when none)."""
    records = []
    labels = [plain_label(t.label) for t in page.tracks]
    for row in page.rows:
        for label, line in zip(labels, row["out"]):
            rec = {"utt_id": row["id"], SYSTEM: label}
            rec.update({c.key: _num(line.get("v", {}).get(c.key)) for c in page.columns})
            records.append(rec)
    return pd.DataFrame(records, columns=["utt_id", SYSTEM, *(c.key for c in page.columns)])


def _num(v: object) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def _figure(width: float = 7.0, height: float = 4.2) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def wer_ecdf(frame: pd.DataFrame, key: str, label: str, title: str) -> Figure:
    """The per-utterance WER distribution of each run line, as an ECDF (share of utterances at or below x)."""
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import seaborn as sns

    data = frame[frame[key].notna()]
    fig, ax = _figure()
    sns.ecdfplot(data=data, x=key, hue=SYSTEM, ax=ax)
    ax.set_xlabel(f"{plain_label(label, 60)} per utterance (lower is better)")
    ax.set_ylabel("share of utterances at or below")
    ax.set_title(plain_label(title, 90), fontsize=9)
    ax.grid(True, alpha=0.3)
    return fig


def sim_vs_wer(frame: pd.DataFrame, wer_key: str, wer_label: str, sim_key: str, sim_label: str,
               title: str) -> Figure:
    """Per-utterance SIM against WER, one colour per run line."""
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import seaborn as sns

    data = frame[frame[wer_key].notna() & frame[sim_key].notna()]
    fig, ax = _figure()
    sns.scatterplot(data=data, x=wer_key, y=sim_key, hue=SYSTEM, style=SYSTEM, s=30, alpha=0.8, ax=ax)
    ax.set_xlabel(f"{plain_label(wer_label, 60)} per utterance (lower is better)")
    ax.set_ylabel(f"{plain_label(sim_label, 60)} per utterance (higher is better)")
    ax.set_title(plain_label(title, 90), fontsize=9)
    ax.grid(True, alpha=0.3)
    return fig


def duration_ratio(frame: pd.DataFrame, title: str) -> Figure:
    """Generated / ground-truth duration per utterance, a box and the points per run line."""
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import seaborn as sns

    data = frame[frame[RATIO].notna() & (frame[RATIO] > 0)]
    fig, ax = _figure(7.0, 0.6 + 0.45 * max(2, data[SYSTEM].nunique()))
    sns.boxplot(data=data, x=RATIO, y=SYSTEM, color="0.9", showfliers=False, ax=ax)
    sns.stripplot(data=data, x=RATIO, y=SYSTEM, hue=SYSTEM, legend=False, size=3, alpha=0.7, ax=ax)
    ax.axvline(1.0, color="0.3", linewidth=1, linestyle="--")
    ax.set_xlabel("generated / ground-truth duration per utterance (1 = same length)")
    ax.set_ylabel("")
    ax.set_title(plain_label(title, 90), fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def has_values(frame: pd.DataFrame, *keys: str) -> bool:
    """Whether some row has a finite value in every one of `keys`."""
    if not all(k in frame for k in keys):
        return False
    mask = np.ones(len(frame), dtype=bool)
    for k in keys:
        mask &= frame[k].notna().to_numpy()
    return bool(mask.any())
