"""Readers of the corpora zero-shot TTS trains on, into the trainer's manifest, with a speaker-
disjoint dev split: `ttsbench corpus --import-from KIND --source PATH --out DIR`.

Formats (checked against the corpora's own documentation; see docs/training.md):

- ``libritts-r``: ``<root>/<subset>/<speaker>/<chapter>/<speaker>_<chapter>_<para>_<sent>.wav``
  (24 kHz) beside ``<same stem>.normalized.txt`` (the normalised transcript used here) and
  ``.original.txt``. `--source` is the root holding subsets (train-clean-100, ...) or one subset.
  Utterances without a .normalized.txt are skipped (LibriTTS-R left some out).
- ``libriheavy``: lhotse cut manifests (``libriheavy_cuts_<subset>.jsonl.gz``), one MonoCut per
  line: ``start``/``duration`` (seconds into the recording), ``supervisions[0]`` (``speaker``,
  ``language``, and the text: ``text``, else ``custom.texts[0]``, the cased and punctuated book
  text), ``recording.sources[0].source`` (the LibriLight flac, relative to the recipe folder,
  ``download/librilight/...``; `--audio-root` says where that folder is, default the manifest's).
  Audio is read as a segment of the long recording (`audio_source.py`): nothing is cut to disk.
- ``emilia``: either the webdataset release (``EN/EN-B000000.tar``: per utterance a ``<key>.json``
  with id, text, duration, speaker, language, dnsmos, and a ``<key>.mp3``), or the original release
  (``EN/EN_B00000.jsonl``, rows with ``wav`` = the mp3's path inside ``EN_B00000.tar[.gz]`` or an
  extracted ``EN_B00000/`` folder). Streamed: the listing reads each tar's JSON members once (an
  uncompressed tar is scanned header by header, audio bytes are skipped, not read), and training
  reads each mp3 straight out of its tar; nothing is extracted and no index of the corpus is held
  in memory while importing (each shard's rows are written as they are read).
- ``manifest``: the generic JSONL/CSV manifest (`data.read_manifest`).

Resumable and sharded: every unit (a LibriTTS-R chapter, a cut manifest, an Emilia tar or JSONL)
writes ``<out>/parts/<unit key>.jsonl`` atomically; finished parts are skipped on a re-run; units
are spread over a process pool (`workers`) and, under torchrun, over ranks (unit i goes to rank
i % world_size; rank 0 merges after the others). The dev split is speaker-disjoint and decided per
speaker by a hash of (seed, speaker) against `dev_fraction`, so it needs no global speaker list.
Phonemization is cached later, with the latents, by the trainer's data cache (`data.py`).

Outputs: ``train.jsonl`` and ``dev.jsonl`` (manifests the trainer reads; with ``start``,
``duration``, ``member`` where the corpus needs them) and ``dev_prompts.jsonl`` (a prompt set:
each dev utterance as target, the same speaker's next utterance as prompt).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError
from ttsbench.paths import temp_path

KINDS = ("libritts-r", "libriheavy", "emilia", "manifest")
AUDIO_EXTS = (".mp3", ".wav", ".flac", ".opus", ".ogg")
LANGS = {"english": "en", "chinese": "zh", "german": "de", "french": "fr", "japanese": "ja", "korean": "ko"}


@dataclass(frozen=True)
class Unit:
    """One independently importable piece of a corpus."""

    kind: str
    path: Path  # a chapter folder, a cut manifest, an Emilia tar or JSONL, a manifest
    audio_root: Path | None = None

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}|{self.path.resolve()}".encode()).hexdigest()[:20]


def find_units(kind: str, source: str | Path, audio_root: str | Path | None = None) -> list[Unit]:
    """The units of a corpus on disk, in a deterministic order."""
    if kind not in KINDS:
        raise InputError(f"corpus kind {kind!r}; choose one of {', '.join(KINDS)}")
    src = Path(source).expanduser()
    if not src.exists():
        raise InputError(f"{kind} source not found: {src}")
    root = Path(audio_root).expanduser() if audio_root else None
    if kind == "libritts-r":
        chapters = sorted({p.parent for p in src.rglob("*.normalized.txt")})
        found = [Unit(kind, c) for c in chapters]
    elif kind == "libriheavy":
        files = [src] if src.is_file() else sorted(src.rglob("*.jsonl.gz"))
        found = [Unit(kind, f, root or f.parent) for f in files]
    elif kind == "emilia":
        if src.is_file():
            found = [Unit(kind, src)]
        else:
            jsonls = sorted(src.rglob("*.jsonl"))
            covered = {j.with_suffix("") for j in jsonls}
            tars = sorted(t for t in src.rglob("*.tar") if t.with_suffix("") not in covered)
            found = [Unit(kind, f) for f in jsonls + tars]
    else:
        found = [Unit(kind, src)]
    if not found:
        raise InputError(f"no {kind} data under {src} (see `ttsbench corpus --help` for the layouts)")
    return found


def read_unit(unit: Unit) -> Iterator[dict[str, Any]]:
    """Manifest rows (wav, text, speaker, lang, id [, start, duration, member]) of one unit."""
    if unit.kind == "libritts-r":
        yield from _libritts_r(unit.path)
    elif unit.kind == "libriheavy":
        yield from _libriheavy(unit.path, unit.audio_root or unit.path.parent)
    elif unit.kind == "emilia":
        yield from (_emilia_jsonl(unit.path) if unit.path.suffix == ".jsonl" else _emilia_tar(unit.path))
    else:
        # lazy: data imports torch and safetensors; only the generic manifest needs its reader
        from ttsbench.systems.speech.training.data import read_manifest

        for e in read_manifest(unit.path):
            yield {"id": e.id, "wav": str(e.wav), "text": e.text, "speaker": e.speaker, "lang": e.lang}


def _libritts_r(chapter: Path) -> Iterator[dict[str, Any]]:
    speaker = chapter.parent.name
    for text_file in sorted(chapter.glob("*.normalized.txt")):
        stem = text_file.name[: -len(".normalized.txt")]
        wav = chapter / f"{stem}.wav"
        text = text_file.read_text(encoding="utf-8").strip()
        if wav.is_file() and text:
            yield {"id": stem, "wav": str(wav.resolve()), "text": text, "speaker": speaker, "lang": "en"}


def _libriheavy(path: Path, audio_root: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                cut = json.loads(line)
                sup = cut["supervisions"][0]
                source = cut["recording"]["sources"][0]["source"]
            except (json.JSONDecodeError, KeyError, IndexError, TypeError):
                raise InputError(f"{path}:{n}: not a lhotse cut with supervisions and a recording source") from None
            text = sup.get("text") or ((sup.get("custom") or {}).get("texts") or [""])[0]
            if not str(text).strip():
                continue
            lang = str(sup.get("language") or "en")
            yield {"id": cut["id"], "wav": str((audio_root / source).resolve()), "text": str(text).strip(),
                   "speaker": str(sup.get("speaker") or ""), "lang": LANGS.get(lang.lower(), lang.lower()),
                   "start": float(cut["start"]) + float(sup.get("start") or 0.0),
                   "duration": float(sup.get("duration") or cut["duration"])}


def _emilia_row(meta: dict[str, Any], wav: Path, member: str) -> dict[str, Any] | None:
    text = str(meta.get("text") or "").strip()
    uid = str(meta.get("id") or meta.get("_id") or "")
    if not text or not uid:
        return None
    row = {"id": uid, "wav": str(wav.resolve()), "text": text, "speaker": str(meta.get("speaker") or ""),
           "lang": str(meta.get("language") or "en").lower()}
    if member:
        row["member"] = member
    if meta.get("duration"):
        row["seconds"] = float(meta["duration"])
    return row


def _emilia_tar(path: Path) -> Iterator[dict[str, Any]]:
    """Webdataset shard: pair `<key>.json` with `<key>.<audio>`; members of one key are adjacent."""
    pending: dict[str, dict[str, Any]] = {}
    with tarfile.open(path, "r:*") as tar:
        for info in tar:
            if not info.isfile():
                continue
            key, _, ext = info.name.rpartition(".")
            slot = pending.setdefault(key, {})
            if ext == "json":
                handle = tar.extractfile(info)
                slot["json"] = json.loads(handle.read().decode("utf-8")) if handle else {}
            elif f".{ext.lower()}" in AUDIO_EXTS:
                slot["audio"] = info.name
            if "json" in slot and "audio" in slot:
                row = _emilia_row(slot["json"], path, slot["audio"])
                del pending[key]
                if row is not None:
                    yield row
            if len(pending) > 64:  # webdataset keeps a key's files together: a long tail means no pair
                raise InputError(f"{path}: members are not grouped by key (webdataset layout expected)")


def _emilia_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Original release: rows name the mp3 inside <stem>.tar[.gz] or an extracted <stem>/ folder."""
    stem = path.with_suffix("")
    archive = next((a for a in (stem.with_suffix(".tar"), stem.with_suffix(".tar.gz")) if a.is_file()), None)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                meta = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"{path}:{n}: not JSON ({err.msg})") from None
            rel = str(meta.get("wav") or "")
            if not rel:
                raise InputError(f"{path}:{n}: no 'wav' (the mp3's path in the batch)")
            extracted = path.parent / rel
            if extracted.is_file():
                row = _emilia_row(meta, extracted, "")
            elif archive is not None:
                row = _emilia_row(meta, archive, rel)
            else:
                raise InputError(f"{path}:{n}: {rel} is neither extracted under {path.parent} nor in "
                                 f"{stem.name}.tar[.gz]")
            if row is not None:
                yield row


