"""Corpus readers on tiny fixtures in each corpus's real layout (built here): LibriTTS-R folders with
.normalized.txt, LibriHeavy lhotse cuts (jsonl.gz, segments of a long flac), Emilia webdataset tars
and the original JSONL + tar.gz batches (audio read from the archives, never extracted); the
speaker-disjoint dev split, resuming, and the audio the trainer's cache reads."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ttsbench.errors import InputError
from ttsbench.systems.speech.training.audio_source import AudioSource
from ttsbench.systems.speech.training.corpora import find_units, import_corpus, is_dev_speaker, read_unit
from ttsbench.systems.speech.training.data import read_manifest


def tone(seconds: float, sr: int, f0: float) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def wav_bytes(wav: np.ndarray, sr: int, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wav, sr, format=fmt)
    return buf.getvalue()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def libritts_r(root: Path, speakers=("19", "26", "32"), per=2) -> Path:
    for s in speakers:
        chapter = root / "train-clean-100" / s / "198"
        chapter.mkdir(parents=True)
        for i in range(per):
            stem = f"{s}_198_000000_00000{i}"
            sf.write(str(chapter / f"{stem}.wav"), tone(0.5, 24_000, 200 + i), 24_000)
            (chapter / f"{stem}.normalized.txt").write_text(f"Speaker {s} says line {i}.")
            (chapter / f"{stem}.original.txt").write_text(f"speaker {s} says line {i}")
        (chapter / f"{s}_198.trans.tsv").write_text("ignored\n")
        sf.write(str(chapter / f"{s}_198_000000_000009.wav"), tone(0.2, 24_000, 100), 24_000)  # no text: skipped
    return root


def test_libritts_r_layout_and_speaker_disjoint_dev(tmp_path):
    root = libritts_r(tmp_path / "LibriTTS_R")
    units = find_units("libritts-r", root)
    assert len(units) == 3
    rows = list(read_unit(units[0]))
    assert [r["id"] for r in rows] == ["19_198_000000_000000", "19_198_000000_000001"]
    assert rows[0]["text"] == "Speaker 19 says line 0." and rows[0]["speaker"] == "19"
    fraction = 0.5
    dev_speakers = {s for s in ("19", "26", "32") if is_dev_speaker(s, 1, fraction)}
    counts = import_corpus("libritts-r", root, tmp_path / "out", dev_fraction=fraction, seed=1)
    train, dev = read_manifest(tmp_path / "out" / "train.jsonl"), []
    if (tmp_path / "out" / "dev.jsonl").read_text().strip():
        dev = read_manifest(tmp_path / "out" / "dev.jsonl")
    assert {e.speaker for e in dev} == dev_speakers and not {e.speaker for e in train} & dev_speakers
    assert counts["train"] + counts["dev"] == 6 and counts["dev_prompts"] == 2 * len(dev_speakers)
    wav = AudioSource().read(train[0], 16_000)
    assert wav.shape == (8000,)  # 0.5 s read and resampled


def test_import_resumes_from_finished_parts_and_spreads_over_ranks(tmp_path):
    root = libritts_r(tmp_path / "L")
    out = tmp_path / "out"
    import_corpus("libritts-r", root, out, dev_fraction=0.0, rank=1, world_size=2)  # rank 1: unit 1 only
    assert len(list((out / "parts").glob("*.jsonl"))) == 1 and not (out / "train.jsonl").exists()
    part = next((out / "parts").glob("*.jsonl"))
    part.write_text(part.read_text().replace("says", "SAID"))  # a finished part is kept as it is
    counts = import_corpus("libritts-r", root, out, dev_fraction=0.0, workers=2)
    assert counts["train"] == 6 and "SAID" in (out / "train.jsonl").read_text()


def test_libriheavy_cuts_read_segments_of_the_long_recording(tmp_path):
    book = tmp_path / "download" / "librilight" / "small" / "100" / "sea_fairies"
    book.mkdir(parents=True)
    sr = 16_000
    long = np.concatenate([tone(1.0, sr, 100), tone(1.0, sr, 400), tone(1.0, sr, 800)])
    sf.write(str(book / "01_baum.flac"), long, sr)
    cuts = []
    for i, (start, text) in enumerate([(1.0, "The little girl was thoughtful."), (2.0, "She asked.")]):
        rec_id = "small/100/sea_fairies/01_baum"
        cuts.append({"id": f"{rec_id}_{i}", "start": start, "duration": 1.0, "channel": 0, "type": "MonoCut",
                     "supervisions": [{"id": f"{rec_id}_{i}", "recording_id": rec_id, "start": 0, "duration": 1.0,
                                       "channel": 0, "language": "English", "speaker": "100",
                                       "custom": {"texts": [text, text.upper().rstrip(".")], "pre_texts": ["", ""],
                                                  "begin_byte": 0, "end_byte": 10}}],
                     "recording": {"id": rec_id, "sources": [{"type": "file", "channels": [0],
                                                              "source": "download/librilight/small/100/sea_fairies/01_baum.flac"}],
                                   "sampling_rate": sr, "num_samples": len(long), "duration": 3.0, "channel_ids": [0]},
                     "custom": {"text_path": "download/librilight_text/x.txt"}})
    manifest = tmp_path / "libriheavy_cuts_small.jsonl.gz"
    with gzip.open(manifest, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(c) + "\n" for c in cuts))
    import_corpus("libriheavy", manifest, tmp_path / "out", dev_fraction=0.0)
    entries = read_manifest(tmp_path / "out" / "train.jsonl")
    assert [e.text for e in entries] == ["The little girl was thoughtful.", "She asked."]  # cased, punctuated
    assert (entries[1].start, entries[1].duration, entries[1].lang) == (2.0, 1.0, "en")
    seg = AudioSource().read(entries[1], sr)
    assert seg.shape == (sr,) and np.allclose(seg, tone(1.0, sr, 800), atol=1e-3)  # the third second


def test_emilia_webdataset_tar_streams_pairs_and_reads_members(tmp_path):
    shard = tmp_path / "Emilia" / "EN" / "EN-B000000.tar"
    shard.parent.mkdir(parents=True)
    with tarfile.open(shard, "w") as tar:
        for i in range(3):
            key = f"EN_B00000_S0000{i % 2}_W00000{i}"
            meta = {"id": key, "text": f"utterance {i} here", "duration": 0.4, "speaker": f"EN_B00000_S0000{i % 2}",
                    "language": "en", "dnsmos": 3.3}
            add(tar, f"{key}.json", json.dumps(meta).encode())
            add(tar, f"{key}.mp3", wav_bytes(tone(0.4, 24_000, 300 + 100 * i), 24_000, "MP3"))
    import_corpus("emilia", tmp_path / "Emilia", tmp_path / "out", dev_fraction=0.0)
    entries = read_manifest(tmp_path / "out" / "train.jsonl")
    assert [e.member for e in entries] == [f"EN_B00000_S0000{i % 2}_W00000{i}.mp3" for i in range(3)]
    assert {e.wav for e in entries} == {shard.resolve()} and entries[2].speaker == "EN_B00000_S00000"
    source = AudioSource()
    wavs = [source.read(e, 24_000) for e in entries]  # straight out of the tar
    source.close()
    assert all(abs(len(w) - 9600) < 2400 for w in wavs) and not any((tmp_path / "out").rglob("*.mp3"))


def test_emilia_original_jsonl_with_tar_gz_batch(tmp_path):
    batch = tmp_path / "EN"
    batch.mkdir()
    rows = []
    with tarfile.open(batch / "EN_B00000.tar.gz", "w:gz") as tar:
        for i in range(2):
            rel = f"EN_B00000/EN_B00000_S00000/mp3/EN_B00000_S00000_W00000{i}.mp3"
            add(tar, rel, wav_bytes(tone(0.3, 24_000, 250), 24_000, "MP3"))
            rows.append({"id": f"EN_B00000_S00000_W00000{i}", "wav": rel, "text": f"line {i}", "duration": 0.3,
                         "speaker": "EN_B00000_S00000", "language": "en", "dnsmos": 3.1})
    (batch / "EN_B00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    import_corpus("emilia", tmp_path, tmp_path / "out", dev_fraction=0.0)
    entries = read_manifest(tmp_path / "out" / "train.jsonl")
    assert [e.member for e in entries] == [r["wav"] for r in rows] and entries[0].wav.name == "EN_B00000.tar.gz"
    assert len(AudioSource().read(entries[1], 24_000)) > 0
    (batch / "EN_B00000.tar.gz").unlink()
    with pytest.raises(InputError, match="neither extracted"):
        import_corpus("emilia", tmp_path, tmp_path / "out2", dev_fraction=0.0)


def test_generic_manifest_and_bad_input(tmp_path):
    sf.write(str(tmp_path / "a.wav"), tone(0.3, 24_000, 200), 24_000)
    (tmp_path / "m.jsonl").write_text(json.dumps({"wav": "a.wav", "text": "hello", "speaker": "s"}) + "\n")
    counts = import_corpus("manifest", tmp_path / "m.jsonl", tmp_path / "out", dev_fraction=0.0)
    assert counts["train"] == 1 and read_manifest(tmp_path / "out" / "train.jsonl")[0].wav == tmp_path / "a.wav"
    with pytest.raises(InputError, match="corpus kind"):
        find_units("vctk", tmp_path)
    with pytest.raises(InputError, match="no libritts-r data"):
        find_units("libritts-r", tmp_path)


def test_cli_import(tmp_path, capsys):
    from ttsbench.cli import main

    root = libritts_r(tmp_path / "L")
    assert main(["corpus", "--import-from", "libritts-r", "--source", str(root), "--out", str(tmp_path / "o"),
                 "--dev-fraction", "0"]) == 0
    assert "6 utterances, 3 speakers" in capsys.readouterr().out
