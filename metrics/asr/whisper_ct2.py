"""`faster-whisper`: CTranslate2 Whisper through faster-whisper, as F5-TTS's `run_asr_wer` runs it.

faster-whisper decodes the file itself (PyAV, resampled to 16 kHz by its own resampler), so the path
is passed, as F5 does. Decoding: `transcribe(path, beam_size=5, language="en")` with faster-whisper's
defaults otherwise (temperature fallback, condition_on_previous_text, no VAD). The text is the
segments joined with spaces. F5 runs large-v3 in float16 on CUDA; on CPU float16 is not available,
so `compute_type` defaults to float16 on CUDA and float32 on CPU. The resolved compute type, the
device kind and the faster-whisper / CTranslate2 / PyAV versions are in the recipe's fingerprint.

**Seeded fallback.** When a window's beam result fails faster-whisper's compression-ratio or
log-probability threshold, it samples again at temperatures 0.2 ... 1.0. CTranslate2 draws those
samples from a per-thread generator seeded once, when a worker thread first samples, from the
process-wide seed (`ctranslate2.set_random_seed`), so the same audio can give another transcript
on every call. We keep the fallback (it is part of the reference's decoding) and make it
reproducible: an utterance whose segments show a temperature above 0 is transcribed again on a
fresh `WhisperModel` (new worker threads, so fresh generators) created right after setting the seed
to `fallback_seed(audio sha256, model key)`; that transcript is the one kept. Utterances without a
fallback are decoded once (beam search draws no random numbers). On a checked faster-whisper
version the first pass stops at T = 0 and `needs_fallback` applies faster-whisper's own fallback
rule to the segments' window statistics, so a file that needs sampling is decoded once, seeded,
rather than sampled unseeded first and then again (on the 120 benchmark files the rule picked
exactly the 2 files the full schedule samples, and every other transcript was unchanged).

**Concurrency (CPU).** The beam pass of a chunk of files runs in `workers` threads, each on its own
CTranslate2 replica (`num_workers`) with `cpu_threads / workers` intra-op threads: the same total
threads, spent where the small decoder GEMMs cannot use them, and one file's PyAV decoding overlaps
another's inference. Beam search draws no random numbers and CTranslate2 runs each request on one
replica, so every transcript is that of the serial loop (checked on the packaged tiny.en, int8 and
float32: `tests/unit/metrics/test_whisper_workers.py`, and on 120 files by `scripts/bench_scoring.py`);
the fallback pass stays serial. Concurrency is not in the fingerprint, because it moves no transcript.

F5 pins faster-whisper 0.10.1; `CHECKED_VERSIONS` lists the versions this decoding was checked on,
and another version is scored with a warning.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ttsbench.errors import TTSBenchWarning
from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.cache import audio_sha256
from ttsbench.metrics.models import device_kind, package_versions, require, torch_device
from ttsbench.metrics.reference import ct2_whisper_signature
from ttsbench.plugins import ASR

#: faster-whisper versions whose `transcribe` this backend was checked to reproduce (docs/protocol.md)
CHECKED_VERSIONS = ("1.2.1",)
SEEDING = ("fallback sampling redone on fresh CTranslate2 workers seeded with "
           "sha256(audio sha256 : model key)[:8] (ttsbench)")


def resolve_compute_type(requested: str, device: str) -> str:
    """'auto' -> float16 on CUDA, float32 on CPU; anything else as given."""
    if requested != "auto":
        return requested
    return "float16" if device.startswith("cuda") else "float32"


def fallback_seed(audio: str, model_key: str) -> int:
    """The CTranslate2 seed of one utterance's fallback sampling: from its audio hash and the model key."""
    return int(hashlib.sha256(f"{audio}:{model_key}".encode()).hexdigest()[:8], 16)


def decode_workers(device: str, threads: int) -> int:
    """Concurrent beam passes: on the CPU two replicas when there are two threads (or cores) or more
    to split, else one; on CUDA one (the GPU runs one stream)."""
    total = threads or os.cpu_count() or 1
    return 2 if device == "cpu" and total >= 2 else 1


#: faster-whisper 1.2.1's fallback thresholds (TranscriptionOptions defaults, which the recipe keeps)
COMPRESSION_RATIO_MAX, LOG_PROB_MIN, NO_SPEECH_MIN = 2.4, -1.0, 0.6


def needs_fallback(segments: Sequence[Any]) -> bool:
    """Whether a greedy-temperature (T = 0 only) pass left a window that faster-whisper's full schedule
    would have sampled again: its `generate_with_fallback` rule on each segment's window statistics
    (too repetitive or too unlikely, unless the window is silence). A silent window that the pass
    skipped has no segment, and needed no fallback either."""
    return any((s.compression_ratio > COMPRESSION_RATIO_MAX or s.avg_logprob < LOG_PROB_MIN)
               and not (s.no_speech_prob > NO_SPEECH_MIN and s.avg_logprob < LOG_PROB_MIN) for s in segments)


