"""GROW checkpoint -> our weights: `ttsbench convert grow CKPT_OR_DIR --out DIR`.

Input: GROW's `model_*.pt` (or the folder holding one, with its `config.yaml`), read with
`torch.load(weights_only=True)`. The pretrained checkpoint keeps EMA weights in
`ema_model_state_dict` (keys prefixed `ema_model.`, plus `initted` / `step`); the RL checkpoints
keep the policy in `model_state_dict`. Every key is either mapped below or on `DROP` (unused at
inference); anything else fails in one line, so a checkpoint of another layout never loads halfway.

Mappings (GROW name -> ours):
- `causalAR.model.*` -> `embed`, `lm.*`; q/k/v projections stacked into `attn.qkv` by rows.
- `aggregation_encoder.model.*` -> `encoder.stack.*`; `summary_token` -> `encoder.cls`;
  `aggregation_inp_linear` -> `encoder.inp`.
- `ctx_to_locdit`, `hist_to_locdit`, `noisy_to_locdit`, `time_embedding.time_mlp` -> `locdit.*`.
- LocDiT `to_q/k/v` -> `attn.qkv`, with q and k rows of each head permuted from x-transformers'
  interleaved RoPE pairs (2i, 2i+1) to the rotate-half pairs (i, i + Dh/2) (q.k is unchanged);
  `attn_norm.linear` -> `ada`; `ff.ff.0.0` / `ff.ff.2` -> `fc1` / `fc2`; `norm_out.linear`
  (rows: scale, shift) -> `final.ada` (rows: shift, scale); `proj_out` -> `final.proj`.
- `eos_head` (two classes, P(stop) = softmax[1]) -> `stop_head`, unchanged.

Output folder: `config.json` (format, GrowConfig fields, source file, its sha256 and kind) and
`model.safetensors` (fp32).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from ttsbench.errors import InputError
from ttsbench.paths import file_sha256, temp_path
from ttsbench.systems.grow.config import FORMAT, FORMAT_VERSION, GrowConfig

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
DROP = (  # GROW keys with no part in inference
    re.compile(r"generator\..*"),  # the Semantic-VAE, loaded separately from its own release
    re.compile(r"vae_projector\..*"),  # legacy MLP, unused in GROW's forward
    re.compile(r"LocDiT\.conv_pos_embed\..*"),  # built by F5's DiT but never called in its forward
    re.compile(r".*rotary_(emb|embed)\.inv_freq"),  # RoPE tables, recomputed from theta
    re.compile(r"(initted|step)"),  # EMA bookkeeping
)
QWEN = r"(?P<part>causalAR\.model|aggregation_encoder\.model)\.layers\.(?P<i>\d+)\."
OURS_PART = {"causalAR.model": "lm", "aggregation_encoder.model": "encoder.stack"}


def read_grow_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], str, Path]:
    """(state dict without prefixes, kind "pretrain-ema" | "model", the .pt file read)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("model_*.pt"))
        if not found:
            raise InputError(f"{path}: no GROW checkpoint (model_*.pt) in this folder")
        path = found[-1]
    if not path.is_file():
        raise InputError(f"{path}: no such GROW checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, pickle with code, not a torch file: one line
        raise InputError(f"{path}: not a readable GROW checkpoint ({type(err).__name__}: "
                         f"{str(err).splitlines()[0][:160] if str(err) else 'no detail'})") from None
    if isinstance(ckpt, dict) and "ema_model_state_dict" in ckpt:
        raw, kind = ckpt["ema_model_state_dict"], "pretrain-ema"
        state = {k.removeprefix("ema_model."): v for k, v in raw.items()}
    elif isinstance(ckpt, dict) and "model_state_dict" in ckpt:
        state, kind = dict(ckpt["model_state_dict"]), "model"
    else:
        raise InputError(f"{path}: neither ema_model_state_dict nor model_state_dict inside (not a GROW checkpoint)")
    if any(k.startswith("policy.") for k in state):  # an RL wrapper's state: keep the policy
        state = {k.removeprefix("policy."): v for k, v in state.items() if k.startswith("policy.")}
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}, kind, path


def interleaved_to_half(w: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    """Rows of a (heads*Dh, ...) projection: within each head, pairs (2i, 2i+1) -> (i, i + Dh/2)."""
    order = torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])
    shaped = w.reshape(heads, head_dim, *w.shape[1:])
    return shaped[:, order].reshape(w.shape)