def is_dev_speaker(speaker: str, seed: int, fraction: float) -> bool:
    """The speaker-disjoint split: a pure function of (seed, speaker), no global speaker list."""
    h = int.from_bytes(hashlib.sha256(f"{seed}|{speaker}".encode()).digest()[:8], "big")
    return h / 2**64 < fraction


def import_unit(unit: Unit, parts: Path, max_seconds: float = 0.0) -> Path:
    """Write one unit's rows to `<parts>/<key>.jsonl` (atomically; kept when it exists)."""
    target = parts / f"{unit.key}.jsonl"
    if target.is_file():
        return target
    parts.mkdir(parents=True, exist_ok=True)
    part = temp_path(target)
    with part.open("w", encoding="utf-8") as fh:
        for row in read_unit(unit):
            seconds = row.get("duration") or row.get("seconds") or 0.0
            if max_seconds and seconds and seconds > max_seconds:
                continue
            fh.write(json.dumps(row) + "\n")
    part.replace(target)
    return target


def import_corpus(kind: str, source: str | Path, out: str | Path, *, audio_root: str | Path | None = None,
                  dev_fraction: float = 0.02, seed: int = 0, workers: int = 1, max_seconds: float = 0.0,
                  rank: int = 0, world_size: int = 1, barrier: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Import a corpus (module docstring); returns counts. Rank 0 merges after `barrier()`."""
    if not 0.0 <= dev_fraction < 1.0:
        raise InputError(f"dev fraction {dev_fraction}; expected 0 <= fraction < 1")
    out = Path(out)
    units = find_units(kind, source, audio_root)
    mine = units[rank::world_size]
    parts = out / "parts"
    if workers > 1 and len(mine) > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(import_unit, mine, [parts] * len(mine), [max_seconds] * len(mine)))
    else:
        for unit in mine:
            import_unit(unit, parts, max_seconds)
    barrier()
    if rank != 0:
        return {}
    return _merge(units, parts, out, dev_fraction, seed)


def _merge(units: list[Unit], parts: Path, out: Path, dev_fraction: float, seed: int) -> dict[str, Any]:
    counts = {"units": len(units), "train": 0, "dev": 0, "train_speakers": set(), "dev_speakers": set()}
    by_speaker: dict[str, list[dict[str, Any]]] = {}
    train_tmp, dev_tmp = temp_path(out / "train.jsonl"), temp_path(out / "dev.jsonl")
    with train_tmp.open("w", encoding="utf-8") as train, dev_tmp.open("w", encoding="utf-8") as dev:
        for unit in units:
            with (parts / f"{unit.key}.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    split = "dev" if is_dev_speaker(row["speaker"] or row["id"], seed, dev_fraction) else "train"
                    (dev if split == "dev" else train).write(line)
                    counts[split] += 1
                    counts[f"{split}_speakers"].add(row["speaker"])
                    if split == "dev":
                        by_speaker.setdefault(row["speaker"], []).append(row)
    train_tmp.replace(out / "train.jsonl")
    dev_tmp.replace(out / "dev.jsonl")
    prompts = []
    for speaker, rows in sorted(by_speaker.items()):
        for i, row in enumerate(rows if len(rows) > 1 else []):
            nxt = rows[(i + 1) % len(rows)]
            if row.get("member") or nxt.get("member") or row.get("start") or nxt.get("start"):
                continue  # a prompt set needs plain audio files; segments and tar members are training-only
            prompts.append({"utt_id": row["id"].replace("/", "_"), "prompt_wav": nxt["wav"], "prompt_text": nxt["text"],
                            "target_text": row["text"], "lang": row["lang"], "reference_wav": row["wav"],
                            "speaker": speaker})
    (out / "dev_prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts), encoding="utf-8")
    return {**counts, "train_speakers": len(counts["train_speakers"]), "dev_speakers": len(counts["dev_speakers"]),
            "dev_prompts": len(prompts)}
