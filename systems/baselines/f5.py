"""F5-TTS v1 Base, F5-TTS v0 Base and E2-TTS Base, in-process (`pip install "ttsbench[f5]"`).

Follows F5's evaluation path (f5_tts/eval/eval_infer_batch.py, f5-tts 1.1.22), not the `F5TTS.infer`
convenience path that clips prompts and chunks text: the upstream's own CFM + DiT/UNetT built from
its packaged config, EMA weights through its `load_checkpoint`, Vocos through its `load_vocoder`
from a local folder, and one `CFM.sample` over prompt text + target text with F5's duration rule
and prompt loudness rule (`f5_protocol.py`), Euler, NFE 32, CFG 2, sway -1. 24 kHz.

Seeding: `CFM.sample(seed=)` seeds torch's global RNG once per call, so items of one batch would
share a seed; we run batch 1 with the seed derived from (seed, utt_id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ttsbench.audio import read_audio
from ttsbench.errors import InputError, MissingDependencyError, first_line
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities
from ttsbench.systems.baselines.base import BaselineSystem
from ttsbench.systems.baselines.common import HubFiles, hub_env, item_seed, set_hub_env
from ttsbench.systems.baselines.f5_protocol import join_text, prompt_gain, rms, total_frames
from ttsbench.types import LoadContext, Prompt, SystemSpec

PIN = "f5-tts==1.1.22"
VOCOS = HubFiles("charactr/vocos-mel-24khz", ("config.yaml", "pytorch_model.bin"), subdir="vocos-mel-24khz")


def f5_imports(name: str) -> dict[str, Any]:
    """The upstream pieces the eval path uses, or one line naming the extra (or the broken import)."""
    try:
        # lazy: the upstream is an optional extra, imported only when an F5 system loads
        import torch
        import torchaudio
        import yaml
        from f5_tts.infer.utils_infer import load_checkpoint, load_vocoder
        from f5_tts.model import CFM, DiT, UNetT
        from f5_tts.model.utils import convert_char_to_pinyin, get_tokenizer
    except ImportError as err:
        raise MissingDependencyError(f"{name} needs {err.name}: pip install \"ttsbench[f5]\" ({PIN})") from None
    except OSError as err:  # torchaudio's PyPI build next to a CPU torch: libc10_cuda.so missing
        raise MissingDependencyError(f"{name}: torchaudio does not import: {first_line(err)}") from None
    return {"torch": torch, "torchaudio": torchaudio, "yaml": yaml, "CFM": CFM, "DiT": DiT, "UNetT": UNetT,
            "load_checkpoint": load_checkpoint, "load_vocoder": load_vocoder, "get_tokenizer": get_tokenizer,
            "pinyin": convert_char_to_pinyin}


class F5Family(BaselineSystem):
    """Shared by the three checkpoints; subclasses set `config` (the upstream's yaml) and `weights`."""

    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, max_batch=1)
    sample_rate = 24_000
    upstream = f"PyPI {PIN}"
    config: ClassVar[str] = ""
    protocol = {"path": "f5_tts/eval/eval_infer_batch.py (not F5TTS.infer)", "ode": "euler", "nfe": 32,
                "cfg": 2.0, "sway": -1.0, "speed": 1.0, "use_ema": True, "target_rms": 0.1,
                "duration": "prompt frames x (1 + target/prompt UTF-8 bytes), int() of the added part",
                "text": "prompt text (+ ' ' after a 1-byte last char) + target text, pinyin tokenizer"}

    @dataclass(frozen=True)
    class Options:
        nfe: int = option(32, "Euler steps (network calls per step x2 with CFG)", min=1)
        cfg: float = option(2.0, "classifier-free guidance strength (0 = off)", min=0)
        sway: float = option(-1.0, "sway sampling coefficient (none-equivalent: 0)")
        speed: float = option(1.0, "divides the duration rule's generated frames", above=0)

    def __init__(self, parts: dict[str, Any], model: Any, vocoder: Any, tokenizer: str, options: Any,
                 root: Path, info: dict[str, Any]) -> None:
        self.parts, self.model, self.vocoder, self.tokenizer = parts, model, vocoder, tokenizer
        self.options, self.root, self.info = options, root, info

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> F5Family:
        o = cls.parse_options(spec)
        root = cls.locate_weights(spec, ctx)
        set_hub_env(hub_env(ctx.allow_download))
        parts = f5_imports(spec.name)
        own = root / "model_config.yaml"  # a fine-tuned or test model's own config, else the packaged one
        cfg_text = own.read_text() if own.is_file() else files("f5_tts").joinpath(f"configs/{cls.config}.yaml").read_text()
        cfg = parts["yaml"].safe_load(cfg_text)["model"]
        mel = cfg["mel_spec"]
        vocab = root / "vocab.txt" if (root / "vocab.txt").is_file() else Path(
            str(files("f5_tts").joinpath("infer/examples/vocab.txt")))
        vocab_map, vocab_size = parts["get_tokenizer"](str(vocab), "custom")
        backbone = {"DiT": parts["DiT"], "UNetT": parts["UNetT"]}[cfg["backbone"]]
        model = parts["CFM"](
            transformer=backbone(**cfg["arch"], text_num_embeds=vocab_size, mel_dim=mel["n_mel_channels"]),
            mel_spec_kwargs={k: mel[k] for k in ("n_fft", "hop_length", "win_length", "n_mel_channels",
                                                 "target_sample_rate", "mel_spec_type")},
            odeint_kwargs={"method": "euler"}, vocab_char_map=vocab_map).to(ctx.device)
        ckpt = root / cls.weights[0].files[0]
        try:
            model = parts["load_checkpoint"](model, str(ckpt), ctx.device, dtype=None, use_ema=True).eval()
        except (RuntimeError, KeyError, OSError) as err:  # wrong shapes / keys: not this checkpoint
            raise InputError(f"{spec.name}: cannot load {ckpt}: {first_line(err)}") from None
        vocoder = parts["load_vocoder"]("vocos", is_local=True, local_path=str(root / VOCOS.subdir),
                                        device=ctx.device)
        info = {"config": str(own) if own.is_file() else cls.config, "checkpoint": cls.weights[0].files[0], "vocab": str(vocab),
                "vocab_sha256": hashlib.sha256(vocab.read_bytes()).hexdigest(), "tokenizer": cfg["tokenizer"],
                "f5_tts": _version("f5-tts"), "vocos": _version("vocos"),
                "torchaudio": getattr(parts["torchaudio"], "__version__", "unknown")}
        self = cls(parts, model, vocoder, cfg["tokenizer"], o, root, info)
        self.sample_rate = int(mel["target_sample_rate"])
        return self

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        return [self._one(p, item_seed(seed, p.utt_id)) for p in batch]

    def _one(self, prompt: Prompt, seed: int) -> np.ndarray:
        torch = self.parts["torch"]
        wav, sr = read_audio(prompt.prompt_wav)
        gain = prompt_gain(rms(wav))
        audio = torch.from_numpy(wav * np.float32(gain))[None]
        if sr != self.sample_rate:
            audio = self.parts["torchaudio"].transforms.Resample(sr, self.sample_rate)(audio)
        device = self.model.device
        mel = self.model.mel_spec(audio.to(device))  # (1, n_mels, frames)
        ref = int(mel.shape[-1])
        spaced, text = join_text(prompt.prompt_text, prompt.target_text)
        try:
            total = total_frames(ref, spaced, prompt.target_text, self.options.speed)
        except ValueError as err:
            raise InputError(f"{prompt.utt_id}: {err}") from None
        tokens = self.parts["pinyin"]([text], polyphone=True) if self.tokenizer == "pinyin" else [text]
        with torch.inference_mode():
            out, _ = self.model.sample(
                cond=mel.permute(0, 2, 1), text=tokens, duration=torch.tensor([total], device=device),
                lens=torch.tensor([ref], device=device), steps=self.options.nfe, cfg_strength=self.options.cfg,
                sway_sampling_coef=self.options.sway, seed=seed)
            gen = out[0, ref:total].unsqueeze(0).permute(0, 2, 1).to(torch.float32)
            audio_out = self.vocoder.decode(gen).cpu().reshape(-1).numpy()
        return (audio_out / gain).astype(np.float32)

    def resynthesize(self, wav: np.ndarray, sample_rate: int) -> np.ndarray | None:
        """The prompt through F5's mel and Vocos (SIM-r)."""
        torch = self.parts["torch"]
        audio = torch.from_numpy(np.asarray(wav, dtype=np.float32))[None]
        if sample_rate != self.sample_rate:
            audio = self.parts["torchaudio"].transforms.Resample(sample_rate, self.sample_rate)(audio)
        with torch.inference_mode():
            mel = self.model.mel_spec(audio.to(self.model.device)).to(torch.float32)
            return self.vocoder.decode(mel).cpu().reshape(-1).numpy().astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {**self.baseline_info(self.options, self.root), "adapter": "in-process", **self.info}