def sampled(segments: Sequence[Any]) -> bool:
    """Whether any window fell back to sampling (a version without `Segment.temperature` counts as yes)."""
    return any(getattr(s, "temperature", 1.0) is None or getattr(s, "temperature", 1.0) > 0 for s in segments)


@ASR.register("faster-whisper")
class FasterWhisper(ASRBackend):
    """faster-whisper (CTranslate2) Whisper from a local model directory; beam search, fixed language."""

    libraries = ("faster-whisper", "ctranslate2", "av")
    extra = "offline"

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        require("faster_whisper", self.recipe, self.extra)
        device = torch_device(self.device)
        self.ct2_device = "cuda" if device.startswith("cuda") else "cpu"
        self.compute_type = resolve_compute_type(str(self.params.get("compute_type", "auto")), device)
        self.beam_size = int(self.params.get("beam_size", 5))
        self.language = str(self.params.get("language", "en"))
        self.threads = int(self.params.get("cpu_threads", 0))
        self.workers = decode_workers(self.ct2_device, self.threads)
        # the weights' hash, the decode parameters and the compute type (not the folder's path)
        self.model_key = hashlib.sha256(repr((self.weights_sha256, sorted(self.params.items()),
                                              self.compute_type)).encode()).hexdigest()[:16]
        self.fallbacks = 0  # utterances transcribed again with a seeded sampler (for tests and logs)
        version = package_versions(["faster-whisper"])["faster-whisper"]
        # on a checked version the first pass stops at T = 0 and `needs_fallback` says which files the
        # full schedule would sample; elsewhere the first pass runs the full schedule (then `sampled`)
        self.greedy_first = version in CHECKED_VERSIONS
        if version not in CHECKED_VERSIONS:
            warnings.warn(f"{self.recipe}: faster-whisper {version} was not checked against this recipe's "
                          f"decoding (checked: {', '.join(CHECKED_VERSIONS)}; F5-TTS pins 0.10.1)",
                          TTSBenchWarning, stacklevel=2)
        self.model = self.load()

    def load(self, workers: int | None = None) -> Any:
        """The WhisperModel: `workers` replicas splitting the recipe's threads (default self.workers)."""
        # lazy: an optional backend, imported only when this recipe or system runs
        from faster_whisper import WhisperModel

        workers = self.workers if workers is None else workers
        threads = self.threads // workers if self.threads else 0
        try:
            return WhisperModel(str(self.model_path), device=self.ct2_device, compute_type=self.compute_type,
                                cpu_threads=threads, num_workers=workers, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as err:  # ctranslate2 rejects a wrong or partial model
            raise self.load_error("a CTranslate2 Whisper model", err) from None

    @classmethod
    def signature(cls, model_path: Path, recipe: str) -> dict[str, Any]:
        return ct2_whisper_signature(model_path, recipe)

    def resolved(self) -> dict[str, Any]:
        return {"device": device_kind(self.device), "compute_type": self.compute_type, "seeding": SEEDING}

    def segments(self, model: Any, path: Path, **extra: Any) -> list[Any]:
        segments, _ = model.transcribe(str(path), beam_size=self.beam_size, language=self.language, **extra)
        return list(segments)

    def first_pass(self, path: Path) -> list[Any]:
        """The beam pass: at T = 0 only on a checked version (a file that needs sampling is decoded
        once, seeded, instead of twice), else with faster-whisper's whole temperature schedule."""
        return self.segments(self.model, path, **({"temperature": 0.0} if self.greedy_first else {}))

    def seeded(self, path: Path) -> list[Any]:
        """The utterance decoded on fresh worker threads whose samplers start from its own seed."""
        # lazy: an optional backend, imported only when this recipe or system runs
        import ctranslate2

        ctranslate2.set_random_seed(fallback_seed(audio_sha256(path), self.model_key))
        fresh = self.load(workers=1)  # as the serial loop: one replica with all the recipe's threads
        try:
            return self.segments(fresh, path)
        finally:
            del fresh

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        if self.workers > 1 and len(paths) > 1:
            with ThreadPoolExecutor(self.workers) as pool:  # CT2 releases the GIL: replicas run side by side
                first = list(pool.map(self.first_pass, paths))
        else:
            first = [self.first_pass(p) for p in paths]
        out = []
        for path, segments in zip(paths, first):
            if needs_fallback(segments) if self.greedy_first else sampled(segments):
                self.fallbacks += 1
                segments = self.seeded(path)
            out.append("".join(" " + s.text for s in segments).strip())  # F5: hypo += " " + segment.text
        return out
