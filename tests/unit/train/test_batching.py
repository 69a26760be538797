"""Token-budget batching invariants and exact continuation from a DataPosition."""

from __future__ import annotations

import numpy as np
import pytest

from ttsbench.systems.speech.training.batching import _PlannedBatches, iterate_batches, plan_epoch

LENGTHS = np.random.default_rng(0).integers(20, 400, size=500).tolist() + [5_000]  # one over budget


def test_every_batch_fits_the_budget_and_nothing_repeats():
    plan = plan_epoch(LENGTHS, max_frames=1_500, seed=0, epoch=0)
    rows = [r for b in plan for r in b]
    assert all(len(b) * max(LENGTHS[r] for r in b) <= 1_500 for b in plan)
    assert len(rows) == len(set(rows)) == len(LENGTHS) - 1  # all but the over-budget one
    assert len(LENGTHS) - 1 not in rows


def test_buckets_keep_padding_small():
    plan = plan_epoch(LENGTHS, max_frames=1_500, seed=0, epoch=0, bucket_size=500)
    real = sum(LENGTHS[r] for b in plan for r in b)
    padded = sum(len(b) * max(LENGTHS[r] for r in b) for b in plan)
    assert real / padded > 0.9


def test_plan_is_deterministic_per_seed_and_epoch():
    a = plan_epoch(LENGTHS, max_frames=1_500, seed=3, epoch=1)
    assert a == plan_epoch(LENGTHS, max_frames=1_500, seed=3, epoch=1)
    assert a != plan_epoch(LENGTHS, max_frames=1_500, seed=3, epoch=2)
    assert a != plan_epoch(LENGTHS, max_frames=1_500, seed=4, epoch=1)


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_get_disjoint_equal_shares(world):
    plans = [plan_epoch(LENGTHS, max_frames=1_500, seed=0, epoch=0, rank=r, world_size=world)
             for r in range(world)]
    assert len({len(p) for p in plans}) == 1
    rows = [r for p in plans for b in p for r in b]
    assert len(rows) == len(set(rows))
    single = plan_epoch(LENGTHS, max_frames=1_500, seed=0, epoch=0)
    assert sorted(map(tuple, (b for p in plans for b in p))) == sorted(map(tuple, single[: len(plans[0]) * world]))


@pytest.fixture
def cached(tmp_path, speech_manifest, phones):
    """A real latent/phone cache (mel tokenizer) over 40 short speech-like clips."""
    from ttsbench.systems.speech.training.data import build_cache, read_manifest
    from ttsbench.systems.speech.mel import MelTokenizer

    entries = read_manifest(speech_manifest(n=40, seconds=(0.05, 0.6)))
    return build_cache(entries, tmp_path / "cache", MelTokenizer(), phones)


def test_resume_from_position_replays_the_same_stream(cached):
    stream = iterate_batches(cached, max_frames=60, seed=0)
    full = [next(stream) for _ in range(30)]  # crosses at least one epoch boundary
    assert full[-1][0].epoch >= 1
    pos = full[11][0]
    resumed = iterate_batches(cached, max_frames=60, seed=0, start=pos)
    for (p_full, b_full), (p_res, b_res) in zip(full[12:], (next(resumed) for _ in range(18))):
        assert p_full == p_res
        assert b_full.latents.equal(b_res.latents) and b_full.phones.equal(b_res.phones)


def test_collate_pads_and_counts(cached):
    batch = _PlannedBatches(cached, [[0, 39, 5]])[0]
    lens = [cached.frames[r] for r in (0, 39, 5)]
    assert batch.latents.shape == (3, max(lens), 64) and batch.latent_lens.tolist() == lens
    assert batch.num_frames == sum(lens) and batch.latents[0, lens[0]:].abs().sum() == 0
    assert batch.phone_lens.tolist() == [len(cached.phones[r]) for r in (0, 39, 5)]
    assert batch.phones[0, batch.phone_lens[0]:].abs().sum() == 0
    assert batch.speaker.tolist() == [0, 1, 1]


def test_worker_processes_give_the_same_stream(cached):
    serial = iterate_batches(cached, max_frames=60, seed=1)
    parallel = iterate_batches(cached, max_frames=60, seed=1, num_workers=2)
    for _ in range(5):
        (p1, b1), (p2, b2) = next(serial), next(parallel)
        assert p1 == p2 and b1.latents.equal(b2.latents) and b1.phones.equal(b2.phones)
