"""seedtts-en's Whisper decode equals seed-tts-eval's call on the reference transformers, token for token.

The fixture (`tests/fixtures/whisper_decode/`) is a random tiny Whisper saved with `save_pretrained`
whose greedy output runs into timestamp tokens, end-of-text and the length limit. `goldens.json` holds
what `generate(features, forced_decoder_ids=get_decoder_prompt_ids(language="english",
task="transcribe"))` returned on transformers 4.40.2, 4.41.2, 4.42.4 and 4.46.3
(`scripts/whisper_decode_goldens.py`, run in throwaway environments). 4.40-4.42 agree; 4.46.3 cuts
each output at its last timestamp token, and 5.x (which refuses the call) decodes the window again
after it. `reference` names the version whose semantics the recipe reproduces.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch

transformers = pytest.importorskip("transformers")

from ttsbench.metrics.asr.whisper_hf import HFWhisper, generation_settings, greedy_decode, prompt_ids

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "whisper_decode"
GOLDENS = json.loads((FIXTURE / "goldens.json").read_text())
REFERENCE = GOLDENS["versions"][GOLDENS["reference"]]


def waveform(sr: int, seed: int) -> np.ndarray:
    """The fixed waveform of scripts/whisper_decode_goldens.py (float64)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.5 * sr)) / sr
    return 0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) \
        + 0.02 * rng.standard_normal(t.size)


def cases() -> list[tuple[int, int]]:
    return [tuple(int(x) for x in key.split("-")) for key in REFERENCE]


@pytest.fixture(scope="module")
def backend() -> HFWhisper:
    return HFWhisper(FIXTURE, recipe="seedtts-en", params={"language": "english", "task": "transcribe"})


def test_the_goldens_exercise_end_of_text_the_length_limit_and_timestamps():
    eot = 256  # <|endoftext|> of the fixture's tokenizer
    ends = [tokens[-1] == eot for tokens in REFERENCE.values()]
    limit = json.loads((FIXTURE / "generation_config.json").read_text())["max_length"]
    assert any(ends) and any(len(t) == limit for t in REFERENCE.values())
    assert all(any(tok > 266 for tok in t) for t in REFERENCE.values())  # timestamp tokens inside the text
    assert GOLDENS["reference"] == "4.40.2"
    assert GOLDENS["versions"]["4.41.2"] == GOLDENS["versions"]["4.42.4"] == REFERENCE
    assert GOLDENS["versions"]["4.46.3"] != REFERENCE  # cut at the last timestamp: not the reference


@pytest.mark.parametrize(("sr", "seed"), cases())
def test_our_greedy_decode_equals_the_reference_call_token_for_token(backend, sr, seed):
    wav = waveform(sr, seed)
    if sr != 16_000:
        wav = scipy.signal.resample(wav, int(len(wav) * 16_000 / sr))
    feats = backend.processor(wav, sampling_rate=16_000, return_tensors="pt").input_features
    assert greedy_decode(backend.model, feats, backend.prompt, backend.settings) == REFERENCE[f"{sr}-{seed}"]


@pytest.mark.parametrize(("sr", "seed"), cases()[:3])
def test_the_backend_reads_resamples_and_decodes_files_like_the_reference(backend, tmp_path, sr, seed):
    path = tmp_path / f"{sr}-{seed}.wav"
    sf.write(str(path), waveform(sr, seed), sr, subtype="DOUBLE")  # the float64 samples, unchanged
    assert backend.token_ids(path) == REFERENCE[f"{sr}-{seed}"]
    text = backend.transcribe([path])[0]
    assert text == backend.processor.batch_decode([REFERENCE[f"{sr}-{seed}"]], skip_special_tokens=True)[0]


def test_prompt_and_settings_come_from_the_tokenizer_and_generation_config(backend):
    tok = backend.processor.tokenizer
    assert backend.prompt == [tok.convert_tokens_to_ids(t) for t in
                              ("<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>")]
    assert prompt_ids(tok, backend.prompt[0], "en", "transcribe") == backend.prompt
    settings = generation_settings(backend.model)
    assert settings["max_length"] == 32 and settings["begin_suppress_tokens"] == [220, 256]
    assert backend.resolved()["decoding"]["max_length"] == 32 and backend.resolved()["dtype"] == "float32"


def test_the_installed_transformers_old_call_agrees_where_it_still_exists(backend):
    """On transformers 4.40-4.42 the reference call runs here too; elsewhere the goldens stand in."""
    version = tuple(int(x) for x in transformers.__version__.split(".")[:2])
    if not (4, 40) <= version <= (4, 42):
        pytest.skip(f"transformers {transformers.__version__}: the reference call has other semantics or raises")
    forced = backend.processor.get_decoder_prompt_ids(language="english", task="transcribe")
    for sr, seed in cases():
        wav = waveform(sr, seed)
        if sr != 16_000:
            wav = scipy.signal.resample(wav, int(len(wav) * 16_000 / sr))
        feats = backend.processor(wav, sampling_rate=16_000, return_tensors="pt").input_features
        with torch.no_grad():
            assert backend.model.generate(feats, forced_decoder_ids=forced)[0].tolist() == REFERENCE[f"{sr}-{seed}"]
