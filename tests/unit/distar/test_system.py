"""The registered DiSTAR systems: options, layer pruning end to end, loading errors in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError, MissingModelError
from ttsbench.plugins import SYSTEMS
from ttsbench.types import LoadContext, Prompt, SystemSpec


def load(text: str, tmp_path):
    spec = SystemSpec.parse(text)
    return SYSTEMS.get(spec.name).load(spec, LoadContext(device="cpu", cache_dir=tmp_path / "none",
                                                         work_dir=tmp_path / "work"))


@pytest.fixture
def prompt(make_wav):
    return Prompt("u1", make_wav("p.wav", seconds=0.6, freq=200.0), "a prompt", "hello there", "en")


def test_layers_option_sets_bitrate_cost_and_audio(tmp_path, prompt):
    full = load("distar-tiny:min_patches=3,max_patches=3,steps=4", tmp_path)
    two = load("distar-tiny:min_patches=3,max_patches=3,steps=4,layers=2", tmp_path)
    assert full.describe()["layers"] == 4 and two.describe()["layers"] == 2
    assert two.describe()["kbps"] == pytest.approx(full.describe()["kbps"] / 2)  # 40 Hz x L' x log2(16)
    from ttsbench.metrics.cost import analytic_flops

    assert analytic_flops(two.arch()).flops < analytic_flops(full.arch()).flops
    a, b = full.synthesize([prompt], seed=0)[0], two.synthesize([prompt], seed=0)[0]
    assert a.shape == b.shape == (3 * 4 * 600,) and not np.allclose(a, b)  # same length, other decode


def test_sampling_options_reach_the_sampler(tmp_path):
    s = load("distar-tiny:mode=hybrid,temperature_end=0.1,top_k=5,top_p=0.5,cfg=1.0,steps=7", tmp_path)
    assert (s.sampler.mode, s.sampler.temperature_end, s.sampler.top_k, s.sampler.steps) == ("hybrid", 0.1, 5, 7)
    assert not s.sampler.guided and s.arch().nfe == 7


@pytest.mark.parametrize("text,error", [("distar-tiny:layers=9", InputError), ("distar-tiny:mode=beam", InputError),
                                        ("distar-base", MissingModelError)])
def test_bad_options_and_missing_weights_are_one_line_errors(text, error, tmp_path):
    with pytest.raises(error) as info:
        load(text, tmp_path)
    assert "\n" not in str(info.value)


def test_a_ditar_checkpoint_is_refused_by_distar(tmp_path):
    from ttsbench.systems.speech.pretrained import TRAIN_FORMAT, read_checkpoint

    path = tmp_path / "step_0000001.pt"
    torch.save({"format": TRAIN_FORMAT, "kind": "ditar", "model": {}, "model_config": {}}, path)
    with pytest.raises(InputError, match="holds ditar weights, not distar"):
        read_checkpoint(path, "distar")
    with pytest.raises(InputError, match="holds ditar weights"):
        load(f"distar-tiny:checkpoint={path}", tmp_path)
