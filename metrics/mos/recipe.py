"""`utmos22-strong`: SpeechMOS's UTMOS22 strong learner from a local checkpoint, strictly loaded.

Reference: F5-TTS `eval_utmos.py` / ZipVoice `eval/mos/utmos.py` call
`torch.hub.load("tarepan/SpeechMOS:v1.2.0", "utmos22_strong")` and score each file read mono at its
native rate (`predictor(wav[None], sr)`); the model resamples to 16 kHz with
`torchaudio.functional.resample` (our `sinc_resample(mode="functional")`). Aggregate: plain mean over
the listed utterances (not an rglob of a folder, as F5 does).

Options: `model` (the checkpoint's path), `sha256` (a pin of its hash) and `allow_other_model` (score a
checkpoint of other sizes, recorded as not comparable; see `ttsbench.metrics.reference`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from ttsbench.errors import MissingModelError
from ttsbench.metrics.base import Metric, ModelOptions, Need
from ttsbench.metrics.cache import EmbeddingCache, audio_sha256
from ttsbench.metrics.checkpoints import load_checked, torch_load
from ttsbench.metrics.models import (
    ModelLocation,
    check_pin,
    device_kind,
    package_versions,
    sha256_file,
    torch_device,
)
from ttsbench.metrics.mos.utmos22 import UTMOS22Strong, UTMOSConfig, min_samples
from ttsbench.metrics.reference import ModelCheck, ReferenceModel, check_model
from ttsbench.metrics.stats import Statistic, aggregate, mean_of
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

CHECKPOINT = "utmos22_strong_step7459_v1.pt"


def read_state(path: Path, recipe: str) -> dict[str, torch.Tensor]:
    """The plain state dict at `path` (one line if it is anything else)."""
    state = torch_load(path, recipe)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        top = ", ".join(sorted(map(str, state))[:4]) if isinstance(state, dict) else type(state).__name__
        raise MissingModelError(f"{recipe}: {path} is not the expected checkpoint: not a plain state dict ({top})")
    return state


def signature(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The architecture a UTMOS22-strong-layout state dict shows (sizes from its tensors' shapes)."""
    def shape(key: str, dim: int) -> int | None:
        return int(state[key].shape[dim]) if key in state and state[key].ndim > dim else None

    convs = sorted(int(k.split(".")[3]) for k in state
                   if k.startswith("wav2vec2.feature_extractor.conv_layers.") and k.endswith(".0.weight"))
    layers = {k.split(".")[3] for k in state if k.startswith("wav2vec2.encoder.layers.")}
    dim, per_group = shape("wav2vec2.post_extract_proj.weight", 0), shape("wav2vec2.encoder.pos_conv.0.weight_v", 1)
    return {"architecture": "UTMOS22 strong" if any(k.startswith("wav2vec2.") for k in state) else "unknown model",
            "conv_dim": shape("wav2vec2.feature_extractor.conv_layers.0.0.weight", 0),
            "conv_kernels": [shape(f"wav2vec2.feature_extractor.conv_layers.{i}.0.weight", 2) for i in convs],
            "ssl_dim": shape("wav2vec2.post_extract_proj.weight", 0), "ssl_layers": len(layers),
            "ffn_dim": shape("wav2vec2.encoder.layers.0.fc1.weight", 0),
            "pos_kernel": shape("wav2vec2.encoder.pos_conv.0.weight_v", 2),
            "pos_groups": dim // per_group if dim and per_group else None, "domain_dim": shape("domain_emb", 1), "judge_dim": shape("judge_emb", 1),
            "rnn_hidden": shape("blstm.weight_hh_l0", 1), "proj_hidden": shape("projection.0.weight", 0)}


