"""WER recipes: ASR backend + normalizer + aggregation, pinned in one versioned fingerprint.

Every row keeps the sufficient statistics of its alignment (S, D, I, N, hits, the raw and
normalized texts), so macro and micro WER, the fail rate, S/D/I rates and bootstrap CIs all come
from stored rows (`ttsbench.metrics.stats`). Transcripts are cached by audio content and ASR
fingerprint (`ttsbench.metrics.cache`): a new normalizer re-scores without running ASR again.

Published recipes (comparable = True):

  seedtts-en  openai/whisper-large-v3, transformers, fp32 greedy, English forced; seedtts-en text;
              macro mean of per-utterance WER (seed-tts-eval `run_wer.py` + `average_wer.py`).
  seedtts-zh  SeACo-Paraformer (funasr), zhconv to simplified; seedtts-zh text (one token per
              character: a CER); macro mean (seed-tts-eval, lang=zh).
  f5-en       Systran/faster-whisper-large-v3, beam 5, language en; f5-en text; macro mean
              (F5-TTS `eval_seedtts_testset.py` / `eval_librispeech_test_clean.py`).
  hubert-en   facebook/hubert-large-ls960-ft, greedy CTC; hubert-en text; micro (corpus) WER
              (ZipVoice `eval/wer/hubert.py`; LibriSpeech test-clean subset A protocol).

Options (`--metrics f5-en:model=PATH,beam_size=5`; `ttsbench list metrics --options f5-en`): every
recipe takes `model` (the ASR model's path), `sha256` (a pin of its weights) and `allow_other_model`
(score a model whose architecture is not the reference model's, recorded as not comparable); each
adds its backend's decode parameters with the published values as defaults:

  seedtts-en  language=english, task=transcribe
  seedtts-zh  batch_size_s=300
  f5-en       beam_size=5, language=en, compute_type=auto, cpu_threads=0
  hubert-en   none
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import jiwer
import pandas as pd

from ttsbench.metrics.base import Metric, ModelOptions, Need
from ttsbench.metrics.cache import TranscriptCache, audio_sha256
from ttsbench.metrics.models import ModelLocation, check_pin, digest_of, package_versions, weight_hashes
from ttsbench.metrics.reference import ModelCheck, ReferenceModel, check_model
from ttsbench.metrics.stats import Statistic, aggregate, wer_statistics
from ttsbench.metrics.text import TextNormalizer, get_normalizer
from ttsbench.options import option
from ttsbench.plugins import ASR, METRICS
from ttsbench.types import LoadContext, OptionValue, ScoreItem

COMMON_OPTIONS = tuple(f.name for f in fields(ModelOptions))  # every other option is a decode parameter


def word_counts(ref_norm: str, hyp_norm: str) -> dict[str, Any]:
    """S, D, I, N (= reference tokens), hits and the per-utterance WER of one alignment (jiwer).

    Both strings are normalized token sequences joined by single spaces. An empty reference has no
    defined WER and raises ValueError (the row is stored as failed, with this reason).
    """
    n = len(ref_norm.split(" ")) if ref_norm else 0
    if n == 0:
        raise ValueError("the reference text is empty after normalization")
    if not hyp_norm:
        return {"S": 0, "D": n, "I": 0, "N": n, "hits": 0, "utt_wer": 1.0}
    out = jiwer.process_words(ref_norm, hyp_norm)
    s, d, i, hits = out.substitutions, out.deletions, out.insertions, out.hits
    if hits + s + d != n:  # a tab inside a token would make jiwer and us disagree on N
        raise ValueError(f"token count mismatch: jiwer saw {hits + s + d} reference tokens, expected {n}")
    return {"S": s, "D": d, "I": i, "N": n, "hits": hits, "utt_wer": (s + d + i) / n}


class WERRecipe(Metric):
    """Base of every WER recipe. Subclasses set the class attributes; nothing else is needed.

    Class attributes:
        normalizer: name of a registered TextNormalizer (NORMALIZERS).
        asr: name of the ASR backend (ASR registry).
        Options: `model` and `sha256` (ModelOptions), plus the backend's decode parameters as fields
            whose defaults are the recipe's published values (`params` holds them, typed).
        model_id: the published model the recipe names (e.g. "openai/whisper-large-v3").
        reference_model: its architecture signature and known hashes, checked on setup
            (`ttsbench.metrics.reference`); None: nothing to check.
        location: where the model is looked for and where users get it.
        reference: the reference implementation reproduced.
        aggregation: "macro" (mean of per-utterance WER) or "micro" (corpus WER); sets `primary`.
    """

    higher_is_better = False
    needs = Need.AUDIO | Need.TARGET_TEXT
    primary = "wer_macro"
    label = "WER (%)"
    normalizer: ClassVar[str] = ""
    asr: ClassVar[str] = ""
    Options: ClassVar[type] = ModelOptions
    model_id: ClassVar[str] = ""
    reference_model: ClassVar[ReferenceModel | None] = None
    location: ClassVar[ModelLocation | None] = None
    reference: ClassVar[str] = ""
    aggregation: ClassVar[str] = "macro"
    batch: ClassVar[int] = 8  # files handed to the backend per call (one by one inside non-batchable ones)

    def __init__(self, options: Mapping[str, OptionValue] | None = None) -> None:
        super().__init__(options)
        self.params: dict[str, Any] = {f.name: getattr(self.options, f.name) for f in fields(self.options)
                                       if f.name not in COMMON_OPTIONS}
        self.text: TextNormalizer = get_normalizer(self.normalizer)
        self.weights_sha256: str | None = self.options.sha256
        self.backend: Any = None
        self.cache: TranscriptCache | None = None
        self.model_check: ModelCheck | None = None

    # -- recipe definition -------------------------------------------------------------------
    def asr_fingerprint(self) -> dict[str, Any]:
        """What moves the transcripts (not the normalizer): the cache key of this recipe's ASR. The values
        only known once loaded (device kind, dtype or compute type, decoding, seeding) are "resolved"."""
        return {"model": self.model_id, "weights_sha256": self.weights_sha256 or "unverified until setup",
                **ASR.get(self.asr).describe(self.params),
                "resolved": self.backend.resolved() if self.backend is not None else "unresolved until setup"}

    def fingerprint(self) -> dict[str, Any]:
        check = self.model_check.fingerprint() if self.model_check else \
            ("not checked until setup" if self.reference_model else None)
        return {"recipe": self.registry_name, "version": self.version, "comparable": self.comparable,
                "reference": self.reference, "model_check": check, "asr": self.asr_fingerprint(),
                "text": self.text.fingerprint(),
                "alignment": {"tool": "jiwer default word transform", **package_versions(["jiwer"])},
                "aggregation": f"{self.aggregation} ({self.primary}, percent)"}

    def resolve_model(self, ctx: LoadContext) -> Path:
        assert self.location is not None, f"{type(self).__name__} sets no model location"
        return self.location.resolve(self.options.model, ctx)

    # -- running -----------------------------------------------------------------------------
    def setup(self, ctx: LoadContext) -> None:
        path = self.resolve_model(ctx)
        backend_cls = ASR.get(self.asr)
        hashes = weight_hashes(path, ctx.work_dir)
        actual = digest_of(path, hashes)
        check_pin(self.registry_name, path, actual, self.weights_sha256)
        self.weights_sha256 = actual
        if self.reference_model is not None:  # before loading: a wrong 3 GB model is refused in a second
            self.model_check = check_model(
                self.registry_name, self.reference_model, backend_cls.signature(path, self.registry_name), path,
                actual, hashes, allow_other=self.options.allow_other_model)
            if not self.model_check.comparable:
                self.comparable = False  # this run only: recorded and shown as not comparable
        self.backend = backend_cls(path, device=ctx.device, recipe=self.registry_name, params=self.params,
                                   weights_sha256=actual)
        self.cache = TranscriptCache(ctx.work_dir, self.asr_fingerprint())

    def transcripts(self, paths: Sequence[Path]) -> list[str]:
        """Raw ASR text per file, from the cache where the same audio was transcribed before."""
        if self.backend is None or self.cache is None:
            raise RuntimeError(f"{self.registry_name}: setup() was not called")
        keys = [audio_sha256(p) for p in paths]
        todo = {}
        for key, path in zip(keys, paths):
            if self.cache.get(key) is None and key not in todo:
                todo[key] = path
        items = list(todo.items())
        fresh: dict[str, str] = {}
        for start in range(0, len(items), self.batch):
            chunk = items[start:start + self.batch]
            texts = self.backend.transcribe([p for _, p in chunk])
            done = {k: t for (k, _), t in zip(chunk, texts)}
            self.cache.put(done)  # per chunk: an interrupted run keeps what it transcribed
            fresh.update(done)
        return [fresh[k] if k in fresh else self.cache.get(k) or "" for k in keys]

    def row(self, target_text: str, hyp_raw: str) -> dict[str, Any]:
        """One score row from the reference text and the raw transcript."""
        ref_norm = self.text.normalize(target_text)
        hyp_norm = self.text.normalize(hyp_raw, hypothesis=True)
        return {**word_counts(ref_norm, hyp_norm), "ref_raw": target_text, "hyp_raw": hyp_raw,
                "ref_norm": ref_norm, "hyp_norm": hyp_norm}

    def score_batch(self, items: Sequence[ScoreItem]) -> list[dict[str, Any]]:
        texts = self.transcripts([i.wav_path for i in items])
        return [self.row(i.target_text, t) for i, t in zip(items, texts)]

    def score(self, item: ScoreItem) -> dict[str, Any]:
        return self.score_batch([item])[0]

    # -- corpus values -----------------------------------------------------------------------
    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return wer_statistics()

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return aggregate(rows, self.statistics())


WHISPER_LARGE_V3 = {"architecture": "whisper", "n_mels": 128, "vocab_size": 51866, "multilingual": True,
                    "encoder_layers": 32, "decoder_layers": 32, "d_model": 1280}
HF_LFS_HASHES = "the model's Files page on huggingface.co lists each LFS file's SHA256"


def _hf(recipe: str, repo: str, required: tuple[str, ...]) -> ModelLocation:
    return ModelLocation(recipe, "model", repo, f"https://huggingface.co/{repo}", required=required, hf_repo=repo)


@dataclass(frozen=True)
class FasterWhisperOptions(ModelOptions):
    """Decode parameters of the faster-whisper backend; defaults: F5-TTS's."""

    beam_size: int = option(5, "beam width", min=1)
    language: str = option("en", "decoding language (Whisper code)")
    compute_type: str = option("auto", "CTranslate2 compute type (auto: float16 on CUDA, float32 on CPU)")
    cpu_threads: int = option(0, "CTranslate2 CPU threads (0: its default)", min=0)


