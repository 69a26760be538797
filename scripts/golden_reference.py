"""An independent, functional reimplementation of the upstream scorers, for golden fixtures only.

Written from the upstream sources (not from ttsbench's modules, which it imports nothing from):

  - torchaudio's sinc resampler (`functional.resample`: kernel in the waveform's float32;
    `transforms.Resample`: kernel built in float64, stored float32);
  - s3prl / UniSpeech `WavLM.py` + `modules.py` (the s3prl expert: waveform layer norm when
    cfg.normalize, conv feature extractor, layer norm, projection, weight-normed position conv,
    pre- or post-LN layers with gated relative position bias, the "hidden_states" hooks: every
    layer's input, then the encoder output after its final LayerNorm);
  - UniSpeech `downstreams/speaker_verification/models/ecapa_tdnn.py` (`ECAPA_TDNN`, hidden-state
    features: softmax-weighted sum, + 1e-6, InstanceNorm, SE-Res2 blocks, attentive statistics);
  - SpeechMOS v1.2.0 `utmos22/strong/model.py` + `fairseq_alt.py` (wav2vec 2.0 base post-LN, padded
    to an even frame count with a masked frame, domain and judge embeddings, BLSTM, projection).

Everything is plain tensor arithmetic on a state dict (no nn.Module of ours, the LSTM unrolled by hand),
so that a mistake shared with the production code would have to be made twice, independently.
`scripts/make_goldens.py --independent` writes the goldens from it; `--upstream` from the upstream code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

State = Mapping[str, Tensor]


# -- torchaudio sinc resampling ---------------------------------------------------------------------
def resample(wav: Tensor, orig: int, new: int, kernel_dtype: torch.dtype) -> Tensor:
    """torchaudio's windowed-sinc resampling of (B, T) float32 (Hann window, width 6, rolloff 0.99)."""
    if orig == new:
        return wav
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    base = min(o, n) * 0.99
    width = math.ceil(6 * o / base)
    i = torch.arange(-width, width + o, dtype=kernel_dtype)[None, None] / o
    if kernel_dtype == torch.float64:
        j = torch.arange(0, -n, -1)[:, None, None] / n  # integer / integer: float32, then promoted
    else:
        j = torch.arange(0, -n, -1, dtype=kernel_dtype)[:, None, None] / n
    t = ((j + i) * base).clamp(-6, 6)
    window = torch.cos(t * math.pi / 6 / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t) * window * (base / o)
    kernel = kernel.to(torch.float32)
    length = wav.shape[-1]
    y = F.conv1d(F.pad(wav, (width, width + o))[:, None], kernel, stride=o)
    y = y.transpose(1, 2).reshape(wav.shape[0], -1)
    return y[..., :int(torch.ceil(torch.as_tensor(n * length / o)))]


# -- shared transformer pieces ----------------------------------------------------------------------
def layer_norm(x: Tensor, s: State, p: str, eps: float = 1e-5) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], s[f"{p}.weight"], s[f"{p}.bias"], eps)


def linear(x: Tensor, s: State, p: str) -> Tensor:
    return x @ s[f"{p}.weight"].T + s[f"{p}.bias"]


def weight_normed(v: Tensor, g: Tensor) -> Tensor:
    """fairseq's weight_norm(conv, dim=2): w = g * v / ||v||, the norm over every axis but 2."""
    return g * v / v.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()


def attention(x: Tensor, s: State, p: str, heads: int, bias: Tensor | None = None,
              pad: Tensor | None = None) -> Tensor:
    """Multi-head self-attention of x (B, T, D): scaled dot product, an additive bias (B*H, T, T)."""
    b, t, d = x.shape
    hd = d // heads

    def split(y: Tensor) -> Tensor:
        return y.view(b, t, heads, hd).transpose(1, 2)  # (B, H, T, hd)

    q = split(linear(x, s, f"{p}.q_proj")) * hd ** -0.5
    k, v = split(linear(x, s, f"{p}.k_proj")), split(linear(x, s, f"{p}.v_proj"))
    scores = q @ k.transpose(-1, -2)
    if bias is not None:
        scores = scores + bias.view(b, heads, t, t)
    if pad is not None:
        scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
    return linear(out, s, f"{p}.out_proj")


