"""WavLM from the checkpoint layout users have (s3prl / UniSpeech `wavlm_large.pt`), run by transformers.

The s3prl checkpoint is `{"cfg": {...WavLMConfig fields...}, "model": state_dict}` in the original
UniSpeech module layout. transformers' `WavLMModel` implements the same network (gated relative
position bias, convolutional position embedding, pre- or post-LN encoder), so we build it from the
checkpoint's own cfg and translate the keys one by one (`original_to_hf`), with every key and shape
checked. The hidden states it returns with `output_hidden_states=True` (the encoder input of every
layer, then the encoder output after its final LayerNorm) are what s3prl's hooks collect as
"hidden_states", which the ECAPA head weights.

s3prl's expert also layer-normalizes each waveform first when `cfg.normalize` is set (WavLM-large),
which `SpeakerVerifier` does.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from ttsbench.errors import MissingModelError

# original key (regex) -> transformers key template
_RULES: tuple[tuple[str, str], ...] = (
    (r"feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)", r"feature_extractor.conv_layers.\1.conv.\2"),
    (r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)", r"feature_extractor.conv_layers.\1.layer_norm.\2"),
    (r"feature_extractor\.conv_layers\.0\.2\.(weight|bias)", r"feature_extractor.conv_layers.0.layer_norm.\1"),
    (r"layer_norm\.(weight|bias)", r"feature_projection.layer_norm.\1"),
    (r"post_extract_proj\.(weight|bias)", r"feature_projection.projection.\1"),
    (r"mask_emb", r"masked_spec_embed"),
    (r"encoder\.pos_conv\.0\.bias", r"encoder.pos_conv_embed.conv.bias"),
    (r"encoder\.pos_conv\.0\.weight_g", r"encoder.pos_conv_embed.conv.{weight_g}"),
    (r"encoder\.pos_conv\.0\.weight_v", r"encoder.pos_conv_embed.conv.{weight_v}"),
    (r"encoder\.layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),
    (r"encoder\.layers\.(\d+)\.self_attn\.(q|k|v|out)_proj\.(weight|bias)", r"encoder.layers.\1.attention.\2_proj.\3"),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_linear\.(weight|bias)",
     r"encoder.layers.\1.attention.gru_rel_pos_linear.\2"),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_a", r"encoder.layers.\1.attention.gru_rel_pos_const"),
    (r"encoder\.layers\.(\d+)\.self_attn\.relative_attention_bias\.weight",
     r"encoder.layers.\1.attention.rel_attn_embed.weight"),
    (r"encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)", r"encoder.layers.\1.layer_norm.\2"),
    (r"encoder\.layers\.(\d+)\.fc1\.(weight|bias)", r"encoder.layers.\1.feed_forward.intermediate_dense.\2"),
    (r"encoder\.layers\.(\d+)\.fc2\.(weight|bias)", r"encoder.layers.\1.feed_forward.output_dense.\2"),
    (r"encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)", r"encoder.layers.\1.final_layer_norm.\2"),
)
_COMPILED = tuple((re.compile(f"^{pattern}$"), template) for pattern, template in _RULES)

#: WavLM-large's cfg as released (s3prl converted_ckpts/wavlm_large.pt), for reference and checks.
WAVLM_LARGE = {"extractor_mode": "layer_norm", "encoder_layers": 24, "encoder_embed_dim": 1024,
               "encoder_ffn_embed_dim": 4096, "encoder_attention_heads": 16, "layer_norm_first": True,
               "conv_bias": False, "normalize": True, "conv_pos": 128, "conv_pos_groups": 16,
               "relative_position_embedding": True, "num_buckets": 320, "max_distance": 800,
               "gru_rel_pos": True}

WAVLM_DEFAULTS: dict[str, Any] = {  # UniSpeech WavLMConfig defaults, used where a cfg leaves a field out
    "extractor_mode": "default", "encoder_layers": 12, "encoder_embed_dim": 768, "encoder_ffn_embed_dim": 3072,
    "encoder_attention_heads": 12, "activation_fn": "gelu", "layer_norm_first": False,
    "conv_feature_layers": "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2", "conv_bias": False,
    "normalize": False, "conv_pos": 128, "conv_pos_groups": 16, "relative_position_embedding": False,
    "num_buckets": 320, "max_distance": 1280, "gru_rel_pos": False,
}


def conv_layers(spec: str) -> list[tuple[int, int, int]]:
    """Parse a fairseq conv spec like "[(512,10,5)] + [(512,3,2)] * 4" without eval (lists, + and *)."""
    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        return ast.literal_eval(node)

    try:
        layers = value(ast.parse(spec, mode="eval").body)
        return [tuple(int(v) for v in layer) for layer in layers]
    except (ValueError, TypeError, SyntaxError):
        raise ValueError(f"cannot parse conv_feature_layers {spec!r}") from None


def hf_config(cfg: Mapping[str, Any], recipe: str) -> Any:
    """A transformers WavLMConfig equivalent to an original WavLM cfg dict (inference: no dropout)."""
    # lazy: an optional backend, imported only when this recipe or system runs
    from transformers import WavLMConfig

    c = {**WAVLM_DEFAULTS, **cfg}
    if not (c["relative_position_embedding"] and c["gru_rel_pos"]) or c["activation_fn"] != "gelu":
        raise MissingModelError(f"{recipe}: unsupported WavLM cfg (needs gated relative position bias and GELU): "
                                f"relative_position_embedding={c['relative_position_embedding']}, "
                                f"gru_rel_pos={c['gru_rel_pos']}, activation_fn={c['activation_fn']}")
    layers = conv_layers(str(c["conv_feature_layers"]))
    return WavLMConfig(
        hidden_size=c["encoder_embed_dim"], num_hidden_layers=c["encoder_layers"],
        num_attention_heads=c["encoder_attention_heads"], intermediate_size=c["encoder_ffn_embed_dim"],
        hidden_act="gelu", conv_dim=[d for d, _, _ in layers], conv_kernel=[k for _, k, _ in layers],
        conv_stride=[s for _, _, s in layers], conv_bias=bool(c["conv_bias"]),
        feat_extract_norm="layer" if c["extractor_mode"] == "layer_norm" else "group",
        do_stable_layer_norm=bool(c["layer_norm_first"]), num_conv_pos_embeddings=c["conv_pos"],
        num_conv_pos_embedding_groups=c["conv_pos_groups"], num_buckets=c["num_buckets"],
        max_bucket_distance=c["max_distance"], layer_norm_eps=1e-5, hidden_dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, feat_proj_dropout=0.0, final_dropout=0.0, layerdrop=0.0,
        apply_spec_augment=False)


def original_to_hf(key: str, weight_norm_names: tuple[str, str]) -> str | None:
    """The transformers key of an original WavLM key, or None when it has no counterpart."""
    for pattern, template in _COMPILED:
        match = pattern.match(key)
        if match:
            out = match.expand(template)
            return out.replace("{weight_g}", weight_norm_names[0]).replace("{weight_v}", weight_norm_names[1])
    return None


def weight_norm_names(model: Any) -> tuple[str, str]:
    """How this transformers build stores the position conv's weight norm (g, v)."""
    keys = model.state_dict().keys()
    if "encoder.pos_conv_embed.conv.parametrizations.weight.original0" in keys:
        return "parametrizations.weight.original0", "parametrizations.weight.original1"
    return "weight_g", "weight_v"


