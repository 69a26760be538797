"""An ArchSpec of our own model carries the model config it was built from, and `--counted` builds
that model (no parsing of ARCHS names)."""

from __future__ import annotations

from ttsbench.metrics.cost import CostSetup
from ttsbench.systems.distar.cost import distar_arch
from ttsbench.systems.ditar.cost import ditar_arch
from ttsbench.metrics.cost.table import counted_tflops
from ttsbench.plugins import ARCHS
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.nar.config import NARConfig


def test_registered_specs_know_their_model_config():
    expected = {
        "distar-tiny": DiSTARConfig.from_size("tiny"),
        "distar-base": DiSTARConfig.from_size("base"),
        "distar-base-frame-layer": DiSTARConfig.from_size("base", layout="frame_layer"),
        "distar-medium-frame-layer": DiSTARConfig.from_size("medium", layout="frame_layer"),
        "ditar-0.1b": DiTARConfig.from_size("0.1b"),
        "ditar-0.6b": DiTARConfig.from_size("0.6b"),  # Table 1's row: our 0.6b is Table 8's
        "nar-dit-tiny": NARConfig.from_size("tiny"),
        "vall-e": None, "f5-tts": None,
    }
    assert {name: ARCHS.get(name).model_config for name in expected} == expected


def test_model_specs_store_the_config_with_the_specs_layout_and_j():
    spec = distar_arch(DiSTARConfig.from_size("base"), layout="frame_layer", layers=3)
    assert spec.model_config == DiSTARConfig.from_size("base", layout="frame_layer", num_layers=3)
    assert spec.layers == spec.model_config.num_layers
    cfg = DiTARConfig.from_size("tiny", patch_size=2)
    assert ditar_arch(cfg).model_config is cfg


def test_counted_follows_the_config_not_the_name():
    setup = CostSetup()
    for name in ("ditar-tiny", "nar-dit-tiny", "distar-tiny"):
        spec = ARCHS.get(name)
        nfe = 16 if name == "distar-tiny" else 10
        renamed = spec.with_setting(name="renamed", label="renamed")
        assert counted_tflops(renamed, setup, nfe, True) == counted_tflops(spec, setup, nfe, True) > 0
        assert counted_tflops(spec.with_setting(model_config=None), setup, nfe, True) is None
