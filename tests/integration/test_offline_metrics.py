"""The offline default recipes give sensible values on real speech (no network, CPU).

Real human speech: the embedded demo set (LibriVox reader + "cards" speaker, 16 kHz FLAC in
datasets/demo). Synthetic speech: the registered `espeak-ng` system (espeakng-loader's library).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ttsbench.plugins import METRICS, SYSTEMS
from ttsbench.types import LoadContext, Prompt, ScoreItem, SystemSpec

DEMO = Path(__file__).resolve().parents[2] / "datasets" / "demo"
LIBRIVOX = DEMO / "librivox"
ROWS = {json.loads(line)["utt_id"]: json.loads(line) for line in (DEMO / "demo.jsonl").read_text().splitlines()}
PROMPT = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.flac"
FOX = "The quick brown fox jumps over the lazy dog."


def item(path: Path, text: str = "", prompt: Path | None = None, utt: str = "u") -> ScoreItem:
    wav, sr = sf.read(str(path), dtype="float32")
    return ScoreItem(utt_id=utt, wav=wav, sample_rate=sr, wav_path=path, target_text=text, prompt_wav=prompt)


def metric(name: str, work: Path):
    m = METRICS.get(name)({})
    m.setup(LoadContext(device="cpu", work_dir=work))
    return m


@pytest.fixture(scope="module")
def espeak_wav(tmp_path_factory) -> Path:
    system = SYSTEMS.get("espeak-ng").load(SystemSpec("espeak-ng", {"voice": "en-us"}), LoadContext())
    wav = system.synthesize([Prompt("fox", PROMPT, "", FOX)], seed=0)[0]
    path = tmp_path_factory.mktemp("espeak") / "fox.wav"
    sf.write(str(path), wav, system.sample_rate)
    return path


def test_whisper_tiny_wer_is_low_for_the_right_text_and_high_for_a_wrong_one(tmp_path, espeak_wav):
    pytest.importorskip("faster_whisper")
    wer = metric("wer-whisper-tiny-en", tmp_path)
    real = ROWS["librivox-0920"]  # (0890 has "cold-hearted": F5's rule glues it, tiny.en writes "cold hearted")
    wrong_text = ROWS["librivox-0870"]["target_text"]
    right = wer.score(item(DEMO / real["reference_wav"], real["target_text"]))
    wrong = wer.score(item(DEMO / real["reference_wav"], wrong_text))
    assert right["utt_wer"] < 0.2 and wrong["utt_wer"] > 0.7, (right, wrong)
    synth_right = wer.score(item(espeak_wav, FOX))
    synth_wrong = wer.score(item(espeak_wav, "Unless to be rather cold hearted and rather selfish."))
    assert synth_right["utt_wer"] < 0.5 and synth_wrong["utt_wer"] > 0.8, (synth_right, synth_wrong)
    values = wer.aggregate(pd.DataFrame([right, wrong, synth_right, synth_wrong]))
    assert values["wer_macro"] != values["wer_micro"] and 0 < values["fail_rate_50"] < 100


def test_resemblyzer_sim_same_voice_beats_other_voices(tmp_path, espeak_wav):
    pytest.importorskip("resemblyzer")
    sim = metric("sim-resemblyzer", tmp_path)
    same = [sim.score(item(DEMO / ROWS[u]["reference_wav"], prompt=PROMPT))["sim_o"]
            for u in ("librivox-0870", "librivox-0920")]
    other = [sim.score(item(DEMO / ROWS[u]["reference_wav"], prompt=PROMPT))["sim_o"]
             for u in ("cards-001", "cards-002")]
    synthetic = sim.score(item(espeak_wav, prompt=PROMPT))["sim_o"]
    assert min(same) > max(other) and min(same) > synthetic, (same, other, synthetic)
    assert sim.aggregate(pd.DataFrame([{"sim_o": s, "sim_r": None} for s in same]))["sim_o"] > 0.75


def test_dnsmos_rates_speech_above_noise(tmp_path):
    pytest.importorskip("speechmos")
    mos = metric("dnsmos", tmp_path)
    speech = mos.score(item(DEMO / ROWS["librivox-0890"]["reference_wav"]))["ovrl_mos"]
    noise_path = tmp_path / "noise.wav"
    sf.write(str(noise_path), (0.3 * np.random.default_rng(0).standard_normal(48_000)).astype(np.float32), 16_000)
    noise = mos.score(item(noise_path))["ovrl_mos"]
    assert speech > 2.5 and noise < 1.5, (speech, noise)
