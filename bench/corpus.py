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
from ttsbench.sentences import sentences
from ttsbench.types import LoadContext, SystemSpec

# eSpeak NG voice variants (espeak-ng-data/voices/!v) that sound clearly different from each other.
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "klatt4", "croak", "whisper", "Andy", "Annie", "Denis", "Gene", "Hugo", "Lee", "Mario",
            "Michael", "Storm", "adam", "anika", "belinda", "benjamin", "edward", "grandma", "iven", "linda",
            "max", "michel", "norbert", "quincy", "rob", "robert", "steph", "travis", "victor", "zac")
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-029", "en-gb-x-rp")  # "en" is British English


@dataclass(frozen=True)
class Speaker:
    id: str
    voice: str  # eSpeak NG voice name with variant, e.g. "en-us+f3"
    pitch: int  # 0-99 (eSpeak's base pitch)
    rate: int  # words per minute


def make_speakers(n: int, seed: int = 0) -> list[Speaker]:
    """`n` distinct (accent, variant) voices with seeded pitch and rate."""
    combos = [(a, v) for v in VARIANTS for a in ACCENTS]
    if not 1 <= n <= len(combos):
        raise InputError(f"speakers = {n}; choose 1 to {len(combos)}")
    rng = random.Random(seed)
    picked = rng.sample(combos, n)
    return [Speaker(f"spk{i:03d}", f"{accent}+{variant}", rng.randint(25, 75), rng.randint(145, 205))
            for i, (accent, variant) in enumerate(picked)]


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
                 seed: int = 0, sample_rate: int = 24_000,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the corpus (see the module docstring); returns the manifest's path."""
    if per_speaker < 1:
        raise InputError(f"per_speaker = {per_speaker}; need at least 1")
    out = Path(out)
    voices = make_speakers(speakers, seed)
    total = speakers * per_speaker
    if texts is None:

        texts = sentences(total, seed)
        texts_id = "grammar"
    else:
        texts_id = "sha256:" + hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    _check_settings(out / "corpus.json", {"seed": seed, "speakers": speakers, "sample_rate": sample_rate,
                                          "texts": texts_id})
    engine = SYSTEMS.get("espeak-ng").load(SystemSpec("espeak-ng", {}), LoadContext())
    rows = []
    for i in range(total):
        speaker = voices[i % speakers]
        utt = f"{speaker.id}_{i // speakers:04d}"
        rel = Path("wavs") / speaker.id / f"{utt}.wav"
        text = texts[i % len(texts)]
        if (out / rel).is_file():
            frames = sf.info(str(out / rel)).frames
        else:
            raw = engine.speak(text, voice=speaker.voice, rate=speaker.rate, pitch=speaker.pitch, seed=seed * 100_003 + i)
            if raw.size == 0:
                raise InputError(f"espeak-ng produced no audio for {utt} ({speaker.voice}): {text!r}")
            wav = resample(raw, engine.sample_rate, sample_rate)
            write_audio(out / rel, wav, sample_rate)
            frames = len(wav)
        rows.append({"wav": rel.as_posix(), "text": text, "speaker": speaker.id, "lang": "en",
                     "seconds": round(frames / sample_rate, 3)})
        if progress:
            progress(i + 1, total)
    _write_atomic(out / "speakers.json", json.dumps([asdict(s) for s in voices], indent=2) + "\n")
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
