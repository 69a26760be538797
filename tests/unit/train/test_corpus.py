"""`ttsbench corpus`: a seeded, resumable multi-speaker eSpeak NG corpus that the trainers can read."""

from __future__ import annotations

import json

import pytest

from ttsbench.cli import main
from ttsbench.corpus import build_corpus, make_speakers
from ttsbench.errors import InputError
from ttsbench.sentences import sentences


def test_sentences_are_seeded_and_prefix_stable():
    assert sentences(20, 3) == sentences(20, 3) and sentences(5, 3) == sentences(20, 3)[:5]
    assert sentences(20, 3) != sentences(20, 4)
    many = sentences(300, 0)
    assert len(set(many)) > 290 and all(s[0].isupper() and s[-1] in ".?" for s in many)
    assert not any(" a a" in s or " a e" in s or " a o" in s for s in many)  # "an" before vowels


def test_speakers_are_distinct_voices():
    speakers = make_speakers(40, seed=1)
    assert len({s.voice for s in speakers}) == 40 and len({s.id for s in speakers}) == 40
    assert all(25 <= s.pitch <= 75 and 145 <= s.rate <= 205 for s in speakers)
    with pytest.raises(InputError, match="choose 1 to"):
        make_speakers(0)


def test_corpus_is_readable_by_the_trainer_and_resumes(tmp_path):
    import soundfile as sf

    from ttsbench.systems.speech.training.data import read_manifest

    manifest = build_corpus(tmp_path / "c", speakers=2, per_speaker=2, seed=5)
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["speaker"] for r in rows] == ["spk000", "spk001", "spk000", "spk001"]
    entries = read_manifest(manifest)
    assert len(entries) == 4 and entries[0].text == sentences(4, 5)[0]
    info = sf.info(str(entries[1].wav))
    assert info.samplerate == 24_000 and 0.5 < info.duration == pytest.approx(rows[1]["seconds"], abs=1e-3)
    first = {r["wav"]: (tmp_path / "c" / r["wav"]).stat().st_mtime_ns for r in rows}
    (tmp_path / "c" / rows[3]["wav"]).unlink()  # as if the first run crashed before the last file
    again = build_corpus(tmp_path / "c", speakers=2, per_speaker=2, seed=5)
    assert again.read_text() == manifest.read_text()
    for r in rows[:3]:
        assert (tmp_path / "c" / r["wav"]).stat().st_mtime_ns == first[r["wav"]]  # kept, not rewritten
    four = manifest.read_text()
    more = build_corpus(tmp_path / "c", speakers=2, per_speaker=3, seed=5).read_text()  # growing resumes too
    assert more.startswith(four) and len(more.splitlines()) == 6  # the first rows keep their wavs and texts
    with pytest.raises(InputError, match=r"other settings \(seed 5 -> 6\); use the same ones to resume"):
        build_corpus(tmp_path / "c", speakers=2, per_speaker=2, seed=6)  # its kept wavs would not match


def test_cli_takes_texts_from_a_file(tmp_path, capsys):
    (tmp_path / "t.txt").write_text("The first line.\n\nA second one?\n")
    assert main(["corpus", "--out", str(tmp_path / "c"), "--speakers", "1", "--per-speaker", "3",
                 "--texts", str(tmp_path / "t.txt")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "c" / "train.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["The first line.", "A second one?", "The first line."]
    assert "3 utterances, 1 speakers" in capsys.readouterr().out
    assert main(["corpus", "--out", str(tmp_path / "d"), "--texts", str(tmp_path / "missing.txt")]) == 2


def test_everyday_sentences_are_coherent_distinct_and_seeded():
    from ttsbench.sentences import everyday_sentences

    many = everyday_sentences(500, 2)
    assert many == everyday_sentences(500, 2) and many[:10] == everyday_sentences(10, 2)
    assert len(set(many)) == 500 and all(s[0].isupper() and s[-1] in ".?" for s in many)
    words = [w for s in many for w in s.lower().rstrip(".?").replace(",", "").split()]
    top = {w for w, _ in __import__("collections").Counter(words).most_common(8)}
    assert {"the", "to"} <= top  # function words lead, as in ordinary English


def test_clear_voices_hold_out_voices_and_sentences(tmp_path):
    from ttsbench.corpus import make_clear_speakers
    from ttsbench.prompt_sets import load_prompt_set

    voices = make_clear_speakers(5, seed=0, neural=())
    assert all(v.engine == "espeak" and "croak" not in v.voice and "scotland" not in v.voice for v in voices)
    manifest = build_corpus(tmp_path / "c", speakers=4, per_speaker=2, seed=1, voices="clear", text_kind="everyday",
                            dev_speakers=1, dev_sentences=3, neural=())
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    dev = [json.loads(line) for line in (tmp_path / "c" / "dev.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["speaker"] for r in rows} == {"spk000", "spk001", "spk002"}
    assert len(dev) == 3 and {d["speaker"] for d in dev} == {"spk003"}  # the held-out voice only
    assert not {d["target_text"] for d in dev} & {r["text"] for r in rows}  # held-out sentences
    assert all(d["prompt_wav"] != d["reference_wav"] and d["prompt_text"] != d["target_text"] for d in dev)
    prompts = load_prompt_set(str(tmp_path / "c" / "dev.jsonl")).prompts  # a prompt set the harness reads
    assert len(prompts) == 3 and all(p.reference_wav.is_file() and p.prompt_wav.is_file() for p in prompts)
    with pytest.raises(InputError, match="hold out fewer voices"):
        build_corpus(tmp_path / "d", speakers=2, per_speaker=1, voices="clear", dev_speakers=2, dev_sentences=2,
                     neural=())
