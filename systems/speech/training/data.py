"""DiTAR training data: a manifest of (wav, text, speaker, lang) -> cached latents and phone ids.

Manifest: JSONL (one object per line) or CSV/TSV with a header. Columns: `wav` (path, relative to
the manifest's folder unless absolute), `text`, and optionally `speaker` (default ""), `lang`
(default "en"), `id` (default: the row number and wav stem).

Cache layout (built once, resumable: finished shards are kept, a crash loses at most one shard)::

    <cache_dir>/latents-<key>/meta.json                 tokenizer description + manifest checksum
    <cache_dir>/latents-<key>/shard_00000.safetensors    "<row>" -> (T, C) latent means (float32) or codes (int64)
    <cache_dir>/latents-<key>/shard_00000.json           per row: id, frames
    <cache_dir>/phones-<key>/shard_00000.json            per row: id, phone ids

`<key>` hashes the manifest contents with the tokenizer fingerprint (latents) or the phone front
end's description (phones), so changing either re-encodes into a new folder and never mixes.
Under torchrun each rank encodes the shards `i % world_size == rank`, then all ranks read all.
Latents are encoded one utterance at a time (no padding), so cached frames equal `encode(wav)`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from ttsbench.errors import InputError
from ttsbench.paths import temp_path
from ttsbench.systems.speech.batch import SpeechBatch
from ttsbench.systems.speech.latent_stats import LatentStats, compute_stats, load_stats
from ttsbench.systems.speech.training.audio_source import AudioSource

SHARD_SIZE = 256  # utterances per cache shard


@dataclass(frozen=True)
class ManifestEntry:
    """One training utterance."""

    id: str
    wav: Path
    text: str
    speaker: str = ""
    lang: str = "en"
    start: float = 0.0  # seconds into `wav` where the utterance starts (LibriHeavy cuts)
    duration: float = 0.0  # seconds; 0 = to the end of the file
    member: str = ""  # set: `wav` is a tar archive and the audio is this member (Emilia shards)


class PhoneEncoder(Protocol):
    """What the cache needs from a G2P front end: text -> phone ids (0 is padding, never emitted)."""

    def encode(self, text: str, lang: str) -> list[int]: ...

    def describe(self) -> dict[str, Any]: ...


def read_manifest(path: str | Path, *, need_text: bool = True) -> list[ManifestEntry]:
    """Rows of a JSONL / CSV / TSV manifest; a missing column or empty text names the row."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise InputError(f"{path}:{n}: not JSON ({err.msg})") from None
    elif suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ","))
    else:
        raise InputError(f"manifest {path}: expected .jsonl, .csv or .tsv")
    if not rows:
        raise InputError(f"manifest {path} has no rows")
    return [_entry(row, n, path, need_text) for n, row in enumerate(rows)]


def _entry(row: dict[str, Any], n: int, path: Path, need_text: bool) -> ManifestEntry:
    if not row.get("wav"):
        raise InputError(f"{path}: row {n + 1} has no 'wav' column")
    wav = Path(str(row["wav"])).expanduser()
    wav = wav if wav.is_absolute() else path.parent / wav
    text = str(row.get("text") or "").strip()
    if need_text and not text:
        raise InputError(f"{path}: row {n + 1} ({wav.name}) has an empty 'text'")
    uid = str(row.get("id") or f"{n:07d}-{wav.stem}")
    try:
        start, duration = float(row.get("start") or 0.0), float(row.get("duration") or 0.0)
    except (TypeError, ValueError):
        raise InputError(f"{path}: row {n + 1} ({wav.name}) has a non-numeric start or duration") from None
    return ManifestEntry(uid, wav, text, str(row.get("speaker") or ""), str(row.get("lang") or "en"),
                         start, duration, str(row.get("member") or ""))


