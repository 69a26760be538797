"""`ttsbench compare`: the failure policy (worst value by default, --failed drop with a warning) and
several runs (seeds) per side."""

from __future__ import annotations

import json

import pytest

from ttsbench.cli import main
from ttsbench.reports.compare import compare_runs

TEXTS = [f"the quick brown fox number {i} jumps over the lazy dog" for i in range(12)]
IDS = [f"u{i:04d}" for i in range(12)]


@pytest.fixture
def pair(tmp_path, writers):
    """A reference that transcribes perfectly, and a system that fails hard prompts: synthesis fails
    on u0000 and scoring on u0001, the rest are perfect too."""
    manifest = writers.prompt_set(tmp_path / "set", TEXTS)
    runs = tmp_path / "runs"
    ref = writers.run(runs, manifest, "ref", dict(zip(IDS, TEXTS)))
    fails = writers.run(runs, manifest, "fails", dict(zip(IDS, TEXTS)),
                                synth_failed={"u0000": "NaN in output"}, score_failed={"u0001": "ASR crashed"})
    return ref, fails, manifest, runs


def rows_by_key(capsys) -> dict:
    return {(r["metric"], r["key"]): r for r in json.loads(capsys.readouterr().out)}


def test_failed_utterances_count_as_the_worst_value_by_default(pair, capsys):
    ref, fails, *_ = pair
    assert main(["compare", str(ref), str(fails), "--format", "json"]) == 0
    rows = rows_by_key(capsys)
    macro = rows[("wer-whisper-tiny-en", "wer_macro")]
    # 12 paired utterances; the two failures score WER 100 % each: (2 x 100) / 12
    assert macro["n"] == 12 and macro["failed"] == "worst" and macro["imputed_b"] == 2 and macro["imputed_a"] == 0
    assert macro["value_a"] == 0 and macro["value_b"] == pytest.approx(200 / 12)
    micro = rows[("wer-whisper-tiny-en", "wer_micro")]
    assert micro["n"] == 12 and micro["left_out"] == 0  # N of a failed utterance comes from the reference's row
    sim = rows[("sim-resemblyzer", "sim_o")]
    assert sim["imputed_b"] == 1 and sim["n"] == 12  # SIM failed only with the synthesis
    assert main(["compare", str(ref), str(fails)]) == 0
    out = capsys.readouterr().out
    assert "count as the worst value" in out and "imputed as worst: 0 A, 2 B" in out
    assert "wer-whisper-tiny-en: imputed as the worst value: 0 in A, 2 in B" in out


def test_failed_drop_keeps_the_old_behaviour_and_warns(pair, capsys):
    ref, fails, *_ = pair
    assert main(["compare", str(ref), str(fails), "--failed", "drop", "--format", "json"]) == 0
    captured = capsys.readouterr()
    macro = {(r["metric"], r["key"]): r for r in json.loads(captured.out)}[("wer-whisper-tiny-en", "wer_macro")]
    assert macro["n"] == 10 and macro["dropped_b"] == 2 and macro["diff"] == 0 and macro["failed"] == "drop"
    assert captured.err.startswith("ttsbench: warning: --failed drop:") and "wer-whisper-tiny-en: 0 failed in A, 2 in B" in captured.err
    assert captured.err.count("\n") == 1


def test_a_side_of_several_seeds_is_their_mean(pair, writers, capsys):
    ref, _, manifest, runs = pair
    wrong = dict(zip(IDS, TEXTS))
    seeds = []
    for seed in range(3):
        hyps = {u: (t if i % 3 != seed else t.replace("fox", "box")) for i, (u, t) in enumerate(wrong.items())}
        seeds.append(writers.run(runs, manifest, "seeded", hyps, seed=seed))
    folder = seeds[0].parent
    assert main(["compare", str(ref), str(folder), "--metric", "wer-whisper-tiny-en", "--key", "wer_macro",
                 "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["runs_b"] == 3 and row["seeds_b"] == [0, 1, 2] and row["runs_a"] == 1
    assert row["value_b"] == pytest.approx(100 * 4 / 11 / 12)  # each seed: 4 of 12 utterances with 1 error in 11
    assert main(["compare", str(ref), "--vs", *map(str, seeds), "--metric", "wer-whisper-tiny-en",
                 "--key", "wer_macro", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [row]
    assert compare_runs(ref, seeds, ["wer-whisper-tiny-en"], ["wer_macro"]) == [row]
    assert main(["compare", str(ref), str(folder), "--metric", "wer-whisper-tiny-en"]) == 0
    assert "seeded: 3 runs (seeds 0, 1, 2)" in capsys.readouterr().out


def test_a_side_must_be_one_systems_seeds(pair, capsys):
    ref, fails, _, runs = pair
    assert main(["compare", str(ref), str(runs)]) == 2  # the folder holds ref and fails
    assert "side B is not one system's seeds" in capsys.readouterr().err
    assert main(["compare", str(ref), str(fails), str(fails)]) == 2
    assert "compare takes two runs (A B), or A's runs then --vs and B's runs; got 3" in capsys.readouterr().err