@SYSTEMS.register("f5-tts")
class F5TTS(F5Family):
    """F5-TTS v1 Base (SWivid, weights CC-BY-NC-4.0), F5's eval path: NFE 32, CFG 2, sway -1; 24 kHz."""

    config = "F5TTS_v1_Base"
    licence = "code MIT; SWivid/F5-TTS weights CC-BY-NC-4.0 (trained on Emilia)"
    weights = (HubFiles("SWivid/F5-TTS", ("F5TTS_v1_Base/model_1250000.safetensors",)), VOCOS)


@SYSTEMS.register("f5-tts-v0")
class F5TTSv0(F5Family):
    """F5-TTS v0 Base (the paper's model; weights CC-BY-NC-4.0), F5's eval path, NFE 32; 24 kHz."""

    config = "F5TTS_Base"
    licence = "code MIT; SWivid/F5-TTS weights CC-BY-NC-4.0 (trained on Emilia)"
    weights = (HubFiles("SWivid/F5-TTS", ("F5TTS_Base/model_1200000.safetensors",)), VOCOS)


@SYSTEMS.register("e2-tts")
class E2TTS(F5Family):
    """E2-TTS Base (F5's reproduction, weights CC-BY-NC-4.0), F5's eval path, NFE 32; 24 kHz."""

    config = "E2TTS_Base"
    licence = "code MIT; SWivid/E2-TTS weights CC-BY-NC-4.0 (trained on Emilia)"
    weights = (HubFiles("SWivid/E2-TTS", ("E2TTS_Base/model_1200000.safetensors",)), VOCOS)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"
