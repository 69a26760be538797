"""The DiTAR paper's FLOPs formulas (Jia et al., 2025, Appendix A.4), with its typos fixed.

Conventions, as in A.4: one multiply-accumulate = 2 FLOPs; only matrix products are counted
(convolutions, attention projections, QK^T, AV, FFN); biases, normalisation, activations, softmax,
embeddings lookups and heads are ignored; the number of attention heads does not change the count.
Every function returns **FLOPs** (= 2 x MACs) as an exact integer. `linear_flops` (one dense
matrix, for logit heads that dominate some models, e.g. DiSTAR) is our addition, not in A.4.

Shapes: N layers, C width, C_mid FFN width, K kernel, T sequence length, t current length.

The appendix has two typos, fixed here and tested in tests/unit/cost/test_formulas.py:

1. Eq. 23 writes ``Prefix_FLOPs = Transformer_FLOPs(N, C, T_pre, C_mid) x N``. Eq. 21 already
   multiplies by N, so the prefix would be counted N times over; the prefix pass is one
   non-causal-shaped pass over T_pre tokens: ``Transformer_FLOPs(N, C, T_pre, C_mid)``.
2. Eq. 25-26 write the attention of one decoding step as ``2 t^2 C``. One new query against t cached
   keys is a [1, C] x [C, t] product (2tC FLOPs), and the weights times values a [1, t] x [t, C]
   product (another 2tC); ``2 t^2 C`` is the cost of a full t x t attention, not of one step.

One more point the appendix leaves implicit: the prefix pass of a causal LM is charged the full
T_pre^2 attention of Eq. 16-17 (a causal mask saves half of it only with a kernel that skips masked
blocks); we keep the appendix's choice so that Table 1 is reproduced.
"""

from __future__ import annotations


def _check(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def conv1d_flops(layers: int, channels: int, kernel: int, length: int) -> int:
    """Eq. 14: N stride-1 convolutions C -> C with kernel K over T frames: 2 C^2 K T N."""
    _check(layers=layers, channels=channels, kernel=kernel, length=length)
    return 2 * channels * channels * kernel * length * layers


def linear_flops_per_token(width: int, ffn: int, *, ffn_mats: int = 2) -> int:
    """Per token and layer: QKV (6C^2) + output projection (2C^2) + FFN (2 C C_mid per matrix).

    ffn_mats is 2 for the plain FFN of A.4 and 3 for a gated one (SwiGLU/GeGLU: gate, up, down).
    """
    _check(width=width, ffn=ffn, ffn_mats=ffn_mats)
    return 6 * width * width + 2 * width * width + 2 * ffn_mats * width * ffn


def transformer_flops(layers: int, width: int, length: int, ffn: int, *, ffn_mats: int = 2) -> int:
    """Eq. 15-21: a non-causal transformer over T tokens.

    Per layer: QKV 6TC^2, QK^T 2T^2C, AV 2T^2C, output 2TC^2, FFN 2TC C_mid x ffn_mats/1.
    """
    _check(layers=layers, length=length)
    attention = 2 * length * length * width + 2 * length * length * width  # QK^T + AV
    return layers * (length * linear_flops_per_token(width, ffn, ffn_mats=ffn_mats) + attention)


def decode_step_flops(layers: int, width: int, context: int, ffn: int, *, ffn_mats: int = 2) -> int:
    """Eq. 24-29, typo fixed: one new token attending to `context` = t cached positions (itself
    included) costs 2tC for QK^T and 2tC for AV, not 2t^2C."""
    _check(layers=layers, context=context)
    attention = 2 * context * width + 2 * context * width
    return layers * (linear_flops_per_token(width, ffn, ffn_mats=ffn_mats) + attention)


def ar_transformer_flops(layers: int, width: int, steps: int, prefix: int, ffn: int, *,
                         ffn_mats: int = 2) -> int:
    """Eq. 23 + 30 + 31, typos fixed: a causal transformer with KV cache.

    One prefix pass over T_pre tokens (charged like Eq. 21, *once*), then T decoding steps; step
    t = T_pre + 1 ... T_pre + T attends to t positions. The sum over t is taken in closed form.
    """
    _check(layers=layers, width=width, steps=steps, prefix=prefix, ffn=ffn)
    prefill = transformer_flops(layers, width, prefix, ffn, ffn_mats=ffn_mats) if prefix else 0
    # sum_{t = T_pre + 1}^{T_pre + T} t  =  T * T_pre + T (T + 1) / 2
    context_sum = steps * prefix + steps * (steps + 1) // 2
    per_step_linear = linear_flops_per_token(width, ffn, ffn_mats=ffn_mats)
    decode = layers * (steps * per_step_linear + 4 * width * context_sum)
    return prefill + decode


def linear_flops(in_features: int, out_features: int, tokens: int) -> int:
    """One dense matrix in -> out applied to `tokens` vectors: 2 x in x out x tokens.

    **Our addition, not in A.4** (which ignores heads): used for logit heads that are a large share
    of a model's cost, e.g. DiSTAR's 65,536-way RVQ heads run at every masked-diffusion step.
    """
    _check(in_features=in_features, out_features=out_features, tokens=tokens)
    return 2 * in_features * out_features * tokens


# The appendix exactly as printed, kept only so that tests can show what the fixes change.
def appendix_as_printed_ar_flops(layers: int, width: int, steps: int, prefix: int, ffn: int) -> int:
    """Eq. 23/25/26 verbatim: prefix multiplied by N a second time, 2t^2C attention per step."""
    prefill = transformer_flops(layers, width, prefix, ffn) * layers
    decode = 0
    for t in range(prefix + 1, prefix + steps + 1):
        decode += layers * (linear_flops_per_token(width, ffn) + 2 * t * t * width + 2 * t * t * width)
    return prefill + decode
