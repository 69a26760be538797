"""Learning, not just running: a small DiSTAR memorises real utterances (the shipped demo speech).

The default test trains an RVQ and a DiSTAR briefly on the two shortest recordings and checks that
the cross-entropy falls and that greedy decoding reproduces the codes and the length. The slow
test is the reported experiment (`python -m ttsbench.systems.distar.overfit --steps 1500 --rows 4`).
"""

from __future__ import annotations

import pytest

from ttsbench.systems.distar.overfit import run


@pytest.mark.slow
def test_short_training_memorises_real_speech_codes(tmp_path, one_thread):
    report = run(tmp_path, steps=200, rows=2, lr=3e-3, rvq_steps=100)
    assert report["utterances_trained"] == 2
    assert report["ce_ratio"] > 10, report["curve"]
    for utt in report["utterances"]:
        assert min(utt["accuracy_teacher_forced"]) > 0.8, utt  # chance is 1/64 per code
        assert abs(utt["length_error_patches"]) <= 1, utt
    assert (tmp_path / "wavs").is_dir() and len(list((tmp_path / "wavs").glob("*.wav"))) == 2


@pytest.mark.slow
def test_overfit_reproduces_codes_and_length(tmp_path, one_thread):
    report = run(tmp_path, steps=1500, rows=4)
    assert report["ce_ratio"] >= 100, report["curve"]
    utts = report["utterances"]
    assert all(min(u["accuracy_teacher_forced"]) > 0.95 for u in utts), utts
    exact = [u for u in utts if min(u["accuracy_free_running"]) > 0.9 and abs(u["length_error_patches"]) <= 1]
    assert len(exact) >= len(utts) - 1, utts
