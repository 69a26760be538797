"""`sim-wavlm-ecapa`: SIM-o / SIM-r with the WavLM-large + ECAPA-TDNN verifier of seed-tts-eval and F5.

Reference: seed-tts-eval `cal_sim.sh` -> UniSpeech `verification.py` and F5-TTS `run_sim`:
`ECAPA_TDNN_SMALL(feat_dim=1024, feat_type="wavlm_large")` (WavLM-large from s3prl), then
`load_state_dict(torch.load(wavlm_large_finetune.pth)["model"], strict=False)`; audio loaded as is
(first channel), resampled to 16 kHz with `torchaudio.transforms.Resample` (sinc defaults), no trim,
no normalization; score = cosine of the two embeddings. seed-tts-eval reports the plain mean.

Here both files come from local paths and are SHA-256 hashed; the fine-tuned checkpoint must cover
every head weight, may override any WavLM weight, and may hold only the training-time
`loss_calculator.*` (AAM-softmax) weights besides: anything else is refused, never silently skipped.

Options (`ttsbench list metrics --options sim-wavlm-ecapa`): `model` (wavlm_large_finetune.pth) and
`wavlm` (wavlm_large.pt) paths, `sha256` and `wavlm_sha256` pins of their hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import soundfile as sf
import torch
import torch.nn.functional as F
from torch import Tensor

from ttsbench.errors import MissingModelError
from ttsbench.metrics.base import Metric, ModelOptions, Need
from ttsbench.metrics.cache import EmbeddingCache, audio_sha256
from ttsbench.metrics.checkpoints import load_checked, torch_load
from ttsbench.metrics.models import (
    ModelLocation,
    check_pin,
    device_kind,
    package_versions,
    require,
    sha256_file,
    torch_device,
)
from ttsbench.metrics.reference import ModelCheck, ReferenceModel, check_model
from ttsbench.metrics.resample import sinc_resample
from ttsbench.metrics.sim.ecapa import ECAPAConfig, ECAPAHead
from ttsbench.metrics.sim.wavlm import (
    WAVLM_DEFAULTS,
    WAVLM_LARGE,
    conv_layers,
    hf_config,
    original_to_hf,
    translate,
    weight_norm_names,
)
from ttsbench.metrics.stats import Statistic, sim_statistics, sim_values
from ttsbench.options import option
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

SAMPLE_RATE = 16_000
UPSTREAM_PREFIX = "feature_extract.model."  # where UniSpeech's ECAPA keeps the s3prl WavLM
TRAINING_ONLY = ("loss_calculator.",)  # AAM-softmax projection saved with the fine-tuned model


class SpeakerVerifier(ECAPAHead):
    """WavLM (transformers) + the ECAPA head: waveform (1, T) at 16 kHz -> embedding (1, emb_dim)."""

    def __init__(self, wavlm_config: Any, head: ECAPAConfig, normalize: bool) -> None:
        super().__init__(head)
        # lazy: an optional backend, imported only when this recipe or system runs
        from transformers import WavLMModel

        self.normalize = normalize
        self.wavlm = WavLMModel(wavlm_config)

    def embed(self, wav: Tensor) -> Tensor:
        if self.normalize:  # s3prl's expert: F.layer_norm(wav, wav.shape) per waveform
            wav = F.layer_norm(wav, wav.shape[-1:])
        out = self.wavlm(wav, output_hidden_states=True)
        # s3prl collects the input of each of the L layers, then the encoder output (after its final
        # LayerNorm when pre-LN). transformers' first L hidden states are those inputs in every
        # version; its last one is pre- or post-LN depending on the version, so take last_hidden_state.
        layers = self.wavlm.config.num_hidden_layers
        return self(torch.stack([*out.hidden_states[:layers], out.last_hidden_state], dim=0))


def read_checkpoints(wavlm_path: Path, finetune_path: Path, recipe: str) -> tuple[dict, dict]:
    """The s3prl WavLM checkpoint ({"cfg", "model"}) and the fine-tuned verifier's state dict."""
    pre = torch_load(wavlm_path, recipe)
    if not isinstance(pre, dict) or not {"cfg", "model"} <= set(pre):
        raise MissingModelError(f"{recipe}: {wavlm_path} is not an s3prl/UniSpeech WavLM checkpoint "
                                "(expected a dict with 'cfg' and 'model')")
    ft = torch_load(finetune_path, recipe)
    if not isinstance(ft, dict) or not isinstance(ft.get("model"), dict):
        raise MissingModelError(f"{recipe}: {finetune_path} has no 'model' state dict")
    return pre, ft["model"]


