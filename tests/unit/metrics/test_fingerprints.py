"""Issue 19.2: a recipe's fingerprint holds every resolved value that can move its number.

Each value is changed in turn (weights, decode parameters, compute type, device kind, resampler,
normalizer and its libraries, aggregation, the reference-model verdict) and must give a new id.
"""

from __future__ import annotations

import pytest

from ttsbench.errors import TTSBenchWarning
from ttsbench.metrics import text
from ttsbench.metrics.asr import whisper_ct2
from ttsbench.metrics.asr.whisper_ct2 import resolve_compute_type
from ttsbench.metrics.reference import ModelCheck
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext


class FakeBackend:
    def __init__(self, **resolved: object) -> None:
        self._resolved = resolved

    def resolved(self) -> dict:
        return dict(self._resolved)


def f5(**options: object):
    metric = METRICS.get("f5-en")(options)
    metric.weights_sha256 = "a" * 64
    metric.backend = FakeBackend(device="cuda", compute_type="float16", seeding="s")
    return metric


def test_every_resolved_value_of_a_wer_recipe_moves_its_id(monkeypatch):
    base = f5().fingerprint_id()
    changed = []
    m = f5()
    m.weights_sha256 = "b" * 64
    changed.append(m)
    changed += [f5(beam_size=4), f5(language="de"), f5(compute_type="int8")]
    for key, value in (("device", "cpu"), ("compute_type", "float32"), ("seeding", "none")):
        m = f5()
        m.backend = FakeBackend(**{**m.backend.resolved(), key: value})
        changed.append(m)
    m = f5()
    m.model_check = ModelCheck("verified", "a" * 64, reference="x")
    changed.append(m)
    m = f5()
    m.comparable = False
    changed.append(m)

    class Micro(type(f5())):
        aggregation = "micro"
        primary = "wer_micro"

    m = Micro({})
    m.weights_sha256, m.backend = "a" * 64, FakeBackend(device="cuda", compute_type="float16", seeding="s")
    changed.append(m)
    ids = [c.fingerprint_id() for c in changed]
    assert base not in ids and len(set(ids)) == len(ids)


def test_normalizer_library_versions_move_the_id(monkeypatch):
    before = f5().fingerprint_id()
    monkeypatch.setattr(text, "_version", lambda name: "1.1.5" if name == "zhon" else "x")
    assert f5().fingerprint_id() != before  # zhon 1.1.5 keeps U+FF0E, 2.x deletes it
    zh = METRICS.get("seedtts-zh")({}).fingerprint()["text"]["libraries"]
    assert set(zh) == {"zhon", "zhconv"}
    assert METRICS.get("hubert-en")({}).fingerprint()["text"]["libraries"] == {}


def test_compute_type_device_and_versions_are_resolved_values(tiny_ct2_dir, tmp_path):
    pytest.importorskip("faster_whisper")
    assert resolve_compute_type("auto", "cpu") == "float32" and resolve_compute_type("auto", "cuda:0") == "float16"
    metric = METRICS.get("f5-en")({"model": str(tiny_ct2_dir), "allow_other_model": True, "cpu_threads": 1})
    assert metric.fingerprint()["asr"]["resolved"] == "unresolved until setup"
    metric.setup(LoadContext(work_dir=tmp_path))
    fp = metric.fingerprint()["asr"]
    assert fp["resolved"]["compute_type"] == "float32" and fp["resolved"]["device"] == "cpu"
    assert set(fp["libraries"]) == {"faster-whisper", "ctranslate2", "av"}
    assert fp["params"]["compute_type"] == "auto"  # what was asked, beside what was used


@pytest.mark.parametrize("recipe", ["sim-wavlm-ecapa", "utmos22-strong"])
def test_embedding_recipes_record_device_dtype_resampler_and_libraries(recipe):
    metric = METRICS.get(recipe)({})
    fp = metric.fingerprint()
    assert {"device", "dtype", "audio", "libraries", "aggregation", "model_check", "weights_sha256"} <= set(fp)
    before = metric.fingerprint_id()
    metric.device = "cuda"
    assert metric.fingerprint_id() != before


def test_an_unchecked_faster_whisper_version_is_scored_with_a_warning(tiny_ct2_dir, monkeypatch):
    pytest.importorskip("faster_whisper")
    monkeypatch.setattr(whisper_ct2, "CHECKED_VERSIONS", ("0.10.1",))
    with pytest.warns(TTSBenchWarning, match=r"faster-whisper .* was not checked .*checked: 0\.10\.1"):
        whisper_ct2.FasterWhisper(tiny_ct2_dir, recipe="f5-en", params={"cpu_threads": 1})