def manifest_checksum(entries: Sequence[ManifestEntry]) -> str:
    """sha256 over ids, paths, texts, speakers and languages (not the audio bytes)."""
    h = hashlib.sha256()
    for e in entries:
        extra = [e.start, e.duration, e.member] if (e.start or e.duration or e.member) else []
        h.update(json.dumps([e.id, str(e.wav), e.text, e.speaker, e.lang, *extra]).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class CachedData:
    """Everything the sampler and collate need, in manifest order."""

    ids: list[str]
    frames: list[int]  # latent frames per utterance
    phones: list[list[int]]
    speakers: list[int]  # index into `speaker_names`, -1 when the manifest gives none
    speaker_names: list[str]
    latent_dir: Path
    stats: LatentStats | None = None  # set: collate standardises float latents per channel

    @property
    def shards(self) -> int:
        return (len(self.ids) + SHARD_SIZE - 1) // SHARD_SIZE

    def shard_of(self, row: int) -> Path:
        return self.latent_dir / f"shard_{row // SHARD_SIZE:05d}.safetensors"


def build_cache(entries: Sequence[ManifestEntry], cache_dir: str | Path, tokenizer: Any,
                phone_encoder: PhoneEncoder | None, *, rank: int = 0, world_size: int = 1,
                barrier: Callable[[], None] = lambda: None, progress: bool = False) -> CachedData:
    """Encode the shards this rank owns (skipping finished ones), wait for all ranks, load the index.

    With `phone_encoder=None` only the latents are cached (tokenizer training needs no text) and
    `CachedData.phones` holds empty lists.
    """
    checksum = manifest_checksum(entries)
    latent_dir = Path(cache_dir) / f"latents-{_key(checksum, tokenizer.fingerprint())}"
    phone_dir = None if phone_encoder is None else \
        Path(cache_dir) / f"phones-{_key(checksum, json.dumps(phone_encoder.describe(), sort_keys=True))}"
    shards = range((len(entries) + SHARD_SIZE - 1) // SHARD_SIZE)
    mine = [s for s in shards if s % world_size == rank]
    for shard in _progress(mine, progress, "caching latents"):
        rows = range(shard * SHARD_SIZE, min((shard + 1) * SHARD_SIZE, len(entries)))
        _build_latent_shard(entries, rows, latent_dir, shard, tokenizer)
        if phone_encoder is not None:
            _build_phone_shard(entries, rows, phone_dir, shard, phone_encoder)
    if rank == 0:
        _write_meta(latent_dir, {"tokenizer": tokenizer.describe(), "manifest_sha256": checksum,
                                 "rows": len(entries)})
        if phone_encoder is not None:
            _write_meta(phone_dir, {"frontend": phone_encoder.describe(), "manifest_sha256": checksum})
    barrier()
    return _load_index(entries, latent_dir, phone_dir, len(shards))


@torch.no_grad()
def _build_latent_shard(entries: Sequence[ManifestEntry], rows: range, folder: Path, shard: int,
                        tokenizer: Any) -> None:
    target = folder / f"shard_{shard:05d}.safetensors"
    if target.is_file() and (folder / f"shard_{shard:05d}.json").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    device = next((b.device for b in tokenizer.buffers()), None) or next(
        (p.device for p in tokenizer.parameters()), torch.device("cpu"))
    tensors, index = {}, []
    audio = AudioSource()
    for row in rows:
        wav = audio.read(entries[row], tokenizer.sample_rate)
        latents = tokenizer.encode(torch.from_numpy(wav)[None].to(device))[0]  # (T, C)
        latents = latents if not latents.is_floating_point() else latents.float()  # discrete codes stay integers
        tensors[str(row)] = latents.cpu().contiguous()
        index.append({"id": entries[row].id, "frames": int(latents.shape[0])})
    audio.close()
    part = temp_path(target)
    save_file(tensors, str(part))
    part.replace(target)
    _write_json(folder / f"shard_{shard:05d}.json", index)


def _build_phone_shard(entries: Sequence[ManifestEntry], rows: range, folder: Path, shard: int,
                       encoder: PhoneEncoder) -> None:
    target = folder / f"shard_{shard:05d}.json"
    if target.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for row in rows:
        ids = [int(i) for i in encoder.encode(entries[row].text, entries[row].lang)]
        if not ids or min(ids) <= 0:
            raise InputError(f"{entries[row].wav}: the phone front end gave {ids[:8]} for {entries[row].text!r} "
                             "(needs at least one phone, ids > 0)")
        index.append({"id": entries[row].id, "phones": ids})
    _write_json(target, index)


def _load_index(entries: Sequence[ManifestEntry], latent_dir: Path, phone_dir: Path | None,
                shards: int) -> CachedData:
    frames: list[int] = []
    phones: list[list[int]] = []
    for shard in range(shards):
        lat = json.loads((latent_dir / f"shard_{shard:05d}.json").read_text())
        frames += [r["frames"] for r in lat]
        if phone_dir is None:
            phones += [[] for _ in lat]
        else:
            phones += [r["phones"] for r in json.loads((phone_dir / f"shard_{shard:05d}.json").read_text())]
    if len(frames) != len(entries) or len(phones) != len(entries):
        raise InputError(f"cache {latent_dir} is incomplete ({len(frames)} of {len(entries)} rows); delete it")
    names = sorted({e.speaker for e in entries if e.speaker})
    lookup = {name: i for i, name in enumerate(names)}
    speakers = [lookup.get(e.speaker, -1) for e in entries]
    return CachedData([e.id for e in entries], frames, phones, speakers, names, latent_dir)


class LatentReader:
    """Reads cached latents by row, keeping shard files open (one reader per DataLoader worker)."""

    def __init__(self, data: CachedData) -> None:
        self.data = data
        self._open: dict[Path, Any] = {}

    def latents(self, row: int) -> torch.Tensor:
        path = self.data.shard_of(row)
        if path not in self._open:
            self._open[path] = safe_open(str(path), framework="pt")
        return self._open[path].get_tensor(str(row))

    def collate(self, rows: Sequence[int]) -> SpeechBatch:
        """Right-pad phones with 0 and latents with zeros into a SpeechBatch (latents standardised
        first when the data carries stats; the padding is then zeros in standardised space)."""
        latents = [self.latents(r) for r in rows]
        if self.data.stats is not None:
            latents = [self.data.stats.standardize(z) if z.is_floating_point() else z for z in latents]
        phones = [torch.tensor(self.data.phones[r], dtype=torch.long) for r in rows]
        return SpeechBatch(
            phones=torch.nn.utils.rnn.pad_sequence(phones, batch_first=True, padding_value=0),
            phone_lens=torch.tensor([len(p) for p in phones], dtype=torch.long),
            latents=torch.nn.utils.rnn.pad_sequence(latents, batch_first=True, padding_value=0.0),
            latent_lens=torch.tensor([x.shape[0] for x in latents], dtype=torch.long),
            speaker=torch.tensor([self.data.speakers[r] for r in rows], dtype=torch.long))


def corpus_stats(data: CachedData, tokenizer_fingerprint: str = "") -> LatentStats:
    """Per-channel mean/std of the cached latents over the whole corpus, cached as
    `<latent_dir>/latent_stats.json` (computed once; every rank reads the same file)."""
    cached = load_stats(data.latent_dir)
    if cached is not None and cached.frames == sum(data.frames):
        return cached
    reader = LatentReader(data)
    stats = compute_stats((reader.latents(r) for r in range(len(data.ids))), tokenizer_fingerprint)
    stats.save(data.latent_dir)
    return stats


def _key(checksum: str, what: str) -> str:
    return hashlib.sha256(f"{checksum}|{what}".encode()).hexdigest()[:16]


def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "meta.json", meta)


def _write_json(path: Path, value: Any) -> None:
    part = temp_path(path)
    part.write_text(json.dumps(value), encoding="utf-8")
    part.replace(path)


def _progress(items: Sequence[int], enabled: bool, desc: str) -> Sequence[int]:
    if not enabled:
        return items

    return tqdm(items, desc=desc, unit="shard")
