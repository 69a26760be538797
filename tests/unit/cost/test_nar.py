"""The NAR baseline: model shapes, parameter parity with DiTAR, the registered system, weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError, MissingModelError
from ttsbench.metrics.cost import analytic_flops, system_cost
from ttsbench.systems.nar.cost import nar_arch
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.speech.sampling import SamplerConfig
from ttsbench.systems.nar.config import NARConfig
from ttsbench.systems.nar.model import NARDiT, text_frames
from ttsbench.types import LoadContext, Prompt, SystemSpec


def test_text_frames_put_bytes_first_and_filler_after():
    ids = text_frames(["ab", "é"], 4)
    assert ids.tolist() == [[98, 99, 0, 0], [196, 170, 0, 0]]
    assert text_frames(["abcdef"], 3).tolist() == [[98, 99, 100]]  # truncated to the frame count


def test_generate_fills_the_target_span_deterministically():
    model = NARDiT(NARConfig.from_size("tiny")).eval()
    prompt, text = torch.randn(2, 6, 64), text_frames(["hello", "hi"], 20)
    a = model.generate(prompt, text, SamplerConfig(nfe=3), generator=torch.Generator().manual_seed(1))
    b = model.generate(prompt, text, SamplerConfig(nfe=3), generator=torch.Generator().manual_seed(1))
    assert a.shape == (2, 14, 64) and torch.isfinite(a).all() and torch.equal(a, b)
    with pytest.raises(ValueError):
        model.generate(prompt, text[:, :6], SamplerConfig(nfe=1))


@pytest.mark.parametrize("size", ["0.1b", "0.6b"])
def test_parameter_count_matches_ditar_of_the_same_size(size):
    with torch.device("meta"):
        nar, ditar = NARDiT(NARConfig.from_size(size)), DiTAR(DiTARConfig.from_size(size))
    assert nar.num_parameters() == pytest.approx(sum(p.numel() for p in ditar.parameters()), rel=0.01)


def test_registered_tiny_system_synthesizes_and_reports_its_cost(make_wav):
    wav = make_wav("p.wav", seconds=0.6, sr=16_000)
    system = SYSTEMS.get("nar-dit-tiny").load(SystemSpec.parse("nar-dit-tiny:nfe=2,seconds=0.4"), LoadContext())
    prompt = Prompt("u1", wav, "a prompt", "some target text", "en")
    out = system.synthesize([prompt], seed=3)[0]
    again = system.synthesize([prompt], seed=3)[0]
    assert out.dtype == np.float32 and out.ndim == 1 and np.isfinite(out).all() and np.array_equal(out, again)
    assert len(out) == pytest.approx(0.4 * system.sample_rate, abs=2 * 600)
    assert system.capabilities.random_weights and system.describe()["random_weights"]
    cost = system_cost(system)
    assert cost["flops"] == float(analytic_flops(nar_arch(system.model.cfg, nfe=2)).flops)
    assert "NFE 2" in cost["detail"]


def test_big_sizes_need_an_explicit_random_weights_opt_in():
    with pytest.raises(MissingModelError, match="random_weights=true"):
        SYSTEMS.get("nar-dit-0.6b").load(SystemSpec.parse("nar-dit-0.6b"), LoadContext())


def test_checkpoint_round_trip_and_mismatch(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(5)
    model = NARDiT(NARConfig.from_size("tiny"))
    path = tmp_path / "nar.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    system = SYSTEMS.get("nar-dit-tiny").load(SystemSpec.parse(f"nar-dit-tiny:checkpoint={path}"), LoadContext())
    assert torch.equal(system.model.out_proj.weight, model.out_proj.weight)
    save_file({"x": torch.zeros(1)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(InputError):
        SYSTEMS.get("nar-dit-tiny").load(SystemSpec.parse(f"nar-dit-tiny:checkpoint={tmp_path / 'bad.safetensors'}"),
                                         LoadContext())
    with pytest.raises(MissingModelError):
        SYSTEMS.get("nar-dit-tiny").load(SystemSpec.parse(f"nar-dit-tiny:checkpoint={tmp_path / 'no'}"), LoadContext())