def translate(state: Mapping[str, Any], model: Any, *, recipe: str, path: Any) -> dict[str, Any]:
    """Original-layout WavLM weights -> transformers keys; an unknown key is one clear error."""
    names = weight_norm_names(model)
    out, unknown = {}, []
    for key, value in state.items():
        new = original_to_hf(key, names)
        if new is None:
            unknown.append(key)
        else:
            out[new] = value
    if unknown:
        shown = ", ".join(sorted(unknown)[:4]) + (f" and {len(unknown) - 4} more" if len(unknown) > 4 else "")
        raise MissingModelError(f"{recipe}: {path}: WavLM key(s) with no counterpart: {shown}")
    return out


def hf_to_original(model: Any) -> dict[str, str]:
    """transformers key -> original key for every tensor of `model` (writes test checkpoints)."""
    names = weight_norm_names(model)
    reverse = {}
    candidates = ["mask_emb", "layer_norm.weight", "layer_norm.bias", "post_extract_proj.weight",
                  "post_extract_proj.bias", "encoder.pos_conv.0.bias", "encoder.pos_conv.0.weight_g",
                  "encoder.pos_conv.0.weight_v", "encoder.layer_norm.weight", "encoder.layer_norm.bias"]
    group_norm = model.config.feat_extract_norm == "group"  # GroupNorm in conv 0 only, at index 2
    if group_norm:
        candidates += ["feature_extractor.conv_layers.0.2.weight", "feature_extractor.conv_layers.0.2.bias"]
    for i in range(len(model.config.conv_dim)):
        candidates += [f"feature_extractor.conv_layers.{i}.0.weight", f"feature_extractor.conv_layers.{i}.0.bias"]
        if not group_norm:
            candidates += [f"feature_extractor.conv_layers.{i}.2.1.weight",
                           f"feature_extractor.conv_layers.{i}.2.1.bias"]
    for i in range(model.config.num_hidden_layers):
        p = f"encoder.layers.{i}."
        candidates += [p + f"self_attn.{n}_proj.{w}" for n in "qkv" for w in ("weight", "bias")]
        candidates += [p + f"self_attn.out_proj.{w}" for w in ("weight", "bias")]
        candidates += [p + "self_attn.grep_linear.weight", p + "self_attn.grep_linear.bias", p + "self_attn.grep_a",
                       p + "self_attn.relative_attention_bias.weight"]
        candidates += [p + f"{m}.{w}" for m in ("self_attn_layer_norm", "fc1", "fc2", "final_layer_norm")
                       for w in ("weight", "bias")]
    own = set(model.state_dict())
    for key in candidates:
        new = original_to_hf(key, names)
        if new in own and new not in reverse:
            reverse[new] = key
    return reverse
