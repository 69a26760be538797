"""`ttsbench params [SIZE ...]`: parameter counts of DiTAR's sizes (paper Table 8) or DiSTAR's
(base ~0.15B, medium ~0.3B), per component.

Models are built on PyTorch's meta device, so even the 1B size costs no memory or time.

    ttsbench params                         # DiTAR: tiny, 0.1b, 0.4b, 0.6b, 1b
    ttsbench params 0.6b --set ffn_act=swiglu --set patch_size=2
    ttsbench params --model distar          # DiSTAR: tiny, base, medium (K = 65,536 codes, J = 9)
    ttsbench params --model distar base --set codebook_size=1024
    ttsbench params --json
"""

from __future__ import annotations

import argparse
import json
from typing import Any

NOMINAL = {"0.1b": "~0.1 B", "0.4b": "~0.4 B", "0.6b": "~0.6 B", "1b": "~1 B", "tiny": "(tests)",
           "base": "~0.15 B", "medium": "~0.3 B"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("params", help="parameter counts of the DiTAR sizes (Table 8), per component",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sizes", nargs="*", help="sizes to count (default: all)")
    p.add_argument("--model", choices=["ditar", "distar"], default="ditar", help="which model's sizes (default ditar)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set ffn_act=swiglu (repeatable)")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    p.set_defaults(func=cmd_params)
    return p


def count_parameters(cfg: Any) -> dict[str, int]:
    """Parameters of each DiTAR component for a DiTARConfig (meta device: no memory used)."""
    import torch

    from ttsbench.systems.ditar.model import DiTAR

    with torch.device("meta"):
        model = DiTAR(cfg)

    def n(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    parts = {"phone_table": n(model.phone_embed), "encoder": n(model.encoder), "lm": n(model.lm),
             "stop_head": n(model.stop_head), "locdit": n(model.locdit)}
    parts["total"] = n(model)  # = the sum of the parts: DiTAR has no other parameters
    return parts


def count_distar_parameters(cfg: Any) -> dict[str, int]:
    """Parameters of each DiSTAR component; `transformers` = aggregator + LM + MDM blocks, the part
    the reported 0.15B / 0.3B can describe (code tables and logit heads grow with K)."""
    import torch

    from ttsbench.systems.distar.model import DiSTAR

    with torch.device("meta"):
        model = DiSTAR(cfg)

    def n(*modules: Any) -> int:
        return sum(p.numel() for m in modules for p in (m.parameters() if hasattr(m, "parameters") else [m]))

    mdm = model.mdm
    parts = {"phone_table": n(model.phone_embed), "code_tables": n(model.agg_embed, mdm.embed),
             "aggregator": n(model.encoder), "lm": n(model.lm), "stop_head": n(model.stop_head),
             "mdm": n(mdm.transformer, mdm.cond_proj, mdm.cond_gate, mdm.hist_proj, mdm.target_proj,
                      *([mdm.layer_embed] if mdm.layer_embed is not None else [])),
             "heads": n(mdm.head)}
    parts["transformers"] = parts["aggregator"] + parts["lm"] + parts["mdm"]
    parts["total"] = n(model)  # = phone_table + code_tables + transformers + stop_head + heads
    return parts


def cmd_params(args: argparse.Namespace) -> int:
    from ttsbench.configio import apply_override, from_dict, to_dict

    if args.model == "distar":
        from ttsbench.systems.distar.config import SIZES, DiSTARConfig as Config
    else:
        from ttsbench.systems.ditar.config import SIZES, DiTARConfig as Config
    count = count_distar_parameters if args.model == "distar" else count_parameters
    sizes = args.sizes or list(SIZES)
    rows = []
    for size in sizes:
        base = Config.from_size(size)
        raw = to_dict(base)
        for item in args.overrides:
            apply_override(raw, item)
        cfg = from_dict(Config, raw, where="--set")
        rows.append({"model": args.model, "size": size.lower(), "paper": NOMINAL.get(size.lower(), ""), **count(cfg)})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if args.model == "distar":
        print_distar(rows)
        return 0
    print("DiTAR parameters (millions; exact integer count in the last column). "
          "lm excludes the phone table and the stop head.")
    print(f"{'size':6s} {'paper':>7s} {'phones':>8s} {'encoder':>8s} {'lm':>8s} {'stop':>6s} {'locdit':>8s} "
          f"{'total':>8s} {'total (count)':>15s}")
    for r in rows:
        m = {k: r[k] / 1e6 for k in ("phone_table", "encoder", "lm", "stop_head", "locdit", "total")}
        print(f"{r['size']:6s} {r['paper']:>7s} {m['phone_table']:8.2f} {m['encoder']:8.2f} {m['lm']:8.2f} "
              f"{m['stop_head']:6.3f} {m['locdit']:8.2f} {m['total']:8.2f} {r['total']:15,d}")
    return 0


def print_distar(rows: list[dict[str, Any]]) -> None:
    print("DiSTAR parameters (millions). transformers = aggregator + LM + MDM blocks (what the paper's sizes "
          "describe); code tables (J x (K + 2) x code_dim, twice) and logit heads (J x K x width) grow with K.")
    keys = ("phone_table", "code_tables", "aggregator", "lm", "mdm", "heads", "transformers", "total")
    print(f"{'size':7s} {'paper':>8s} " + " ".join(f"{k:>12s}" for k in keys) + f" {'total (count)':>15s}")
    for r in rows:
        print(f"{r['size']:7s} {r['paper']:>8s} " + " ".join(f"{r[k] / 1e6:12.2f}" for k in keys)
              + f" {r['total']:15,d}")
