"""Record what seed-tts-eval's Whisper call decodes, on the installed transformers, as test goldens.

seed-tts-eval (`run_wer.py`, lang=en) decodes with

    generate(input_features, forced_decoder_ids=processor.get_decoder_prompt_ids(language="english",
             task="transcribe"))

and `batch_decode(..., skip_special_tokens=True)[0]`. This script runs exactly that call on the tiny
saved Whisper in `tests/fixtures/whisper_decode/` for the fixed waveforms the test uses, and stores
the token ids under the installed transformers version in `goldens.json`, beside the entries of other
versions. `tests/unit/metrics/test_whisper_decode.py` asserts that ttsbench's own greedy decode gives
the tokens of the version named `reference` there.

Run it in a throwaway environment that has the transformers version to record (the call raises on
transformers 5), e.g.:

    python3 -m venv /tmp/tf440 && /tmp/tf440/bin/pip install torch==2.13.0 numpy scipy \
        transformers==4.40.2 && /tmp/tf440/bin/python scripts/whisper_decode_goldens.py

It reads only the fixture folder and writes only its goldens.json; it imports nothing from ttsbench.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import scipy.signal
import torch
import transformers
from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizerFast

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "whisper_decode"
#: (sample rate, seed) of each waveform: 1.5 s of a noise-modulated tone, the test's `waveform()`
CASES = [(16_000, 1), (24_000, 2), (22_050, 3), (16_000, 4), (16_000, 5), (16_000, 6)]


def waveform(sr: int, seed: int) -> np.ndarray:
    """The fixed test waveform (float64), as the test builds it."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.5 * sr)) / sr
    return 0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) \
        + 0.02 * rng.standard_normal(t.size)


def reference_tokens(model_dir: Path) -> dict[str, list[int]]:
    """seed-tts-eval's call on every case: {"SR-SEED": token ids}."""
    features = WhisperFeatureExtractor.from_pretrained(model_dir)
    tokenizer = WhisperTokenizerFast.from_pretrained(model_dir)
    model = WhisperForConditionalGeneration.from_pretrained(model_dir).eval()
    forced = tokenizer.get_decoder_prompt_ids(language="english", task="transcribe")
    out = {}
    for sr, seed in CASES:
        wav = waveform(sr, seed)
        if sr != 16_000:
            wav = scipy.signal.resample(wav, int(len(wav) * 16_000 / sr))
        feats = features(wav, sampling_rate=16_000, return_tensors="pt").input_features
        with torch.no_grad():
            out[f"{sr}-{seed}"] = model.generate(feats, forced_decoder_ids=forced)[0].tolist()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, default=FIXTURE, help="the tiny Whisper folder (default: %(default)s)")
    args = parser.parse_args()
    path = args.fixture / "goldens.json"
    data = json.loads(path.read_text()) if path.is_file() else {"reference": transformers.__version__, "versions": {}}
    data["versions"][transformers.__version__] = reference_tokens(args.fixture)
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{path}: transformers {transformers.__version__} recorded")


if __name__ == "__main__":
    main()