@METRICS.register("seedtts-en")
class SeedTTSEn(WERRecipe):
    """Seed-TTS eval English WER: HF whisper-large-v3 fp32 greedy, punctuation but ' deleted, macro mean."""

    comparable = True
    normalizer = "seedtts-en"
    asr = "hf-whisper"

    @dataclass(frozen=True)
    class Options(ModelOptions):
        language: str = option("english", "Whisper decoding language (transformers name)")
        task: str = option("transcribe", "Whisper task", choices=("transcribe", "translate"))

    model_id = "openai/whisper-large-v3"
    reference_model = ReferenceModel(
        model_id, "Whisper large-v3 (128 mels, multilingual)", {**WHISPER_LARGE_V3, "attention_heads": 20},
        hash_source=f"{HF_LFS_HASHES} (model.safetensors)")
    location = _hf("seedtts-en", "openai/whisper-large-v3", ("config.json", "preprocessor_config.json"))
    reference = "BytedanceSpeech/seed-tts-eval run_wer.py + average_wer.py (lang=en)"


@METRICS.register("seedtts-zh")
class SeedTTSZh(WERRecipe):
    """Seed-TTS eval Mandarin CER: funasr SeACo-Paraformer, zhconv, one token per character, macro mean."""

    comparable = True
    label = "CER (%)"
    normalizer = "seedtts-zh"
    asr = "paraformer"

    @dataclass(frozen=True)
    class Options(ModelOptions):
        batch_size_s: int = option(300, "seconds of audio per funasr batch", min=1)

    model_id = "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch"
    reference_model = ReferenceModel(  # values: funasr/models/seaco_paraformer/template.yaml, the vocab of the id
        model_id, "SeACo-Paraformer large (SANM encoder 50 x 512, decoder 16 blocks, 8404 tokens)",
        {"architecture": "SeacoParaformer", "encoder": "SANMEncoder", "encoder_dim": 512, "encoder_blocks": 50,
         "attention_heads": 4, "ffn_dim": 2048, "decoder_blocks": 16, "n_mels": 80, "lfr": [7, 6],
         "vocab_size": 8404},
        hash_source="the model's file list on modelscope.cn (model.pt), or its Hugging Face mirror funasr/paraformer-zh")
    location = ModelLocation(
        "seedtts-zh", "model", model_id,
        f"https://modelscope.cn/models/{model_id} (Hugging Face mirror: funasr/paraformer-zh)",
        required=("config.yaml", "model.pt"), hf_repo="funasr/paraformer-zh")
    reference = "BytedanceSpeech/seed-tts-eval run_wer.py + average_wer.py (lang=zh), funasr 'paraformer-zh'"


