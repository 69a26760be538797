"""The WER recipes' real loading and scoring code on tiny models saved in the formats users have.

The tiny models are not the recipes' reference models, so these tests pass `allow_other_model`
(`test_reference_models.py` checks the refusal and the verdicts)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ttsbench.errors import InputError, MissingDependencyError, MissingModelError
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem


def item(path: Path, text: str, utt: str = "u0") -> ScoreItem:
    import soundfile as sf

    wav, sr = sf.read(str(path), dtype="float32")
    return ScoreItem(utt_id=utt, wav=wav, sample_rate=sr, wav_path=path, target_text=text)


def run_recipe(name: str, options: dict, work: Path, items: list[ScoreItem]) -> tuple[object, list[dict]]:
    metric = METRICS.get(name)({"allow_other_model": True, **options})
    metric.setup(LoadContext(device="cpu", cache_dir=work / "no-cache", work_dir=work))
    return metric, metric.score_batch(items)


def cache_lines(work: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (work / "asr").glob("*.jsonl"))


def test_seedtts_en_loads_a_saved_whisper_and_caches_transcripts(tiny_whisper_dir, wav_file, tmp_path):
    wavs = [wav_file("a.wav", seed=1), wav_file("b.wav", sr=24_000, seed=2)]  # b: scipy FFT to 16 kHz
    items = [item(wavs[0], "Hello, world!"), item(wavs[1], "Good morning.", "u1")]
    work = tmp_path / "work"
    metric, rows = run_recipe("seedtts-en", {"model": str(tiny_whisper_dir)}, work, items)
    assert len(rows) == 2 and cache_lines(work) == 2
    for row in rows:
        assert {"S", "D", "I", "N", "hits", "utt_wer", "hyp_raw", "hyp_norm", "ref_norm", "ref_raw"} <= set(row)
        assert row["hits"] + row["S"] + row["D"] == row["N"]
        json.dumps(row)
    assert rows[0]["ref_norm"] == "hello world"
    # a second run (fresh load) reads the transcripts back: same rows, no new cache lines
    again, rows2 = run_recipe("seedtts-en", {"model": str(tiny_whisper_dir)}, work, items)
    assert rows2 == rows and cache_lines(work) == 2
    fp = metric.fingerprint()
    assert fp["asr"]["weights_sha256"] == again.fingerprint()["asr"]["weights_sha256"] != "unverified until setup"
    values = metric.aggregate(pd.DataFrame(rows))
    assert {"wer_macro", "wer_micro", "fail_rate_50", "wer_macro_ci_low", "sub_rate"} <= set(values)


def test_a_changed_normalizer_rescores_from_the_transcript_cache(tiny_whisper_dir, wav_file, tmp_path):
    items = [item(wav_file("a.wav", seed=3), "It's fine.")]
    work = tmp_path / "work"
    run_recipe("seedtts-en", {"model": str(tiny_whisper_dir)}, work, items)
    from ttsbench.metrics.wer import SeedTTSEn

    class OtherText(SeedTTSEn):  # same ASR, F5's normalizer: the cache key does not change
        normalizer = "f5-en"

    other = OtherText({"model": str(tiny_whisper_dir), "allow_other_model": True})
    other.setup(LoadContext(work_dir=work))
    calls, real = [], other.backend.transcribe  # a spy: counts calls, still runs the real backend
    other.backend.transcribe = lambda paths: calls.append(paths) or real(paths)
    row = other.score(items[0])
    assert row["ref_norm"] == "its fine" and cache_lines(work) == 1 and calls == []


def test_pinned_sha256_is_checked(tiny_whisper_dir, tmp_path):
    metric = METRICS.get("seedtts-en")({"model": str(tiny_whisper_dir), "sha256": "0" * 64})
    with pytest.raises(MissingModelError, match="SHA-256"):
        metric.setup(LoadContext(work_dir=tmp_path))


def test_f5_en_loads_a_ctranslate2_conversion(tiny_ct2_dir, wav_file, tmp_path):
    items = [item(wav_file("a.wav", seed=4), "A test.")]
    metric, rows = run_recipe("f5-en", {"model": str(tiny_ct2_dir), "cpu_threads": 1}, tmp_path / "w", items)
    assert rows[0]["ref_norm"] == "a test" and rows[0]["N"] == 2
    assert metric.backend.compute_type == "float32"  # CPU: float16 is not available
    _, again = run_recipe("f5-en", {"model": str(tiny_ct2_dir), "cpu_threads": 1}, tmp_path / "w", items)
    assert again == rows


def test_hubert_en_loads_a_saved_ctc_model(tiny_hubert_dir, wav_file, tmp_path):
    items = [item(wav_file("a.wav", sr=22_050, seed=5), "Mr. Smith\u2019s cat.")]
    metric, rows = run_recipe("hubert-en", {"model": str(tiny_hubert_dir)}, tmp_path / "w", items)
    assert rows[0]["ref_norm"] == "mr smith's cat"
    assert rows[0]["hyp_raw"] == rows[0]["hyp_raw"].upper()  # letters of the CTC vocabulary
    assert metric.primary == "wer_micro"


def test_missing_model_is_one_line_naming_recipe_path_and_source(tmp_path):
    for name, where in (("seedtts-en", "huggingface.co/openai/whisper-large-v3"),
                        ("f5-en", "Systran/faster-whisper-large-v3"),
                        ("hubert-en", "facebook/hubert-large-ls960-ft")):
        with pytest.raises(MissingModelError) as err:
            METRICS.get(name)({}).setup(LoadContext(cache_dir=tmp_path / "cache"))
        msg = str(err.value)
        assert "\n" not in msg and msg.startswith(f"{name}:") and str(tmp_path / "cache") in msg and where in msg


def test_a_directory_without_the_model_files_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingModelError, match="incomplete model"):
        METRICS.get("seedtts-en")({"model": str(tmp_path / "empty")}).setup(LoadContext())


def test_a_wrong_model_directory_is_one_clear_line(tiny_hubert_dir, tiny_whisper_dir, tmp_path):
    cases = [("seedtts-en", tiny_hubert_dir, "Whisper"), ("hubert-en", tiny_whisper_dir, "CTC")]
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "model.bin").write_bytes(b"not a model")
    (tmp_path / "x" / "tokenizer.json").write_text("{}")
    cases.append(("f5-en", tmp_path / "x", "CTranslate2"))
    for name, path, kind in cases:
        if name == "f5-en":
            pytest.importorskip("faster_whisper")
        with pytest.raises(MissingModelError, match=f"{name} expects") as err:  # the signature check comes first
            METRICS.get(name)({"model": str(path)}).setup(LoadContext(work_dir=tmp_path))
        assert "\n" not in str(err.value) and str(path) in str(err.value)
        with pytest.raises(MissingModelError, match=f"does not load as a .*{kind}") as err:
            METRICS.get(name)({"model": str(path), "allow_other_model": True}).setup(LoadContext(work_dir=tmp_path))
        assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_unknown_option_is_rejected():
    with pytest.raises(InputError, match="unknown option"):
        METRICS.get("f5-en")({"beam": 3})


def test_seedtts_zh_without_funasr_names_the_extra(tmp_path):
    pytest.importorskip("zhconv")
    model = tmp_path / "paraformer"
    model.mkdir()
    (model / "config.yaml").write_text("model: SeacoParaformer\n")
    (model / "model.pt").write_bytes(b"\0")
    try:
        import funasr  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"ttsbench\[funasr\]"):
            METRICS.get("seedtts-zh")({"model": str(model), "allow_other_model": True}).setup(
                LoadContext(work_dir=tmp_path))
    else:
        pytest.skip("funasr is installed; the missing-dependency path cannot be exercised")


def test_seedtts_zh_scores_characters_from_a_transcript():
    metric = METRICS.get("seedtts-zh")({})
    row = metric.row("\u4f60\u597d\uff0c\u4e16\u754c\u3002", "\u4f60\u597d\u8996\u754c")  # traditional \u8996
    assert row["ref_norm"] == "\u4f60 \u597d \u4e16 \u754c" and row["hyp_norm"] == "\u4f60 \u597d \u89c6 \u754c"
    assert (row["S"], row["N"]) == (1, 4) and metric.label == "CER (%)"
    assert metric.fingerprint()["asr"]["model"].startswith("iic/speech_seaco_paraformer_large")
