"""`ttsbench params [SIZE ...]`: parameter counts of one of our models, per component and size
(DiTAR: the paper's Table 8 sizes; DiSTAR: base ~0.15B, medium ~0.3B; the NAR baseline).

Models are built on PyTorch's meta device, so even the 1B size costs no memory or time. Each model
counts its own components (`parameters` of its `MODELS` entry, in `systems/<model>/cost.py`).

    ttsbench params                         # DiTAR: tiny, 0.1b, 0.4b, 0.6b, 1b
    ttsbench params 0.6b --set ffn_act=swiglu --set patch_size=2
    ttsbench params --model distar          # DiSTAR: tiny, base, medium (K = 65,536 codes, J = 9)
    ttsbench params --model distar base --set codebook_size=1024
    ttsbench params --format json           # exact integer counts (`ttsbench list models`: the models)
"""

from __future__ import annotations

import argparse
from typing import Any

from ttsbench.cli_options import add_format_option, add_json_alias

FORMATS = ("table", "md", "csv", "json")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("params", help="parameter counts of our models' sizes (DiTAR Table 8, DiSTAR), per component",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sizes", nargs="*", help="sizes to count (default: all)")
    p.add_argument("--model", default="ditar", help="ditar | distar | nar-dit (default ditar; `ttsbench list models`)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set ffn_act=swiglu (repeatable)")
    add_format_option(p, FORMATS, "table")
    add_json_alias(p)
    p.set_defaults(func=cmd_params)
    return p


def count_rows(model_name: str, sizes: list[str], overrides: list[str]) -> list[dict[str, Any]]:
    """One row per size: model, size, the paper's stated size and the model's own per-component counts."""
    # lazy: the registries import every model (torch); `ttsbench --help` must not
    from ttsbench.configio import apply_override, from_dict, to_dict
    from ttsbench.plugins import MODELS

    model = MODELS.get(model_name)
    rows = []
    for size in sizes or list(model.sizes):
        base = model.config(size)
        raw = to_dict(base)
        for item in overrides:
            apply_override(raw, item)
        cfg = from_dict(type(base), raw, where="--set")
        rows.append({"model": model.name, "size": size.lower(), "paper": model.nominal.get(size.lower(), ""),
                     **model.parameters(cfg)})
    return rows


def cmd_params(args: argparse.Namespace) -> int:
    # lazy: the one renderer imports tabulate, the registries torch
    from ttsbench.plugins import MODELS
    from ttsbench.reports.tabular import render_records, render_table

    rows = count_rows(args.model, args.sizes, args.overrides)
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
        return 0
    model = MODELS.get(args.model)
    parts = [k for k in rows[0] if k not in ("model", "size", "paper")]
    header = ["size", "paper", *parts, "total (count)"]
    body = [[r["size"], r["paper"], *(_millions(r[k]) for k in parts), f"{r['total']:,d}"] for r in rows]
    title = [f"{model.label} parameters (millions; exact integer count in the last column)."
             + (f" {model.parameters_note}." if model.parameters_note else "")]
    print(render_table(header, body, args.format, title=title), end="")
    return 0


def _millions(n: int) -> str:
    """Millions with 2 decimals; 4 under 10k parameters (a stop head), so nothing reads as 0.00."""
    return f"{n / 1e6:.2f}" if n >= 10_000 else f"{n / 1e6:.4f}"
