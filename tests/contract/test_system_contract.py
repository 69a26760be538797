"""Every registered system honours the TTSSystem contract (parametrized over the registry).

Systems that need weights the machine does not have must say so in one line (MissingModelError /
MissingDependencyError); every system that loads must return one float32 mono finite waveform per
prompt, the same audio for the same seed, and be indifferent to how prompts are batched.
"""

from __future__ import annotations

import numpy as np
import pytest

from ttsbench.errors import MissingDependencyError, MissingModelError
from ttsbench.plugins import SYSTEMS
from ttsbench.types import LoadContext, Prompt, SystemSpec


@pytest.fixture
def prompts(make_wav) -> list[Prompt]:
    a = make_wav("pa.wav", seconds=1.0, freq=180.0)
    b = make_wav("pb.wav", seconds=0.7, sr=22_050, freq=240.0)
    return [Prompt("u1", a, "a short prompt", "hello world, this is a test.", "en", b),
            Prompt("u2", b, "another prompt", "second sentence here", "en", a)]


@pytest.mark.parametrize("name", SYSTEMS.names())
def test_system_contract(name, prompts, tmp_path):
    cls = SYSTEMS.get(name)
    ctx = LoadContext(device="cpu", cache_dir=tmp_path / "no-models", work_dir=tmp_path / "work")
    try:
        system = cls.load(SystemSpec(name), ctx)
    except (MissingModelError, MissingDependencyError) as err:
        assert "\n" not in str(err) and len(str(err)) < 400, "the error must be one clear line"
        pytest.skip(f"needs weights/deps: {err}")
    assert isinstance(system.sample_rate, int) and system.sample_rate >= 8000
    first = system.synthesize(prompts, seed=0)
    again = system.synthesize(prompts, seed=0)
    assert len(first) == len(prompts)
    for wav in first:
        assert isinstance(wav, np.ndarray) and wav.dtype == np.float32 and wav.ndim == 1
        assert wav.size > 0 and np.isfinite(wav).all()
    assert all(np.array_equal(a, b) for a, b in zip(first, again)), "same seed must give the same audio"
    alone = system.synthesize(prompts[1:], seed=0)[0]
    assert np.allclose(alone, first[1], atol=1e-4), "an item's audio must not depend on its batch"