def head_config(state: dict[str, Any], recipe: str, path: Path) -> ECAPAConfig:
    """The ECAPA head's sizes, read from the shapes of the fine-tuned state dict."""
    try:
        convs = sum(1 for k in state if k.startswith("layer2.Res2Conv1dReluBn.convs.") and k.endswith(".weight"))
        return ECAPAConfig(
            feat_dim=int(state["layer1.conv.weight"].shape[1]), feat_num=int(state["feature_weight"].shape[0]),
            channels=int(state["layer1.conv.weight"].shape[0]), emb_dim=int(state["linear.weight"].shape[0]),
            cat_channels=int(state["conv.weight"].shape[0]),
            attention_channels=int(state["pooling.linear1.weight"].shape[0]),
            se_bottleneck=int(state["layer2.SE_Connect.linear1.weight"].shape[0]), scale=convs + 1 if convs > 1 else 1)
    except (KeyError, IndexError, AttributeError) as err:
        raise MissingModelError(f"{recipe}: {path} is not the expected checkpoint: no ECAPA head weight {err}") from None


def signature(wavlm_cfg: Mapping[str, Any], head: ECAPAConfig) -> dict[str, Any]:
    """The architecture signature of a WavLM + ECAPA verifier (what `reference_model` declares)."""
    c = {**WAVLM_DEFAULTS, **wavlm_cfg}
    return {"architecture": "WavLM + ECAPA-TDNN", "wavlm_layers": c["encoder_layers"], "wavlm_dim": c["encoder_embed_dim"],
            "wavlm_ffn": c["encoder_ffn_embed_dim"], "wavlm_heads": c["encoder_attention_heads"],
            "layer_norm_first": bool(c["layer_norm_first"]), "extractor_mode": c["extractor_mode"],
            "normalize_waveform": bool(c["normalize"]), "conv_feature_layers": [list(x) for x in conv_layers(
                str(c["conv_feature_layers"]))], "gated_relative_position_bias": bool(
                c["relative_position_embedding"] and c["gru_rel_pos"]), "ecapa": dict(head.__dict__)}


def build_verifier(pre: dict, finetuned: Mapping[str, Any], head: ECAPAConfig, *, recipe: str, wavlm_path: Path,
                   finetune_path: Path) -> SpeakerVerifier:
    """WavLM from its s3prl checkpoint, then the fine-tuned verifier on top, every key checked."""
    require("transformers", recipe, "hf")
    cfg = hf_config(pre["cfg"], recipe)
    model = SpeakerVerifier(cfg, head, normalize=bool(pre["cfg"].get("normalize", False)))
    load_checked(model.wavlm, translate(pre["model"], model.wavlm, recipe=recipe, path=wavlm_path),
                 recipe=recipe, path=wavlm_path)
    names = weight_norm_names(model.wavlm)
    state, unknown = {}, []
    for key, value in finetuned.items():
        if key.startswith(UPSTREAM_PREFIX):
            new = original_to_hf(key[len(UPSTREAM_PREFIX):], names)
            if new is None:
                unknown.append(key)
                continue
            key = f"wavlm.{new}"
        state[key] = value
    if unknown:
        raise MissingModelError(f"{recipe}: {finetune_path}: unknown WavLM key(s) {', '.join(sorted(unknown)[:4])}")
    load_checked(model, state, recipe=recipe, path=finetune_path, allowed_unexpected=TRAINING_ONLY,
                 may_be_missing=("wavlm.",))
    return model.eval()


