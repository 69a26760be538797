"""Registry behaviour: decorator registration, duplicates, did-you-mean, entry points, light imports."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from ttsbench.errors import DuplicateNameError, UnknownNameError
from ttsbench.registry import Registry


def test_register_get_and_list():
    reg: Registry[type] = Registry("widget", entry_point_group="ttsbench.test-widgets")

    @reg.register("alpha")
    class Alpha:
        pass

    reg.add("beta-tiny", int)
    assert reg.get("alpha") is Alpha
    assert reg.names() == ["alpha", "beta-tiny"]
    assert reg.names("*-tiny") == ["beta-tiny"]
    assert Alpha.registry_name == "alpha"


def test_duplicate_name_raises():
    reg: Registry[type] = Registry("widget", entry_point_group="ttsbench.test-widgets")
    reg.add("a", int)
    with pytest.raises(DuplicateNameError, match="registered twice"):
        reg.add("a", float)


def test_unknown_name_suggests_close_matches_and_lists_known():
    reg: Registry[type] = Registry("system", entry_point_group="ttsbench.test-widgets",
                                   list_command="ttsbench list systems")
    for name in ("ditar-0.6b", "ditar-tiny", "tone"):
        reg.add(name, int)
    with pytest.raises(UnknownNameError) as err:
        reg.get("ditr-tiny")
    msg = str(err.value)
    assert "Did you mean 'ditar-tiny'" in msg
    assert "known systems: ditar-0.6b, ditar-tiny, tone" in msg


def test_entry_point_plugin_is_loaded(monkeypatch):
    """An outside package adds a plugin through its entry-point group, with no change here."""
    ep = metadata.EntryPoint(name="outside-tts", value="fractions:Fraction", group="ttsbench.test-widgets")
    real = metadata.entry_points

    def fake_entry_points(**kw):
        if kw.get("group") == "ttsbench.test-widgets":
            return metadata.EntryPoints([ep])
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", fake_entry_points)
    reg: Registry[type] = Registry("widget", entry_point_group="ttsbench.test-widgets")
    assert "outside-tts" in reg.names()
    from fractions import Fraction

    assert reg.get("outside-tts") is Fraction


def test_installed_plugin_package_registers_a_system(tmp_path):
    """A real installed distribution with an entry point in `ttsbench.systems` is found by name."""
    site = tmp_path / "site"
    pkg = site / "outside_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from ttsbench.systems.base import TTSSystem\n"
                                     "class Outside(TTSSystem):\n"
                                     "    sample_rate = 8000\n"
                                     "    @classmethod\n    def load(cls, spec, ctx): return cls()\n"
                                     "    def synthesize(self, batch, *, seed): return []\n")
    dist = site / "outside_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ttsbench.systems]\noutside-tts = outside_pkg:Outside\n")
    code = ("from ttsbench.plugins import SYSTEMS; cls = SYSTEMS.get('outside-tts'); "
            "print(cls.__name__, 'outside-tts' in SYSTEMS.names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": ""}, check=True)
    assert out.stdout.split() == ["Outside", "True"]


def test_importing_ttsbench_loads_no_heavy_backend():
    code = ("import sys, ttsbench, ttsbench.cli, ttsbench.plugins as p\n"
            "p.SYSTEMS.names(); p.METRICS.names(); p.PROMPT_SETS.names(); p.ASR.names()\n"
            "heavy = [m for m in ('funasr', 'faster_whisper', 'transformers', 'modelscope', 'resemblyzer',"
            " 'piper', 'speechmos', 'fvcore', 'ctranslate2') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
