"""Golden transcripts of the hubert-en recipe: ZipVoice's HuBERT scorer on a saved tiny HubertForCTC.

ZipVoice (`zipvoice/eval/wer/hubert.py`) loads each file with its `load_waveform` (soundfile float32,
channels averaged, `librosa.resample` to 16 kHz, i.e. soxr HQ) and transcribes the arrays with
transformers' `pipeline("automatic-speech-recognition", model=DIR)`. This script does exactly that,
one file per call (ZipVoice batches 16 padded files, which moves only float rounding), on the tiny
random model in `tests/fixtures/hubert_goldens/` (written here if absent), for fixed waveforms at 16,
22.05 and 24 kHz (mono and stereo), and records the transcripts with the transformers and librosa
versions in `goldens.json`. The pipeline and librosa are the upstream code itself (PyPI packages).

    .venv/bin/python scripts/make_hubert_goldens.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch
import transformers
from transformers import (
    HubertConfig,
    HubertForCTC,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2Processor,
    pipeline,
)

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hubert_goldens"
SCALE = 2.0  # weights ~ N(0, SCALE^2 / fan_in), zero biases, norm gains near 1: varied letters per frame
CASES = [(16_000, 1, 1), (22_050, 2, 1), (24_000, 3, 2)]  # (rate, seed, channels)


def waveform(sr: int, seed: int, channels: int) -> np.ndarray:
    """1.5 s of a test signal, float32 (samples, channels) when channels > 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.5 * sr)) / sr
    wav = 0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) \
        + 0.05 * rng.standard_normal(t.size)
    wav = wav.astype(np.float32)
    return np.stack([wav, 0.5 * wav[::-1].copy()], axis=1) if channels > 1 else wav


def write_model(out: Path) -> None:
    """A random tiny HubertForCTC + letter tokenizer, saved like facebook/hubert-large-ls960-ft."""
    out.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4,
             **{c: 5 + i for i, c in enumerate("ETAOINSHRDLUCMFWYGPBVK'XJQZ")}}
    (out / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(out / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0, do_normalize=True,
                                         return_attention_mask=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(out)
    cfg = HubertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32, conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2),
                       num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, feat_extract_norm="layer",
                       do_stable_layer_norm=True, conv_bias=True, pad_token_id=0)
    model = HubertForCTC(cfg).eval()
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * SCALE / math.sqrt(p.shape[-1]))
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
    model.save_pretrained(out)


def zipvoice_load(path: Path) -> np.ndarray:
    """ZipVoice's load_waveform(path, 16000): float32, channel mean, librosa.resample."""
    wav, sr = sf.read(str(path), dtype="float32")
    if wav.ndim == 2:
        wav = wav.mean(1)
    return librosa.resample(wav, orig_sr=sr, target_sr=16_000) if sr != 16_000 else wav


def main() -> None:
    if not (OUT / "config.json").is_file():
        write_model(OUT)
    asr = pipeline("automatic-speech-recognition", model=str(OUT), device="cpu")
    texts = {}
    for sr, seed, channels in CASES:
        path = OUT / f"case-{sr}-{seed}.wav"
        sf.write(str(path), waveform(sr, seed, channels), sr, subtype="FLOAT")
        texts[f"{sr}-{seed}-{channels}"] = asr(zipvoice_load(path))["text"]
        path.unlink()
    data = {"generated_by": f"transformers {transformers.__version__} pipeline('automatic-speech-recognition'), "
                            f"ZipVoice load_waveform steps with librosa {librosa.__version__}",
            "cases": [list(c) for c in CASES], "texts": texts}
    (OUT / "goldens.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{OUT / 'goldens.json'}: {data['generated_by']}")


if __name__ == "__main__":
    main()