def config_of(found: dict[str, Any], recipe: str, path: Path) -> UTMOSConfig:
    """A config for another model's shapes (allow_other_model). The checkpoint does not store the attention
    heads or the conv strides: the released model's conventions are assumed (64-wide heads; stride 5 for
    the 10-wide first kernel, 2 otherwise), and recorded in the fingerprint's `found` signature."""
    if any(v is None for v in found.values()) or not found["conv_kernels"]:
        raise MissingModelError(f"{recipe}: {path} is not a UTMOS22-strong-layout checkpoint "
                                f"(no {', '.join(k for k, v in found.items() if v is None)})")
    return UTMOSConfig(conv_dim=found["conv_dim"],
                       conv_layers=tuple((k, 5 if k == 10 else 2) for k in found["conv_kernels"]),
                       ssl_dim=found["ssl_dim"], ffn_dim=found["ffn_dim"], heads=max(1, found["ssl_dim"] // 64),
                       layers=found["ssl_layers"], pos_kernel=found["pos_kernel"], pos_groups=found["pos_groups"],
                       domain_dim=found["domain_dim"], judge_dim=found["judge_dim"], rnn_hidden=found["rnn_hidden"],
                       proj_hidden=found["proj_hidden"])


def load_utmos(path: Path, cfg: UTMOSConfig, recipe: str = "utmos22-strong",
               state: dict[str, torch.Tensor] | None = None) -> UTMOS22Strong:
    """Build the model for `cfg` and load the plain state dict at `path`, every key checked."""
    state = read_state(path, recipe) if state is None else state
    model = UTMOS22Strong(cfg)
    load_checked(model, state, recipe=recipe, path=path)
    return model.eval()


def reference_signature(cfg: UTMOSConfig) -> dict[str, Any]:
    """The signature a UTMOS22 strong learner of `cfg`'s sizes shows (what `reference_model` declares)."""
    return {"architecture": "UTMOS22 strong", "conv_dim": cfg.conv_dim, "conv_kernels": [k for k, _ in cfg.conv_layers],
            "ssl_dim": cfg.ssl_dim, "ssl_layers": cfg.layers, "ffn_dim": cfg.ffn_dim, "pos_kernel": cfg.pos_kernel,
            "pos_groups": cfg.pos_groups, "domain_dim": cfg.domain_dim, "judge_dim": cfg.judge_dim,
            "rnn_hidden": cfg.rnn_hidden, "proj_hidden": cfg.proj_hidden}


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    """float32, channels averaged (librosa.load(mono=True) as F5 reads it), native rate."""
    wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return wav.mean(axis=1).astype(np.float32), int(sr)


@METRICS.register("utmos22-strong")
class UTMOS22StrongMOS(Metric):
    """UTMOS22 strong learner (SpeechMOS v1.2.0 weights) from a local .pt, strict keys, mean MOS."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO
    primary = "utmos"
    comparable = True
    label = "UTMOS"
    config: ClassVar[UTMOSConfig] = UTMOSConfig()
    reference_model: ClassVar[ReferenceModel] = ReferenceModel(
        f"tarepan/SpeechMOS v1.0.0 release asset {CHECKPOINT}",
        "UTMOS22 strong (wav2vec 2.0 base: 12 layers x 768; BLSTM 512; projection 2048)",
        reference_signature(UTMOSConfig()),
        hash_source="the SpeechMOS v1.0.0 release page on GitHub, or huggingface.co/k2-fsa/TTS_eval_models "
                    f"(mos/{CHECKPOINT}: its Files page lists the LFS SHA256)")
    Options = ModelOptions  # model: the .pt file; sha256: its pin; allow_other_model
    location = ModelLocation(  # the layout of k2-fsa/TTS_eval_models, which mirrors the release asset
        "utmos22-strong", "model", f"mos/{CHECKPOINT}",
        f"https://github.com/tarepan/SpeechMOS/releases/download/v1.0.0/{CHECKPOINT} "
        f"(mirror: huggingface.co/k2-fsa/TTS_eval_models, mos/{CHECKPOINT})", kind="file",
        hf_repo="k2-fsa/TTS_eval_models", hf_file=f"mos/{CHECKPOINT}")

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.weights_sha256: str | None = self.options.sha256
        self.model_check: ModelCheck | None = None
        self.model_config = self.config
        self.device = "unresolved until setup"

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": self.registry_name, "version": self.version, "comparable": self.comparable,
                "reference": "tarepan/SpeechMOS v1.2.0 utmos22_strong (as F5-TTS eval_utmos.py calls it)",
                "model": CHECKPOINT, "weights_sha256": self.weights_sha256 or "unverified until setup",
                "model_check": self.model_check.fingerprint() if self.model_check else "not checked until setup",
                "architecture": self.model_config.__dict__ if self.model_config != UTMOSConfig()
                else "UTMOS22 strong (released)",
                "device": device_kind(self.device) if self.device != "unresolved until setup" else self.device,
                "dtype": "float32",
                "audio": "soundfile float32, channel mean, native rate; torchaudio functional sinc resample "
                         "to 16 kHz (width 6, rolloff 0.99, Hann, float32 kernel)",
                "libraries": package_versions(["torch", "soundfile"]),
                "aggregation": "mean over listed utterances (95 % bootstrap CI)"}

    def setup(self, ctx: LoadContext) -> None:
        path = self.location.resolve(self.options.model, ctx)
        actual = sha256_file(path, ctx.work_dir)
        check_pin(self.registry_name, path, actual, self.weights_sha256)
        self.weights_sha256 = actual
        state = read_state(path, self.registry_name)
        found = signature(state)
        if found["architecture"] == "UTMOS22 strong" and None in found.values():  # a damaged file, not a model:
            load_utmos(path, self.config, self.registry_name, state)  # its missing keys, named in one line
        self.model_check = check_model(self.registry_name, self.reference_model, found, path, actual,
                                       {CHECKPOINT: actual}, allow_other=self.options.allow_other_model)
        if not self.model_check.comparable:
            self.comparable = False  # this run only: recorded and shown as not comparable
            self.model_config = config_of(found, self.registry_name, path)
        self.device = torch_device(ctx.device)
        self.model = load_utmos(path, self.model_config, self.registry_name, state).to(self.device)
        self.cache = EmbeddingCache(ctx.work_dir, self.fingerprint())

    def predict(self, path: Path) -> float:
        key = audio_sha256(path)
        hit = self.cache.get(key)
        if hit is not None:
            return float(hit[0])
        wav, sr = read_mono(path)
        if len(wav) * 16_000 / sr < min_samples(self.model_config):
            raise ValueError(f"audio is {len(wav) / sr:.3f} s long, too short for UTMOS")
        with torch.no_grad():
            score = float(self.model(torch.from_numpy(wav)[None].to(self.device), sr)[0])
        self.cache.put(key, np.array([score], dtype=np.float32))
        return score

    def score(self, item: ScoreItem) -> dict[str, Any]:
        return {"utmos": self.predict(item.wav_path)}

    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return {"utmos": mean_of("utmos")}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return aggregate(rows, self.statistics())
