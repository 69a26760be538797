"""Learning, not just running: a small DiTAR memorises real utterances (the shipped demo speech).

The default test trains briefly on the two shortest recordings and checks that the loss falls and
that LocDiT, given the true context, reproduces every patch. The slow test is the reported
experiment (`python -m ttsbench.systems.ditar.overfit --steps 2000 --rows 4`): a loss drop of an
order of magnitude, free-running greedy generation close to the target, and the right length.
"""

from __future__ import annotations

import pytest

from ttsbench.systems.ditar.overfit import run


@pytest.mark.slow
def test_short_training_learns_real_speech(tmp_path, one_thread):
    report = run(tmp_path, steps=250, rows=2, lr=3e-3)
    assert report["utterances_trained"] == 2
    assert report["loss_ratio"] > 4, report["curve"]
    for utt in report["utterances"]:
        assert utt["nmse_teacher_forced"] < 0.3, utt  # an untrained model scores about 1


@pytest.mark.slow
def test_overfit_reproduces_latents_and_length(tmp_path, one_thread):
    report = run(tmp_path, steps=2000, rows=4)
    assert report["loss_ratio"] >= 10, report["curve"]
    utts = report["utterances"]
    assert all(u["nmse_teacher_forced"] < 0.05 for u in utts), utts
    close = [u for u in utts if u["nmse_free_running"] < 0.1 and abs(u["length_error_patches"]) <= 2]
    assert len(close) >= len(utts) - 1, utts