def load_verifier(wavlm_path: Path, finetune_path: Path, recipe: str) -> SpeakerVerifier:
    """The verifier of two checkpoint files, its head sized by the fine-tuned file's shapes."""
    pre, finetuned = read_checkpoints(wavlm_path, finetune_path, recipe)
    return build_verifier(pre, finetuned, head_config(finetuned, recipe, finetune_path), recipe=recipe,
                          wavlm_path=wavlm_path, finetune_path=finetune_path)


def min_samples(cfg: Any) -> int:
    """The shortest input the conv feature encoder turns into one frame (400 for WavLM: 25 ms)."""
    n = 1
    for kernel, stride in reversed(list(zip(cfg.conv_kernel, cfg.conv_stride))):
        n = (n - 1) * stride + kernel
    return n


def read_first_channel(path: Path) -> tuple[np.ndarray, int]:
    """float32 samples of the first channel at the file's rate (librosa / torchaudio.load, channel 0)."""
    wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(wav[:, 0]), int(sr)


@METRICS.register("sim-wavlm-ecapa")
class WavLMECAPASIM(Metric):
    """SIM-o/SIM-r: WavLM-large + ECAPA-TDNN (wavlm_large_finetune.pth), torchaudio-sinc 16 kHz, cosine."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO | Need.PROMPT_AUDIO
    primary = "sim_o"
    comparable = True
    label = "SIM-o"
    files: ClassVar[tuple[str, str]] = ("wavlm_large_finetune.pth", "wavlm_large.pt")  # the released names
    reference_model: ClassVar[ReferenceModel] = ReferenceModel(
        "wavlm_large_finetune.pth (seed-tts-eval README) + s3prl wavlm_large.pt",
        "WavLM-large (24 layers x 1024) + ECAPA_TDNN_SMALL (512 channels, 256-dim embedding)",
        signature(WAVLM_LARGE, ECAPAConfig()),
        hash_source="huggingface.co/k2-fsa/TTS_eval_models (speaker_similarity/wavlm_large_finetune.pth) and "
                    "huggingface.co/s3prl/converted_ckpts (wavlm_large.pt): each Files page lists the LFS SHA256")
    finetune = ModelLocation(
        "sim-wavlm-ecapa", "model", "speaker_similarity/wavlm_large_finetune.pth",
        "the seed-tts-eval README (Google Drive id 1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP) or "
        "huggingface.co/k2-fsa/TTS_eval_models (speaker_similarity/wavlm_large_finetune.pth)",
        kind="file", hf_repo="k2-fsa/TTS_eval_models", hf_file="speaker_similarity/wavlm_large_finetune.pth")
    wavlm = ModelLocation(
        "sim-wavlm-ecapa", "wavlm", "speaker_similarity/wavlm_large/wavlm_large.pt",
        "https://huggingface.co/s3prl/converted_ckpts/resolve/main/wavlm_large.pt",
        kind="file", hf_repo="s3prl/converted_ckpts", hf_file="wavlm_large.pt")

    @dataclass(frozen=True)
    class Options(ModelOptions):
        model: Path | None = option(None, "wavlm_large_finetune.pth (default: under the cache dir)")
        sha256: str | None = option(None, "pin of wavlm_large_finetune.pth's SHA-256")
        wavlm: Path | None = option(None, "the s3prl wavlm_large.pt (default: under the cache dir)")
        wavlm_sha256: str | None = option(None, "pin of wavlm_large.pt's SHA-256")

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.pins = {"finetune": self.options.sha256, "wavlm": self.options.wavlm_sha256}
        self.model_check: ModelCheck | None = None
        self.device = "unresolved until setup"

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": self.registry_name, "version": self.version, "comparable": self.comparable,
                "reference": "seed-tts-eval cal_sim.sh (UniSpeech verification.py) and F5-TTS run_sim",
                "model": "WavLM-large (s3prl wavlm_large.pt) + ECAPA_TDNN_SMALL (wavlm_large_finetune.pth)",
                "model_check": self.model_check.fingerprint() if self.model_check else "not checked until setup",
                "weights_sha256": {k: (str(v) if v else "unverified until setup") for k, v in self.pins.items()},
                "device": device_kind(self.device) if self.device != "unresolved until setup" else self.device,
                "dtype": "float32",
                "audio": "soundfile float32, first channel, torchaudio transforms.Resample sinc to 16 kHz "
                         "(Hann, width 6, rolloff 0.99, float64 kernel stored float32), no trim",
                "libraries": package_versions(["transformers", "torch", "soundfile"]),
                "pair": "sim_o: output vs prompt wav; sim_r: output vs resynthesized prompt",
                "aggregation": "mean (95 % bootstrap CI over utterances, sim_r over those that have one)"}

    def setup(self, ctx: LoadContext) -> None:
        ft_path = self.finetune.resolve(self.options.model, ctx)
        wavlm_path = self.wavlm.resolve(self.options.wavlm, ctx)
        for name, path in (("finetune", ft_path), ("wavlm", wavlm_path)):
            actual = sha256_file(path, ctx.work_dir)
            check_pin(self.registry_name, path, actual, self.pins[name])
            self.pins[name] = actual
        pre, finetuned = read_checkpoints(wavlm_path, ft_path, self.registry_name)
        head = head_config(finetuned, self.registry_name, ft_path)
        digest = hashlib.sha256(f"{self.pins['finetune']}:{self.pins['wavlm']}".encode()).hexdigest()
        self.model_check = check_model(
            self.registry_name, self.reference_model, signature(pre["cfg"], head), ft_path, digest,
            dict(zip(self.files, (self.pins["finetune"], self.pins["wavlm"]))),
            allow_other=self.options.allow_other_model)
        if not self.model_check.comparable:
            self.comparable = False  # this run only: recorded and shown as not comparable
        self.device = torch_device(ctx.device)
        self.model = build_verifier(pre, finetuned, head, recipe=self.registry_name, wavlm_path=wavlm_path,
                                    finetune_path=ft_path).to(self.device)
        self.cache = EmbeddingCache(ctx.work_dir, self.fingerprint())

    def embedding(self, path: Path) -> Tensor:
        key = audio_sha256(path)
        vec = self.cache.get(key)
        if vec is None:
            wav, sr = read_first_channel(path)
            x = sinc_resample(torch.from_numpy(wav)[None], sr, SAMPLE_RATE, mode="transforms")
            if x.shape[-1] < min_samples(self.model.wavlm.config):
                raise ValueError(f"{path.name}: {x.shape[-1] / SAMPLE_RATE:.3f} s of audio, too short for WavLM")
            with torch.no_grad():
                vec = self.model.embed(x.to(self.device))[0].float().cpu().numpy()
            self.cache.put(key, vec)
        return torch.from_numpy(np.asarray(vec, dtype=np.float32))

    def cosine(self, a: Path, b: Path) -> float:
        return float(F.cosine_similarity(self.embedding(a)[None], self.embedding(b)[None])[0])

    def score(self, item: ScoreItem) -> dict[str, Any]:
        if item.prompt_wav is None:
            raise ValueError("no prompt wav to compare with")
        row: dict[str, Any] = {"sim_o": self.cosine(item.wav_path, item.prompt_wav), "sim_r": None}
        if item.resynth_prompt_wav is not None:
            row["sim_r"] = self.cosine(item.wav_path, item.resynth_prompt_wav)
        return row

    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return sim_statistics()

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return sim_values(rows)