# -- WavLM (s3prl layout) + ECAPA (UniSpeech layout) -----------------------------------------------
def rel_buckets(t: int, num_buckets: int, max_distance: int) -> Tensor:
    rel = torch.arange(t)[None, :] - torch.arange(t)[:, None]
    half = num_buckets // 2
    buckets = (rel > 0).long() * half
    rel = rel.abs()
    exact = half // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (half - exact)).long()
    large = torch.minimum(large, torch.full_like(large, half - 1))
    return buckets + torch.where(rel < exact, rel, large)


def conv_spec(text: str) -> list[tuple[int, int, int]]:
    """'[(512,10,5)] + [(512,3,2)] * 4' -> the list of (dim, kernel, stride) it spells."""
    out: list[tuple[int, int, int]] = []
    for term in text.split("+"):
        layer, _, times = term.partition("*")
        dims = tuple(int(v) for v in re.findall(r"\d+", layer))
        out += [dims] * (int(times) if times.strip() else 1)  # type: ignore[list-item]
    return out


def wavlm_hidden_states(wav: Tensor, cfg: Mapping[str, Any], s: State) -> list[Tensor]:
    """s3prl's "hidden_states" of WavLM for (1, T) at 16 kHz: each layer's input, then the final output."""
    if cfg.get("normalize", False):
        wav = F.layer_norm(wav, wav.shape)
    x = wav[:, None]
    spec = conv_spec(cfg.get("conv_feature_layers", "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2"))
    for i, (_, _, stride) in enumerate(spec):
        p = f"feature_extractor.conv_layers.{i}"
        x = F.conv1d(x, s[f"{p}.0.weight"], s.get(f"{p}.0.bias"), stride=stride)
        if cfg.get("extractor_mode", "default") == "layer_norm":
            x = layer_norm(x.transpose(1, 2), s, f"{p}.2.1").transpose(1, 2)
        elif i == 0:
            x = F.group_norm(x, x.shape[1], s[f"{p}.2.weight"], s[f"{p}.2.bias"])
        x = F.gelu(x)
    x = layer_norm(x.transpose(1, 2), s, "layer_norm")
    x = linear(x, s, "post_extract_proj")
    kernel = cfg.get("conv_pos", 128)
    w = weight_normed(s["encoder.pos_conv.0.weight_v"], s["encoder.pos_conv.0.weight_g"])
    conv = F.conv1d(x.transpose(1, 2), w, s["encoder.pos_conv.0.bias"], padding=kernel // 2,
                    groups=cfg.get("conv_pos_groups", 16))
    if kernel % 2 == 0:
        conv = conv[:, :, :-1]
    x = x + F.gelu(conv).transpose(1, 2)
    pre_ln = cfg.get("layer_norm_first", False)
    if not pre_ln:
        x = layer_norm(x, s, "encoder.layer_norm")
    heads = cfg["encoder_attention_heads"]
    t = x.shape[1]
    buckets = rel_buckets(t, cfg.get("num_buckets", 320), cfg.get("max_distance", 1280))
    bias = s["encoder.layers.0.self_attn.relative_attention_bias.weight"][buckets].permute(2, 0, 1)  # (H, T, T)
    states = []
    for i in range(cfg["encoder_layers"]):
        p = f"encoder.layers.{i}"
        states.append(x)
        h = layer_norm(x, s, f"{p}.self_attn_layer_norm") if pre_ln else x
        gates = torch.sigmoid(linear(h.view(1, t, heads, -1).transpose(1, 2), s, f"{p}.self_attn.grep_linear")
                              .view(1, heads, t, 2, 4).sum(-1))
        gate_a, gate_b = gates[..., 0:1], gates[..., 1:2]
        gate = gate_a * (gate_b * s[f"{p}.self_attn.grep_a"] - 1.0) + 2.0  # (1, H, T, 1)
        a = attention(h, s, f"{p}.self_attn", heads, (gate.view(heads, t, 1) * bias))
        if pre_ln:
            x = x + a
            x = x + linear(F.gelu(linear(layer_norm(x, s, f"{p}.final_layer_norm"), s, f"{p}.fc1")), s, f"{p}.fc2")
        else:
            x = layer_norm(x + a, s, f"{p}.self_attn_layer_norm")
            x = layer_norm(x + linear(F.gelu(linear(x, s, f"{p}.fc1")), s, f"{p}.fc2"), s, f"{p}.final_layer_norm")
    if pre_ln:
        x = layer_norm(x, s, "encoder.layer_norm")
    return [*states, x]