def infer_config(state: dict[str, torch.Tensor], yaml_cfg: dict[str, Any], **overrides: Any) -> GrowConfig:
    """Sizes from tensor shapes; LocDiT heads and rope thetas from GROW's config.yaml / overrides."""
    def count(prefix: str) -> int:
        pat = re.compile(re.escape(prefix) + r"\.(\d+)\.")
        return 1 + max((int(m.group(1)) for k in state if (m := pat.match(k))), default=-1)

    def need(key: str) -> torch.Tensor:
        if key not in state:
            raise InputError(f"GROW checkpoint: missing {key}")
        return state[key]

    lm0, enc0 = "causalAR.model.layers.0.", "aggregation_encoder.model.layers.0."
    lm_hd, enc_hd = need(lm0 + "self_attn.q_norm.weight").shape[0], need(enc0 + "self_attn.q_norm.weight").shape[0]
    emb = need("causalAR.model.embed_tokens.weight")
    dit = (yaml_cfg.get("model", {}).get("loc_decoder", {}) or {}).get("model", {}) or {}
    dit_heads = int(overrides.pop("dit_heads", None) or dit.get("heads", 16))
    inner = need("LocDiT.transformer_blocks.0.attn.to_q.weight").shape[0]
    values: dict[str, Any] = dict(
        vocab_size=emb.shape[0], dim=emb.shape[1], lm_layers=count("causalAR.model.layers"),
        lm_heads=need(lm0 + "self_attn.q_proj.weight").shape[0] // lm_hd,
        lm_kv_heads=need(lm0 + "self_attn.k_proj.weight").shape[0] // lm_hd, lm_head_dim=lm_hd,
        lm_ffn=need(lm0 + "mlp.gate_proj.weight").shape[0], enc_layers=count("aggregation_encoder.model.layers"),
        enc_heads=need(enc0 + "self_attn.q_proj.weight").shape[0] // enc_hd,
        enc_kv_heads=need(enc0 + "self_attn.k_proj.weight").shape[0] // enc_hd, enc_head_dim=enc_hd,
        enc_ffn=need(enc0 + "mlp.gate_proj.weight").shape[0], dit_layers=count("LocDiT.transformer_blocks"),
        dit_heads=dit_heads, dit_head_dim=inner // dit_heads,
        dit_ff_mult=need("LocDiT.transformer_blocks.0.ff.ff.0.0.weight").shape[0] // emb.shape[1],
        time_freq_dim=need("time_embedding.time_mlp.0.weight").shape[1],
        latent_dim=need("hist_to_locdit.weight").shape[1],
        history_frames=int((yaml_cfg.get("model", {}).get("loc_decoder", {}) or {}).get("history_vae_window_size", 4)),
        patch_size=int((yaml_cfg.get("model", {}).get("aggregation_encoder", {}) or {}).get("patch_size", 4)))
    known = {f.name for f in fields(GrowConfig)}
    bad = sorted(set(overrides) - known)
    if bad:
        raise InputError(f"convert grow: unknown config field(s) {bad}")
    try:
        return GrowConfig(**{**values, **overrides})
    except ValueError as err:
        raise InputError(str(err)) from None


def map_state(state: dict[str, torch.Tensor], cfg: GrowConfig) -> dict[str, torch.Tensor]:
    """GROW's state dict -> ours; one line naming the first key that is neither mapped nor dropped."""
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> torch.Tensor:
        used.add(key)
        return state[key].float()

    simple = {"causalAR.model.embed_tokens.weight": "embed.weight", "causalAR.model.norm.weight": "lm.norm.weight",
              "aggregation_encoder.model.norm.weight": "encoder.stack.norm.weight",
              "aggregation_encoder.summary_token": "encoder.cls", "eos_head.weight": "stop_head.weight",
              "eos_head.bias": "stop_head.bias"}
    for src, dst in simple.items():
        if src in state:
            out[dst] = take(src)
    for p in ("weight", "bias"):
        for src, dst in (("aggregation_inp_linear", "encoder.inp"), ("ctx_to_locdit", "locdit.ctx_in"),
                         ("hist_to_locdit", "locdit.hist_in"), ("noisy_to_locdit", "locdit.noisy_in"),
                         ("time_embedding.time_mlp.0", "locdit.time.mlp.0"),
                         ("time_embedding.time_mlp.2", "locdit.time.mlp.2"),
                         ("LocDiT.proj_out", "locdit.final.proj")):
            out[f"{dst}.{p}"] = take(f"{src}.{p}") if f"{src}.{p}" in state else _missing(f"{src}.{p}")
        w = take(f"LocDiT.norm_out.linear.{p}")
        scale, shift = w.chunk(2, dim=0)
        out[f"locdit.final.ada.{p}"] = torch.cat([shift, scale], dim=0)
    for key in list(state):
        if (m := re.match(QWEN, key)) is not None:
            _map_qwen_layer(state, key, m, out, take)
        elif (m := re.match(r"LocDiT\.transformer_blocks\.(\d+)\.", key)) is not None:
            _map_dit_block(state, int(m.group(1)), cfg, out, take)
    for key in state:
        if key not in used and not any(d.fullmatch(key) for d in DROP):
            raise InputError(f"GROW checkpoint: key {key!r} is neither mapped nor on the drop list "
                             f"(not GROW's DiTAR layout?)")
    return out


