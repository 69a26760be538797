"""The A.4 formulas against hand-computed numbers, and what the two typo fixes change."""

from __future__ import annotations

import pytest

from ttsbench.metrics.cost import formulas as F


def test_conv1d_matches_eq14_by_hand():
    # 2 C^2 K T N with N=2, C=4, K=3, T=10
    assert F.conv1d_flops(2, 4, 3, 10) == 2 * 16 * 3 * 10 * 2 == 1920


def test_noncausal_transformer_by_hand():
    # N=1, C=2, T=3, C_mid=4: QKV 6TC^2=72, QK^T 2T^2C=36, AV 36, FC 2TC^2=24, FFN 2*2TC C_mid=96
    assert F.transformer_flops(1, 2, 3, 4) == 72 + 36 + 36 + 24 + 48 + 48 == 264
    assert F.transformer_flops(5, 2, 3, 4) == 5 * 264  # x N once


def test_gated_ffn_adds_a_third_matrix():
    assert F.transformer_flops(1, 2, 3, 4, ffn_mats=3) == 264 + 2 * 3 * 2 * 4


def test_decode_step_attention_is_linear_in_context():
    # one token: QKV 6C^2=24, FC 2C^2=8, FFN 2*2C C_mid=32, QK^T 2tC, AV 2tC with t=5, C=2 -> 40
    assert F.decode_step_flops(1, 2, 5, 4) == 24 + 8 + 32 + 20 + 20 == 104


def test_ar_transformer_is_prefix_once_plus_steps():
    # prefix 3 tokens (264) + steps at t=4 (64 + 32) and t=5 (64 + 40)
    assert F.ar_transformer_flops(1, 2, steps=2, prefix=3, ffn=4) == 264 + 96 + 104 == 464


@pytest.mark.parametrize("layers,width,steps,prefix,ffn", [(3, 8, 7, 5, 16), (2, 4, 1, 0, 8), (1, 16, 30, 11, 64)])
def test_closed_form_sum_equals_the_loop(layers, width, steps, prefix, ffn):
    loop = (F.transformer_flops(layers, width, prefix, ffn) if prefix else 0) + sum(
        F.decode_step_flops(layers, width, t, ffn) for t in range(prefix + 1, prefix + steps + 1))
    assert F.ar_transformer_flops(layers, width, steps, prefix, ffn) == loop


def test_typo_fixes_change_the_number_as_documented():
    N, C, T, T_pre, C_mid = 36, 1024, 100, 121, 4096
    fixed = F.ar_transformer_flops(N, C, T, T_pre, C_mid)
    printed = F.appendix_as_printed_ar_flops(N, C, T, T_pre, C_mid)
    # Typo 1: the prefix pass counted N times over. Typo 2: 2t^2C instead of 2tC per step.
    prefix_extra = (N - 1) * F.transformer_flops(N, C, T_pre, C_mid)
    attn_extra = sum(N * 4 * C * (t * t - t) for t in range(T_pre + 1, T_pre + T + 1))
    assert printed - fixed == prefix_extra + attn_extra
    assert printed > 20 * fixed  # as printed, DiTAR's LM alone would cost 4.6 TFLOPs, > Table 1's 2.75 total


def test_bad_sizes_raise():
    with pytest.raises(ValueError):
        F.transformer_flops(-1, 2, 3, 4)
    with pytest.raises(ValueError):
        F.conv1d_flops(1, 2, 3, 2.5)