def batch_norm(x: Tensor, s: State, p: str) -> Tensor:
    return F.batch_norm(x, s[f"{p}.running_mean"], s[f"{p}.running_var"], s[f"{p}.weight"], s[f"{p}.bias"],
                        training=False, eps=1e-5)


def conv_relu_bn(x: Tensor, s: State, p: str, padding: int = 0, dilation: int = 1) -> Tensor:
    return batch_norm(F.relu(F.conv1d(x, s[f"{p}.conv.weight"], s[f"{p}.conv.bias"], padding=padding,
                                      dilation=dilation)), s, f"{p}.bn")


def se_res2_block(x: Tensor, s: State, p: str, dilation: int) -> Tensor:
    y = conv_relu_bn(x, s, f"{p}.Conv1dReluBn1")
    convs = sum(1 for k in s if k.startswith(f"{p}.Res2Conv1dReluBn.convs.") and k.endswith(".weight"))
    width = y.shape[1] // (convs + 1)
    parts = torch.split(y, width, dim=1)
    outs, sp = [], None
    for i in range(convs):
        sp = parts[i] if i == 0 else sp + parts[i]
        c = f"{p}.Res2Conv1dReluBn"
        sp = F.conv1d(sp, s[f"{c}.convs.{i}.weight"], s[f"{c}.convs.{i}.bias"], padding=dilation, dilation=dilation)
        sp = batch_norm(F.relu(sp), s, f"{c}.bns.{i}")
        outs.append(sp)
    outs.append(parts[convs])
    y = conv_relu_bn(torch.cat(outs, dim=1), s, f"{p}.Conv1dReluBn2")
    z = y.mean(dim=2)
    z = torch.sigmoid(linear(F.relu(linear(z, s, f"{p}.SE_Connect.linear1")), s, f"{p}.SE_Connect.linear2"))
    return y * z[:, :, None] + x


def ecapa_embedding(hidden: list[Tensor], s: State) -> Tensor:
    """UniSpeech ECAPA_TDNN on hidden-state features: (1, emb_dim)."""
    w = torch.softmax(s["feature_weight"], dim=-1)
    x = sum(w[i] * h for i, h in enumerate(hidden)).transpose(1, 2) + 1e-6
    x = F.instance_norm(x, eps=1e-5)
    out1 = conv_relu_bn(x, s, "layer1", padding=2)
    out2 = se_res2_block(out1, s, "layer2", 2)
    out3 = se_res2_block(out2, s, "layer3", 3)
    out4 = se_res2_block(out3, s, "layer4", 4)
    x = F.relu(F.conv1d(torch.cat([out2, out3, out4], dim=1), s["conv.weight"], s["conv.bias"]))
    alpha = torch.softmax(F.conv1d(torch.tanh(F.conv1d(x, s["pooling.linear1.weight"], s["pooling.linear1.bias"])),
                                   s["pooling.linear2.weight"], s["pooling.linear2.bias"]), dim=2)
    mean = (alpha * x).sum(dim=2)
    std = ((alpha * x ** 2).sum(dim=2) - mean ** 2).clamp(min=1e-9).sqrt()
    return linear(batch_norm(torch.cat([mean, std], dim=1), s, "bn"), s, "linear")


