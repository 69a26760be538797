"""F5's eval-path pieces with hand-computed expectations (f5_tts/eval/utils_eval.py, f5-tts 1.1.22)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ttsbench.systems.base import item_rng
from ttsbench.systems.baselines.common import item_seed, mono_float32
from ttsbench.systems.baselines.f5_protocol import join_text, prompt_gain, rms, total_frames


def test_an_ascii_final_character_gets_one_space_before_the_target():
    assert join_text("He was not an ill disposed young man.", "Unless to be.") == (
        "He was not an ill disposed young man. ", "He was not an ill disposed young man. Unless to be.")


def test_a_multibyte_final_character_gets_no_space():
    assert join_text("你好。", "再见") == ("你好。", "你好。再见")  # "。" is 3 bytes in UTF-8


def test_duration_adds_prompt_frames_per_byte_times_target_bytes():
    assert total_frames(100, "abcd ", "ab") == 140           # 100 + 100/5*2
    assert total_frames(100, "abc", "ab") == 166             # 100 + int(66.67): int() truncates
    assert total_frames(100, "abcd ", "ab", speed=2.0) == 120


def test_duration_counts_utf8_bytes_not_characters():
    # "é " is 2 characters but 3 bytes: 90 + 90/3*2 = 150 (by characters it would be 180)
    assert total_frames(90, "é ", "ab") == 150
    # Chinese: 3 bytes a character on both sides, 300 + 300/6*12
    assert total_frames(300, "你好", "你好你好") == 900


def test_duration_needs_a_prompt_transcript():
    with pytest.raises(ValueError, match="prompt_text is empty"):
        total_frames(100, "", "ab")


def test_a_quiet_prompt_is_raised_to_rms_0_1_and_a_loud_one_left_alone():
    assert rms(np.array([0.05, -0.05], dtype=np.float32)) == pytest.approx(0.05)
    assert prompt_gain(0.05) == pytest.approx(2.0)
    assert prompt_gain(0.1) == 1.0
    assert prompt_gain(0.3) == 1.0
    assert prompt_gain(0.0) == 1.0  # silence: nothing to scale


def test_item_seed_depends_on_seed_and_utterance_only():
    digest = hashlib.sha256(b"7:utt-1").digest()
    assert item_seed(7, "utt-1") == int.from_bytes(digest[:8], "little") % (2**31 - 1)
    assert item_seed(7, "utt-1") != item_seed(8, "utt-1") != item_seed(7, "utt-2")
    assert 0 <= item_seed(123, "x") < 2**31 - 1
    # the same digest as the harness's item_rng: one (seed, utterance) -> one stream everywhere
    assert np.random.default_rng(int.from_bytes(digest[:8], "little")).random() == item_rng(7, "utt-1").random()


def test_mono_float32_scales_int16_and_squeezes():
    out = mono_float32(np.array([[16384, -32768]], dtype=np.int16), "x")
    assert out.dtype == np.float32 and out.tolist() == [0.5, -1.0]
    with pytest.raises(Exception, match="mono"):
        mono_float32(np.zeros((2, 3)), "x")
