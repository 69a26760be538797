"""The registered DiTAR systems: registry, loading (random, training checkpoint, export), synthesis."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError, MissingModelError
from ttsbench.plugins import SYSTEMS
from ttsbench.types import LoadContext, Prompt, SystemSpec

FAST = {"nfe": 2, "max_patches": 3}
NAMES = ["ditar-0.1b", "ditar-0.4b", "ditar-0.6b", "ditar-1b", "ditar-tiny"]


@pytest.fixture
def prompts(make_wav):
    a = make_wav("a.wav", seconds=0.6, sr=24_000, freq=150.0)
    b = make_wav("b.wav", seconds=0.3, sr=16_000, freq=220.0)
    return [Prompt("u1", a, "a short prompt", "hello there", "en"), Prompt("u2", b, "", "你好", "zh")]


def load(name: str, options: dict | None = None, checkpoint=None, cache_dir=None):
    return SYSTEMS.get(name).load(SystemSpec(name, options or {}, checkpoint), LoadContext(cache_dir=cache_dir))


def test_all_sizes_are_registered():
    assert set(NAMES) <= set(SYSTEMS.names("ditar-*"))


@pytest.mark.parametrize("name", NAMES[:4])
def test_paper_sizes_need_a_checkpoint(name, tmp_path):
    with pytest.raises(MissingModelError, match="random_weights=true") as err:
        load(name, cache_dir=tmp_path)
    assert "\n" not in str(err.value)


def test_tiny_random_system_synthesizes_and_streams(prompts):
    system = load("ditar-tiny", {"nfe": 2})
    wavs = system.synthesize(prompts, seed=0)
    assert [w.dtype for w in wavs] == [np.float32] * 2 and all(0 < np.abs(w).max() <= 0.9 + 1e-6 for w in wavs)
    first = next(system.stream(prompts, seed=0))
    assert first.step == 0 and first.patches.shape == (2, 4, 64)
    info = system.describe()
    assert info["random_weights"] and info["sampler"]["nfe"] == 2 and info["frontend"]["table_version"]
    from ttsbench.metrics.cost import ArchSpec, analytic_flops

    spec = system.arch()
    assert isinstance(spec, ArchSpec) and spec.nfe == 2 and analytic_flops(spec).flops > 0
    assert system.resynthesize(np.zeros(4800, np.float32) + 0.1, 24_000).ndim == 1


def test_fixed_length_for_timing(prompts):
    system = load("ditar-tiny", {"nfe": 1, "min_patches": 4, "max_patches": 4})
    assert [len(w) for w in system.synthesize(prompts, seed=0)] == [4 * 4 * 600] * 2


def write_training_checkpoint(path, model, frontend, tokenizer):
    """The dict `ttsbench train ditar` saves (systems/speech/training/trainer.py), minus the optimizer state."""
    from ttsbench.configio import to_dict

    torch.save({"format": "ttsbench.ditar.train/1", "kind": "ditar", "step": 1, "model": model.state_dict(),
                "model_config": to_dict(model.cfg), "tokenizer": {**tokenizer.describe(), "source": "mel"},
                "frontend": frontend.describe()}, path)


def test_training_checkpoint_and_export_give_the_same_audio(prompts, tmp_path):
    from ttsbench.systems.speech.pretrained import export

    ref = load("ditar-tiny", {**FAST, "weight_seed": 3, "history": 2})
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    ckpt = tmp_path / "run" / "checkpoints" / "step_0000001.pt"
    write_training_checkpoint(ckpt, ref.model, ref.frontend, ref.tokenizer)
    options = {**FAST, "stop_threshold": 2.0}
    expected = load("ditar-tiny", {**FAST, "weight_seed": 3, "history": 2, "stop_threshold": 2.0}).synthesize(prompts, seed=1)
    for location in (ckpt, tmp_path / "run", export(ckpt, tmp_path / "exported")):
        system = load("ditar-tiny", options, checkpoint=location)
        assert not system.random_weights and system.model.cfg.history_patches == 2
        got = system.synthesize(prompts, seed=1)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected)), location
    assert (tmp_path / "exported" / "model.safetensors").is_file()
    # the exported folder under the cache dir is found by name
    (tmp_path / "cache").mkdir()
    export(ckpt, tmp_path / "cache" / "ditar-0.1b")
    assert load("ditar-0.1b", options, cache_dir=tmp_path / "cache").model.cfg.lm_dim == 32


def test_checkpoint_mismatches_are_one_line_errors(prompts, tmp_path):
    ref = load("ditar-tiny", FAST)
    ckpt = tmp_path / "c.pt"
    write_training_checkpoint(ckpt, ref.model, ref.frontend, ref.tokenizer)
    with pytest.raises(InputError, match="patch_size=4"):
        load("ditar-tiny", {"patch": 2}, checkpoint=ckpt)
    raw = torch.load(ckpt, weights_only=True)
    raw["frontend"]["table_version"] = "chars-0"
    torch.save(raw, ckpt)
    with pytest.raises(InputError, match="phone front end"):
        load("ditar-tiny", checkpoint=ckpt)
    torch.save({"weights": torch.zeros(2)}, ckpt)
    with pytest.raises(InputError, match="not a DiTAR training checkpoint"):
        load("ditar-tiny", checkpoint=ckpt)
    with pytest.raises(MissingModelError):
        load("ditar-tiny", checkpoint=tmp_path / "nothing-here")
    with pytest.raises(InputError, match="dtype"):
        load("ditar-tiny", {"dtype": "fp8"})