@METRICS.register("f5-en")
class F5En(WERRecipe):
    """F5-TTS English WER: faster-whisper large-v3, beam 5, all punctuation deleted, macro mean."""

    comparable = True
    normalizer = "f5-en"
    asr = "faster-whisper"
    Options = FasterWhisperOptions
    model_id = "Systran/faster-whisper-large-v3"
    reference_model = ReferenceModel(model_id, "Whisper large-v3 (128 mels, multilingual)", WHISPER_LARGE_V3,
                                     hash_source=f"{HF_LFS_HASHES} (model.bin)")
    location = _hf("f5-en", "Systran/faster-whisper-large-v3", ("model.bin", "tokenizer.json"))
    reference = "SWivid/F5-TTS src/f5_tts/eval/utils_eval.py run_asr_wer (lang=en)"


@METRICS.register("hubert-en")
class HubertEn(WERRecipe):
    """LibriSpeech subset-A WER: hubert-large-ls960-ft greedy CTC, ZipVoice text rule, micro (corpus) WER."""

    comparable = True
    primary = "wer_micro"
    aggregation = "micro"
    normalizer = "hubert-en"
    asr = "hf-ctc"
    model_id = "facebook/hubert-large-ls960-ft"
    reference_model = ReferenceModel(
        model_id, "HuBERT-large CTC (24 layers x 1024, 32-letter vocabulary)",
        {"architecture": "hubert", "head": "CTC", "hidden_size": 1024, "num_hidden_layers": 24,
         "num_attention_heads": 16, "intermediate_size": 4096, "vocab_size": 32, "do_stable_layer_norm": True,
         "feat_extract_norm": "layer"},
        hash_source=f"{HF_LFS_HASHES} (model.safetensors or pytorch_model.bin, whichever the folder holds)")
    location = _hf("hubert-en", "facebook/hubert-large-ls960-ft", ("config.json", "preprocessor_config.json"))
    reference = "k2-fsa/ZipVoice zipvoice/eval/wer/hubert.py"
