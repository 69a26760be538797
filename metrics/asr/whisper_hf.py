"""`hf-whisper`: Whisper through Hugging Face transformers, as seed-tts-eval's `run_wer.py` runs it.

Audio: soundfile (float64), mono required, `scipy.signal.resample` (FFT) to 16 kHz when the file is
at another rate. Features: `WhisperProcessor(wav, sampling_rate=16000)` (30 s log-mel window).
Text: `batch_decode(ids, skip_special_tokens=True)[0]`.

Decoding is pinned here instead of left to `model.generate`, whose Whisper path changed under the
same call: seed-tts-eval calls `generate(features, forced_decoder_ids=get_decoder_prompt_ids(
language="english", task="transcribe"))`, which transformers 5.x refuses, and transformers' newer
generate can split the output on timestamp tokens and decode the window again even in no-timestamps
mode (a tiny Whisper gave 23 tokens on 4.46 and a duplicated 52 on 5.24). `greedy_decode` is the
reference's semantics on transformers 4.40-4.46, written out:

  - fp32 weights; the encoder runs once; the decoder starts from the forced prompt
    <|startoftranscript|><|LANG|><|TASK|><|notimestamps|> (ids from the tokenizer, as
    `get_decoder_prompt_ids` gives them) and decodes one token per step with its key/value cache;
  - scores: the logits of the last position in float32; every step sets the generation config's
    `suppress_tokens` to -inf, and the first generated step also its `begin_suppress_tokens`
    (a space and end-of-text); nothing else (no timestamp rules, no fallback, no repetition rules);
  - greedy: argmax (first index on ties); stop after end-of-text or at the generation config's
    `max_length` tokens in all (448 for whisper-large-v3), prompt included.

`tests/unit/metrics/test_whisper_decode.py` checks this token for token against the goldens that
transformers 4.40.2 and 4.46.3's own `generate(forced_decoder_ids=...)` produced on a saved tiny
Whisper, and against the installed transformers' `generate` where that still takes the old call.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import soundfile as sf
import torch

from ttsbench.metrics.asr.base import ASRBackend
from ttsbench.metrics.models import device_kind, require
from ttsbench.metrics.reference import hf_whisper_signature
from ttsbench.metrics.resample import fft_resample
from ttsbench.plugins import ASR

SAMPLE_RATE = 16_000
DEFAULT_MAX_LENGTH = 448  # whisper-large-v3's generation_config max_length (= max_target_positions)


def generation_settings(model: Any) -> dict[str, Any]:
    """The values of the model's generation config that the reference's greedy decode reads."""
    gen = model.generation_config
    return {"max_length": int(getattr(gen, "max_length", None) or DEFAULT_MAX_LENGTH),
            "eos_token_id": int(gen.eos_token_id),
            "suppress_tokens": sorted(int(t) for t in (getattr(gen, "suppress_tokens", None) or [])),
            "begin_suppress_tokens": [int(t) for t in (getattr(gen, "begin_suppress_tokens", None) or [])]}


def language_token(language: str) -> str:
    """'english' / 'en' / '<|en|>' -> '<|en|>' (transformers' own name table, as get_decoder_prompt_ids uses)."""
    # lazy: an optional backend, imported only when this recipe or system runs
    from transformers.models.whisper.tokenization_whisper import LANGUAGES, TO_LANGUAGE_CODE

    name = language.lower()
    if name.startswith("<|") and name.endswith("|>"):
        return name
    if name in TO_LANGUAGE_CODE:
        return f"<|{TO_LANGUAGE_CODE[name]}|>"
    if name in LANGUAGES:
        return f"<|{name}|>"
    raise ValueError(f"unknown Whisper language {language!r}")


def prompt_ids(tokenizer: Any, start_token_id: int, language: str, task: str) -> list[int]:
    """<|startoftranscript|><|LANG|><|TASK|><|notimestamps|>, the ids as the tokenizer maps them."""
    rest = [language_token(language), f"<|{task}|>", "<|notimestamps|>"]
    ids = [int(tokenizer.convert_tokens_to_ids(t)) for t in rest]
    unknown = [t for t, i in zip(rest, ids) if i == tokenizer.unk_token_id]
    if unknown:
        raise ValueError(f"the tokenizer has no {', '.join(unknown)}")
    return [int(start_token_id), *ids]


def cache_argument(model: Any) -> str:
    """The name of the key/value cache in the model's forward and output: `past_key_values` in
    transformers 4.x-5.2x, `cache` from the release that renamed it."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


@torch.no_grad()
def greedy_decode(model: Any, features: torch.Tensor, prompt: Sequence[int], settings: dict[str, Any]) -> list[int]:
    """The reference's greedy Whisper decode of one utterance (module docstring): prompt + tokens (+ EOT)."""
    device = features.device
    encoder_out = model.get_encoder()(features, return_dict=True).last_hidden_state
    tokens = list(prompt)
    suppress = torch.tensor(settings["suppress_tokens"], dtype=torch.long, device=device)
    begin = torch.tensor(settings["begin_suppress_tokens"], dtype=torch.long, device=device)
    step_input = torch.tensor([tokens], dtype=torch.long, device=device)
    cache_arg = cache_argument(model)
    past = None
    while len(tokens) < settings["max_length"]:
        out = model(encoder_outputs=(encoder_out,), decoder_input_ids=step_input, use_cache=True, return_dict=True,
                    **{cache_arg: past})
        scores = out.logits[0, -1, :].to(dtype=torch.float32, copy=True)
        if suppress.numel():
            scores[suppress] = -float("inf")
        if len(tokens) == len(prompt) and begin.numel():
            scores[begin] = -float("inf")
        nxt = int(torch.argmax(scores))
        tokens.append(nxt)
        if nxt == settings["eos_token_id"]:
            break
        past = out[cache_arg]
        step_input = torch.tensor([[nxt]], dtype=torch.long, device=device)
    return tokens


@ASR.register("hf-whisper")
class HFWhisper(ASRBackend):
    """transformers Whisper, fp32, the reference's greedy decode with forced language and task."""

    libraries = ("transformers", "tokenizers", "torch", "scipy", "soundfile")
    extra = "hf"

    def __init__(self, model_path: Path, **kwargs) -> None:
        super().__init__(model_path, **kwargs)
        require("transformers", self.recipe, self.extra)
        # lazy: an optional backend, imported only when this recipe or system runs
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.load_transformers(WhisperProcessor, WhisperForConditionalGeneration, "a transformers Whisper model")
        language = str(self.params.get("language", "english"))
        task = str(self.params.get("task", "transcribe"))
        try:
            self.settings = generation_settings(self.model)
            self.prompt = prompt_ids(self.processor.tokenizer, self.model.generation_config.decoder_start_token_id,
                                     language, task)
        except (ValueError, TypeError, AttributeError) as err:
            raise self.load_error("a transformers Whisper model", err) from None

    @classmethod
    def signature(cls, model_path: Path, recipe: str) -> dict[str, Any]:
        return hf_whisper_signature(model_path, recipe)

    def resolved(self) -> dict[str, Any]:
        return {"device": device_kind(self.device), "dtype": "float32",
                "decoding": {"method": "greedy, the reference's generate semantics (ttsbench loop)",
                             "prompt": self.prompt, **self.settings}}

    def load_audio(self, path: Path):
        wav, sr = sf.read(str(path))  # float64, as the reference reads it
        if wav.ndim != 1:
            # seed-tts-eval hands the (samples, channels) array to the processor, which reads it as a
            # batch of 2-sample clips: no meaningful transcript comes out (an out-of-memory error on a GPU)
            raise ValueError(f"{path}: {wav.shape[1]} channels; seed-tts-eval reads only mono files (a stereo "
                             "array becomes a batch of 2-sample clips there), so this recipe needs mono audio")
        return fft_resample(wav, sr, SAMPLE_RATE)

    def token_ids(self, path: Path) -> list[int]:
        """The reference's decoded ids of one file (prompt included)."""
        feats = self.processor(self.load_audio(path), sampling_rate=SAMPLE_RATE,
                               return_tensors="pt").input_features.to(self.dev, torch.float32)
        return greedy_decode(self.model, feats, self.prompt, self.settings)

    def transcribe(self, paths: Sequence[Path]) -> list[str]:
        return [self.processor.batch_decode([self.token_ids(p)], skip_special_tokens=True)[0] for p in paths]