def sim_embedding(wav: Tensor, sr: int, wavlm: Mapping[str, Any], finetuned: State) -> Tensor:
    """seed-tts-eval's verifier: first channel, transforms.Resample to 16 kHz, WavLM + ECAPA."""
    x = resample(wav, sr, 16_000, torch.float64)
    prefix = "feature_extract.model."
    s = dict(wavlm["model"])
    s.update({k[len(prefix):]: v for k, v in finetuned.items() if k.startswith(prefix)})  # fine-tuned copies win
    return ecapa_embedding(wavlm_hidden_states(x, wavlm["cfg"], s), finetuned)


# -- UTMOS22 strong (SpeechMOS v1.2.0) --------------------------------------------------------------
def lstm_direction(x: Tensor, s: State, suffix: str) -> Tensor:
    """One direction of torch's LSTM, unrolled: gates i, f, g, o."""
    w_ih, w_hh = s[f"blstm.weight_ih_l0{suffix}"], s[f"blstm.weight_hh_l0{suffix}"]
    b = s[f"blstm.bias_ih_l0{suffix}"] + s[f"blstm.bias_hh_l0{suffix}"]
    hidden = w_hh.shape[1]
    h = x.new_zeros(x.shape[0], hidden)
    c = x.new_zeros(x.shape[0], hidden)
    out = []
    for t in range(x.shape[1]):
        gates = x[:, t] @ w_ih.T + h @ w_hh.T + b
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out, dim=1)


def utmos_score(wav: Tensor, sr: int, s: State) -> float:
    """SpeechMOS UTMOS22Strong(wave[None], sr) with the released sizes (12 heads of 64)."""
    x = resample(wav, sr, 16_000, torch.float32)[:, None]
    for i, stride in enumerate([5, 2, 2, 2, 2, 2, 2]):
        p = f"wav2vec2.feature_extractor.conv_layers.{i}"
        x = F.conv1d(x, s[f"{p}.0.weight"], stride=stride)
        if i == 0:
            x = F.group_norm(x, x.shape[1], s[f"{p}.2.weight"], s[f"{p}.2.bias"])
        x = F.gelu(x)
    x = layer_norm(x.transpose(1, 2), s, "wav2vec2.layer_norm")
    x = linear(x, s, "wav2vec2.post_extract_proj")
    w = weight_normed(s["wav2vec2.encoder.pos_conv.0.weight_v"], s["wav2vec2.encoder.pos_conv.0.weight_g"])
    conv = F.conv1d(x.transpose(1, 2), w, s["wav2vec2.encoder.pos_conv.0.bias"], padding=64, groups=16)[:, :, :-1]
    x = layer_norm(x + F.gelu(conv).transpose(1, 2), s, "wav2vec2.encoder.layer_norm")
    frames = x.shape[1]
    pad = None
    if frames % 2:
        x = F.pad(x, (0, 0, 0, 1))
        pad = torch.zeros(1, frames + 1, dtype=torch.bool)
        pad[:, -1] = True
    for i in range(12):
        p = f"wav2vec2.encoder.layers.{i}"
        x = layer_norm(x + attention(x, s, f"{p}.self_attn", 12, pad=pad), s, f"{p}.self_attn_layer_norm")
        x = layer_norm(x + linear(F.gelu(linear(x, s, f"{p}.fc1")), s, f"{p}.fc2"), s, f"{p}.final_layer_norm")
    x = x[:, :frames]
    cat = torch.cat([x, s["domain_emb"][:, None].expand(1, frames, -1), s["judge_emb"][:, None].expand(1, frames, -1)],
                    dim=2)
    h = torch.cat([lstm_direction(cat, s, ""), lstm_direction(cat.flip(1), s, "_reverse").flip(1)], dim=2)
    score = linear(F.relu(linear(h, s, "projection.0")), s, "projection.2")
    return float(score.mean(dim=1).squeeze() * 2 + 3)
