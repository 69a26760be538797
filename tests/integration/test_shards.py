"""Sharded runs: `--shard I/N` invocations (a job array) and torchrun ranks give exactly the audio,
scores and summary of one process, resume per shard, and a merge names the shards not finished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ttsbench.cli import main
from ttsbench.errors import InputError
from ttsbench.locking import exclusive
from ttsbench.shards import Shard, launch, owner
from ttsbench.store import latest_scores, latest_synth, read_jsonl

SYSTEM = "ditar-tiny:nfe=2"  # stochastic: equal audio needs the per-utterance seeding to hold
METRICS = "duration"


@pytest.fixture
def six_manifest(tmp_path: Path, make_wav) -> Path:
    rows = []
    for i in range(6):
        make_wav(f"set/p{i}.wav", seconds=0.3 + 0.05 * i, freq=180 + 40 * i)
        rows.append({"utt_id": f"utt{i}", "prompt_wav": f"p{i}.wav", "prompt_text": f"prompt {i}",
                     "target_text": f"target sentence {i}", "lang": "en"})
    path = tmp_path / "set" / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(manifest: Path, out: Path, *extra: str) -> int:
    return main(["run", "--system", SYSTEM, "--prompt-set", str(manifest), "--metrics", METRICS, "--seed", "3",
                 "--out", str(out), "--quiet", *extra])


def _run_dir(out: Path) -> Path:
    (d,) = {p.parent for p in out.rglob("run*.json")}
    return d


def _same_results(a: Path, b: Path) -> None:
    wavs_a = {p.name: p.read_bytes() for p in (a / "wavs").iterdir()}
    assert wavs_a == {p.name: p.read_bytes() for p in (b / "wavs").iterdir()} and len(wavs_a) == 6
    stats = {k: r.stats for k, r in latest_scores(a).items()}
    assert stats == {k: r.stats for k, r in latest_scores(b).items()} and len(stats) == 6
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa["metrics"] == sb["metrics"] and sa["n_expected"] == sb["n_expected"] == 6
    assert sa["synth"]["ok"] == sb["synth"]["ok"] == 6


def test_the_split_is_a_stable_partition():
    ids = [f"utt{i}" for i in range(200)]
    parts = [Shard(i, 4).select([_Id(u) for u in ids]) for i in range(4)]
    assert sorted(x.utt_id for part in parts for x in part) == sorted(ids)  # each id in exactly one shard
    assert all(20 < len(part) < 80 for part in parts)
    assert owner("utt7", 4) == owner("utt7", 4) and Shard.parse(" 1 / 4 ") == Shard(1, 4)
    for bad in ("4/4", "1", "-1/2", "a/b"):
        with pytest.raises(InputError, match="shard"):
            Shard.parse(bad)


def test_launch_reads_torchrun_and_refuses_both(monkeypatch):
    assert launch(None).shard is None and launch("1/3").shard == Shard(1, 3)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    got = launch(None)
    assert got.shard == Shard(1, 2) and got.distributed and got.local_rank == 1
    with pytest.raises(InputError, match="torchrun"):
        launch("0/2")


def test_two_shards_equal_one_process(six_manifest, tmp_path, capsys):
    assert _run(six_manifest, tmp_path / "one") == 0
    assert _run(six_manifest, tmp_path / "two", "--shard", "0/2") == 0
    root = _run_dir(tmp_path / "two")
    assert "ttsbench merge" in capsys.readouterr().out and not (root / "summary.json").exists()
    mine = {r["utt_id"] for r in read_jsonl(root / "synth.0-of-2.jsonl")}
    assert mine == {f"utt{i}" for i in range(6) if owner(f"utt{i}", 2) == 0}
    assert _run(six_manifest, tmp_path / "two", "--shard", "1/2") == 0  # the last shard merges
    assert not (root / "synth.jsonl").exists() and not (root / "scores.jsonl").exists()
    _same_results(_run_dir(tmp_path / "one"), root)
    summary = json.loads((root / "summary.json").read_text())
    assert summary["shards"] == {"count": 2, "finished": [0, 1], "missing": []}
    assert json.loads((root / "run.json").read_text())["metrics"].keys() == {"duration"}


def test_merge_names_missing_shards_and_shards_resume(six_manifest, tmp_path, capsys):
    out = tmp_path / "runs"
    assert _run(six_manifest, out, "--shard", "2/3") == 0
    root = _run_dir(out)
    assert main(["merge", str(root)]) == 0
    said = capsys.readouterr().out
    assert "shards not finished: 0, 1 of 3" in said
    summary = json.loads((root / "summary.json").read_text())
    assert summary["shards"]["missing"] == [0, 1] and summary["synth"]["ok"] == len(
        [u for u in range(6) if owner(f"utt{u}", 3) == 2])
    before = (root / "synth.2-of-3.jsonl").read_bytes()
    assert _run(six_manifest, out, "--shard", "2/3") == 0  # a re-run of a finished shard does nothing
    assert (root / "synth.2-of-3.jsonl").read_bytes() == before
    with exclusive(root, "run.0-of-3.lock"):  # shard 0 is running elsewhere: shard 1 still runs
        assert _run(six_manifest, out, "--shard", "1/3") == 0
    with exclusive(root, what="ttsbench job"), pytest.raises(InputError, match="in use"):
        _run_shard_api(six_manifest, out, Shard(0, 3))  # a whole-run job holds the directory
    assert main(["report", str(out)]) == 0  # a report merges what has finished since
    assert json.loads((root / "summary.json").read_text())["shards"]["missing"] == [0]
    assert _run(six_manifest, out, "--shard", "0/3") == 0
    assert len(latest_synth(root)) == 6
    assert json.loads((root / "summary.json").read_text())["shards"]["missing"] == []
    # a whole run afterwards finds everything done: no new rows anywhere
    assert _run(six_manifest, out) == 0
    assert not (root / "synth.jsonl").exists() and not (root / "scores.jsonl").exists()


def test_score_follows_the_split(six_manifest, tmp_path, capsys):
    assert _run(six_manifest, tmp_path / "runs") == 0
    root = _run_dir(tmp_path / "runs")
    for shard in ("0/2", "1/2"):
        assert main(["score", str(root), "--metrics", "sim-resemblyzer", "--shard", shard, "--quiet"]) == 0
    rows = read_jsonl(root / "scores.0-of-2.jsonl") + read_jsonl(root / "scores.1-of-2.jsonl")
    assert sorted(r["utt_id"] for r in rows) == [f"utt{i}" for i in range(6)]
    summary = json.loads((root / "summary.json").read_text())
    assert summary["metrics"]["sim-resemblyzer"]["n_scored"] == 6


def test_torchrun_two_ranks_equal_one_process(torchrun, one_thread, six_manifest, tmp_path):
    # one thread here as in each rank (OMP_NUM_THREADS=1): a CPU matmul may round differently per thread count
    assert _run(six_manifest, tmp_path / "one") == 0
    torchrun(tmp_path, "run", "--system", SYSTEM, "--prompt-set", str(six_manifest), "--metrics", METRICS,
             "--seed", "3", "--out", str(tmp_path / "two"), "--quiet")
    root = _run_dir(tmp_path / "two")
    assert sorted(p.name for p in root.glob("synth.*.jsonl")) == ["synth.0-of-2.jsonl", "synth.1-of-2.jsonl"]
    _same_results(_run_dir(tmp_path / "one"), root)


class _Id:
    def __init__(self, utt_id: str) -> None:
        self.utt_id = utt_id


def _run_shard_api(manifest: Path, out: Path, shard: Shard) -> None:
    from ttsbench.pipeline import run
    from ttsbench.spec import RunSpec, parse_metrics
    from ttsbench.types import SystemSpec

    run(RunSpec(system=SystemSpec.parse(SYSTEM), prompt_set=str(manifest), metrics=parse_metrics(METRICS), seed=3,
                out=out), progress=False, shard=shard)
