"""F5-TTS / E2-TTS end to end through `ttsbench run`, running the upstream's own model code
(f5-tts 1.1.22: CFM, DiT/UNetT, load_checkpoint, load_vocoder; vocos 0.1.0) on tiny random weights
saved in the released layout: `<dir>/F5TTS_v1_Base/model_1250000.safetensors` holding `ema_model.`
keys, `<dir>/vocos-mel-24khz/{config.yaml, pytorch_model.bin}`, plus a `model_config.yaml` giving the
tiny architecture (the upstream's yaml with a small `arch`). Skipped where f5-tts is not installed.
Where torchaudio cannot import (CPU torch here), the test-only stand-in takes its place.
"""

from __future__ import annotations

import importlib.util
import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from ttsbench.cli import main
from ttsbench.plugins import SYSTEMS
from ttsbench.types import LoadContext, Prompt, SystemSpec

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("f5_tts", "vocos", "torchdiffeq", "x_transformers")),
    reason="f5-tts (1.1.22) and its model dependencies are not installed: pip install \"ttsbench[f5]\"")

TINY_ARCH = {"F5TTS_v1_Base": {"dim": 32, "depth": 2, "heads": 2, "ff_mult": 2, "text_dim": 16, "conv_layers": 1},
             "E2TTS_Base": {"dim": 32, "depth": 2, "heads": 2, "ff_mult": 2}}
VOCOS_YAML = """\
feature_extractor:
  class_path: vocos.feature_extractors.MelSpectrogramFeatures
  init_args: {sample_rate: 24000, n_fft: 1024, hop_length: 256, n_mels: 100, padding: center}
backbone:
  class_path: vocos.models.VocosBackbone
  init_args: {input_channels: 100, dim: 16, intermediate_dim: 32, num_layers: 1}
head:
  class_path: vocos.heads.ISTFTHead
  init_args: {dim: 16, n_fft: 1024, hop_length: 256, padding: same}
"""


@pytest.fixture(autouse=True)
def torchaudio_or_standin():
    from ttsbench import torchaudio_standin

    torchaudio_standin.install()


def build_tiny(root: Path, config: str, ckpt: str) -> None:
    """Tiny random weights in the released format, built with the upstream's own classes."""
    import torch
    import yaml
    from f5_tts.model import CFM, DiT, UNetT
    from f5_tts.model.utils import get_tokenizer
    from safetensors.torch import save_file
    from vocos import Vocos

    torch.manual_seed(0)
    cfg = yaml.safe_load(files("f5_tts").joinpath(f"configs/{config}.yaml").read_text())
    cfg["model"]["arch"].update(TINY_ARCH[config])
    root.mkdir(parents=True, exist_ok=True)
    (root / "model_config.yaml").write_text(yaml.safe_dump(cfg))
    mel = cfg["model"]["mel_spec"]
    _, vocab_size = get_tokenizer(str(files("f5_tts").joinpath("infer/examples/vocab.txt")), "custom")
    backbone = {"DiT": DiT, "UNetT": UNetT}[cfg["model"]["backbone"]]
    model = CFM(transformer=backbone(**cfg["model"]["arch"], text_num_embeds=vocab_size,
                                     mel_dim=mel["n_mel_channels"]),
                mel_spec_kwargs={k: mel[k] for k in ("n_fft", "hop_length", "win_length", "n_mel_channels",
                                                     "target_sample_rate", "mel_spec_type")})
    path = root / ckpt
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({f"ema_model.{k}": v.contiguous() for k, v in model.state_dict().items()}, str(path))
    voc = root / "vocos-mel-24khz"
    voc.mkdir()
    (voc / "config.yaml").write_text(VOCOS_YAML)
    vocoder = Vocos.from_hparams(str(voc / "config.yaml"))
    torch.save(vocoder.state_dict(), voc / "pytorch_model.bin")


@pytest.fixture
def f5_dir(tmp_path) -> Path:
    root = tmp_path / "cache" / "f5-tts"
    build_tiny(root, "F5TTS_v1_Base", "F5TTS_v1_Base/model_1250000.safetensors")
    return root


@pytest.mark.slow  # ~20 s: the demo through ttsbench run on the upstream model
def test_ttsbench_run_synthesizes_the_demo_with_the_upstream_model(f5_dir, tmp_path):
    out = tmp_path / "runs"
    argv = ["run", "--system", "f5-tts:nfe=2", "--prompt-set", "demo", "--limit", "2", "--metrics", "duration",
            "--cache-dir", str(f5_dir.parent), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    synth = [json.loads(line) for line in next(out.rglob("synth.jsonl")).read_text().splitlines()]
    assert [row["status"] for row in synth] == ["ok", "ok"], synth
    assert all(row["sample_rate"] == 24_000 for row in synth)
    manifest = json.loads(next(out.rglob("run.json")).read_text())
    described = manifest["system"]
    assert described["adapter"] == "in-process" and described["options"]["nfe"] == 2
    assert described["protocol"]["cfg"] == 2.0 and described["upstream"] == "PyPI f5-tts==1.1.22"


def test_the_model_gets_f5s_duration_and_text_and_returns_only_the_new_frames(f5_dir, make_wav):
    system = SYSTEMS.get("f5-tts").load(SystemSpec("f5-tts", {"nfe": 2}), LoadContext(cache_dir=f5_dir.parent))
    calls = []
    real = system.model.sample

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    system.model.sample = spy
    wav = make_wav("p.wav", seconds=1.0, sr=24_000)  # 24000 samples -> 24000 // 256 + 1 = 94 frames
    prompt = Prompt("u1", wav, "abcd", "ab", "en")
    first = system.synthesize([prompt], seed=3)[0]
    # "abcd" + " " = 5 bytes, "ab" = 2 bytes: 94 + int(94 / 5 * 2) = 131 frames in all
    assert calls[0]["duration"].tolist() == [131] and calls[0]["lens"].tolist() == [94]
    assert calls[0]["steps"] == 2 and calls[0]["cfg_strength"] == 2.0 and calls[0]["sway_sampling_coef"] == -1.0
    assert first.dtype == np.float32 and first.shape == ((131 - 94) * 256,)
    again = system.synthesize([prompt], seed=3)[0]
    other = system.synthesize([prompt], seed=4)[0]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert system.resynthesize(np.zeros(4800, np.float32) + 0.01, 16_000) is not None


def test_e2_loads_its_unett_checkpoint(tmp_path, make_wav):
    root = tmp_path / "cache" / "e2-tts"
    build_tiny(root, "E2TTS_Base", "E2TTS_Base/model_1200000.safetensors")
    system = SYSTEMS.get("e2-tts").load(SystemSpec("e2-tts", {"nfe": 2}), LoadContext(cache_dir=root.parent))
    out = system.synthesize([Prompt("u", make_wav("p.wav", seconds=0.5, sr=16_000), "你好", "你好", "zh")], seed=0)
    assert out[0].dtype == np.float32 and out[0].size > 0 and np.isfinite(out[0]).all()