def _missing(key: str) -> torch.Tensor:
    raise InputError(f"GROW checkpoint: missing {key}")


def _map_qwen_layer(state: dict[str, torch.Tensor], key: str, m: re.Match[str], out: dict[str, torch.Tensor],
                    take: Callable[[str], torch.Tensor]) -> None:
    src = f"{m.group('part')}.layers.{m.group('i')}."
    dst = f"{OURS_PART[m.group('part')]}.layers.{m.group('i')}."
    if dst + "attn.qkv.weight" in out:
        return
    out[dst + "attn.qkv.weight"] = torch.cat([take(src + f"self_attn.{x}_proj.weight") for x in "qkv"])
    for a, b in (("self_attn.q_norm", "attn.q_norm"), ("self_attn.k_norm", "attn.k_norm"),
                 ("self_attn.o_proj", "attn.out"), ("mlp.gate_proj", "ffn.gate"), ("mlp.up_proj", "ffn.up"),
                 ("mlp.down_proj", "ffn.down"), ("input_layernorm", "norm1"), ("post_attention_layernorm", "norm2")):
        out[dst + b + ".weight"] = take(src + a + ".weight")


def _map_dit_block(state: dict[str, torch.Tensor], i: int, cfg: GrowConfig, out: dict[str, torch.Tensor],
                   take: Callable[[str], torch.Tensor]) -> None:
    src, dst = f"LocDiT.transformer_blocks.{i}.", f"locdit.blocks.{i}."
    if dst + "attn.qkv.weight" in out:
        return
    for p in ("weight", "bias"):
        q, k, v = (take(src + f"attn.to_{x}.{p}") for x in "qkv")
        q, k = (interleaved_to_half(w, cfg.dit_heads, cfg.dit_head_dim) for w in (q, k))
        out[dst + f"attn.qkv.{p}"] = torch.cat([q, k, v])
        for a, b in (("attn.to_out.0", "attn.out"), ("attn_norm.linear", "ada"), ("ff.ff.0.0", "fc1"),
                     ("ff.ff.2", "fc2")):
            out[dst + f"{b}.{p}"] = take(src + f"{a}.{p}")


def convert(src: Path, out_dir: Path, **overrides: Any) -> Path:
    """Convert a GROW checkpoint (file or folder) into `out_dir`; returns `out_dir`."""
    state, kind, ckpt_path = read_grow_checkpoint(Path(src))
    yaml_cfg = _read_yaml(ckpt_path.parent / "config.yaml")
    cfg = infer_config(state, yaml_cfg, **overrides)
    weights = map_state(state, cfg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out_dir / WEIGHTS_FILE)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(tmp))
    tmp.replace(out_dir / WEIGHTS_FILE)
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "model_config": asdict(cfg),
            "source": {"path": str(ckpt_path), "sha256": file_sha256(ckpt_path), "kind": kind}}
    (out_dir / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return out_dir


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    # lazy: PyYAML only for GROW's config.yaml, read at conversion time
    import yaml

    try:
        text = re.sub(r"\$\{[^}]*\}", "0", path.read_text())  # hydra interpolations are not needed here
        data = yaml.safe_load(text)
    except Exception as err:
        raise InputError(f"{path}: unreadable config.yaml ({type(err).__name__})") from None
    return data if isinstance(data, dict) else {}


def load_converted(folder: Path) -> tuple[Any, dict[str, Any]]:
    """A converted folder -> (GrowModel with its weights, the folder's config.json)."""
    # lazy: the model module is only needed once weights are loaded (convert alone needs none of it)
    from ttsbench.systems.base import read_safetensors
    from ttsbench.systems.grow.model import GrowModel

    folder = Path(folder)
    cfg_path = folder / CONFIG_FILE
    if not cfg_path.is_file():
        raise InputError(f"{folder}: no {CONFIG_FILE} (convert GROW's checkpoint first: ttsbench convert grow)")
    meta = json.loads(cfg_path.read_text())
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise InputError(f"{cfg_path}: format {meta.get('format')}/{meta.get('version')}, expected "
                         f"{FORMAT}/{FORMAT_VERSION}")
    known = {f.name for f in fields(GrowConfig)}
    cfg = GrowConfig(**{k: v for k, v in meta["model_config"].items() if k in known})
    model = GrowModel(cfg)
    state = read_safetensors(folder / WEIGHTS_FILE, "GROW weights")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InputError(f"{folder}: weights do not fit GROW's model (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    return model.eval(), meta
