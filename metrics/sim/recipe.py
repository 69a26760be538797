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

from dataclasses import dataclass, replace
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
    package_versions,
    require,
    sha256_file,
    torch_device,
)
from ttsbench.metrics.resample import sinc_resample
from ttsbench.metrics.sim.ecapa import ECAPAConfig, ECAPAHead
from ttsbench.metrics.sim.wavlm import hf_config, original_to_hf, translate, weight_norm_names
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


def load_verifier(wavlm_path: Path, finetune_path: Path, head: ECAPAConfig, recipe: str) -> SpeakerVerifier:
    """WavLM from its s3prl checkpoint, then the fine-tuned verifier on top, every key checked."""
    require("transformers", recipe, "hf")
    pre = torch_load(wavlm_path, recipe)
    if not isinstance(pre, dict) or not {"cfg", "model"} <= set(pre):
        raise MissingModelError(f"{recipe}: {wavlm_path} is not an s3prl/UniSpeech WavLM checkpoint "
                                "(expected a dict with 'cfg' and 'model')")
    cfg = hf_config(pre["cfg"], recipe)
    head = replace(head, feat_dim=cfg.hidden_size, feat_num=cfg.num_hidden_layers + 1)
    model = SpeakerVerifier(cfg, head, normalize=bool(pre["cfg"].get("normalize", False)))
    load_checked(model.wavlm, translate(pre["model"], model.wavlm, recipe=recipe, path=wavlm_path),
                 recipe=recipe, path=wavlm_path)
    ft = torch_load(finetune_path, recipe)
    if not isinstance(ft, dict) or not isinstance(ft.get("model"), dict):
        raise MissingModelError(f"{recipe}: {finetune_path} has no 'model' state dict")
    names = weight_norm_names(model.wavlm)
    state, unknown = {}, []
    for key, value in ft["model"].items():
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
    head_config: ClassVar[ECAPAConfig] = ECAPAConfig()
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

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": self.registry_name, "version": self.version, "comparable": self.comparable,
                "reference": "seed-tts-eval cal_sim.sh (UniSpeech verification.py) and F5-TTS run_sim",
                "model": "WavLM-large (s3prl wavlm_large.pt) + ECAPA_TDNN_SMALL (wavlm_large_finetune.pth)",
                "weights_sha256": {k: (str(v) if v else "unverified until setup") for k, v in self.pins.items()},
                "head": self.head_config.__dict__ if self.head_config != ECAPAConfig() else "ECAPA_TDNN_SMALL",
                "audio": "soundfile float32, first channel, torchaudio transforms.Resample sinc to 16 kHz, "
                         "no trim", "libraries": package_versions(["transformers", "torch"]),
                "pair": "sim_o: output vs prompt wav; sim_r: output vs resynthesized prompt",
                "aggregation": "mean"}

    def setup(self, ctx: LoadContext) -> None:
        ft_path = self.finetune.resolve(self.options.model, ctx)
        wavlm_path = self.wavlm.resolve(self.options.wavlm, ctx)
        for name, path in (("finetune", ft_path), ("wavlm", wavlm_path)):
            actual = sha256_file(path, ctx.work_dir)
            check_pin(self.registry_name, path, actual, self.pins[name])
            self.pins[name] = actual
        self.device = torch_device(ctx.device)
        self.model = load_verifier(wavlm_path, ft_path, self.head_config, self.registry_name).to(self.device)
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
