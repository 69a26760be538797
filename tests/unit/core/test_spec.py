"""Run specs: CLI parsing, TOML parsing with unknown-key errors, run-id stability."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttsbench.errors import TTSBenchError
from ttsbench.spec import MetricSpec, RunSpec, load_toml, override, parse_metrics
from ttsbench.types import SystemSpec


def test_system_spec_parse_types_and_checkpoint():
    spec = SystemSpec.parse("ditar-0.6b:checkpoint=/ck/pt,nfe=10,cfg=2.5,greedy=true,voice=en+f3")
    assert spec.name == "ditar-0.6b"
    assert spec.checkpoint == Path("/ck/pt")
    assert spec.options == {"nfe": 10, "cfg": 2.5, "greedy": True, "voice": "en+f3"}
    with pytest.raises(TTSBenchError, match="expected key=value"):
        SystemSpec.parse("x:nfe")


def test_parse_metrics_attaches_options_to_the_previous_metric():
    specs = parse_metrics("f5-en:model=/m/large-v3,beam=5,sim-wavlm-ecapa,duration")
    assert specs == (MetricSpec("f5-en", {"model": "/m/large-v3", "beam": 5}),
                     MetricSpec("sim-wavlm-ecapa", {}), MetricSpec("duration", {}))
    with pytest.raises(TTSBenchError):
        parse_metrics("beam=5,wer")


def test_toml_spec_and_overrides(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('[run]\nprompt_set = "demo"\nseed = 3\nlimit = 2\n'
                    '[system]\nname = "tone"\ncheckpoint = "/ck"\nfreq = 300\n'
                    '[[metric]]\nname = "duration"\n[paths]\ncache_dir = "/models"\n')
    spec = load_toml(path)
    assert spec.system == SystemSpec("tone", {"freq": 300}, Path("/ck"))
    assert spec.seed == 3 and spec.limit == 2 and spec.metrics == (MetricSpec("duration", {}),)
    assert spec.cache_dir == Path("/models")
    again = override(spec, seed=0, limit=None)  # 0 is honoured, None leaves the value
    assert again.seed == 0 and again.limit == 2


def test_toml_unknown_key_is_one_clear_error(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('[run]\nprompt_set = "demo"\nsede = 3\n[system]\nname = "tone"\n')
    with pytest.raises(TTSBenchError, match=r"unknown key\(s\) \['sede'\] in \[run\]"):
        load_toml(path)


def test_run_id_depends_on_what_determines_audio_only():
    base = RunSpec(system=SystemSpec("tone"), prompt_set="demo", seed=0)
    rid = base.run_id("sha256:x")
    assert override(base, limit=3, batch_size=8, metrics=(MetricSpec("duration"),)).run_id("sha256:x") == rid
    assert override(base, seed=1).run_id("sha256:x") != rid
    assert base.run_id("sha256:y") != rid
    assert RunSpec(system=SystemSpec("tone", {"freq": 1}), prompt_set="demo").run_id("sha256:x") != rid


def test_option_values_keep_leading_zero_ids():
    from ttsbench.types import parse_value

    assert parse_value("007") == "007" and parse_value("7") == 7 and parse_value("-3") == -3
    assert parse_value("1e-3") == 0.001 and parse_value("en+f3") == "en+f3"
