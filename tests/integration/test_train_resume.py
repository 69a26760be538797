"""train() on a tiny DiTAR (CPU): checkpoint contents, identical next-step loss after resume, and
the checkpoint loading into the `ditar-tiny` system for synthesis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ttsbench.systems.ditar.train import train_ditar
from ttsbench.systems.speech.training.checkpoint import latest_checkpoint, load_checkpoint
from ttsbench.systems.speech.training.trainer import DataConfig, TrainConfig
from ttsbench.testing import tone_corpus

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


TEXTS = ["ten of clubs", "four queen of clubs", "seven of clubs", "the eight of spades", "a red card",
         "he was not an ill disposed young man", "had he married", "unless to be rather cold"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    return tone_corpus(tmp_path_factory.mktemp("data"), TEXTS, ["s"] * len(TEXTS))


def config(manifest: Path, out: Path, steps: int, max_frames: int = 60) -> TrainConfig:
    data = DataConfig(manifest=manifest, cache_dir=manifest.parent / "cache", tokenizer="mel",
                      max_frames=max_frames, num_workers=0)
    return TrainConfig(out=out, data=data, model={"size": "tiny"}, steps=steps, device="cpu", log_every=1,
                       ckpt_every=100)


def run(cfg: TrainConfig) -> list[dict]:
    train_ditar(cfg)
    return [json.loads(line) for line in (cfg.out / "log.jsonl").read_text().splitlines()]


def test_resume_gives_the_identical_next_step_loss(manifest, tmp_path):
    straight = run(config(manifest, tmp_path / "a", steps=4, max_frames=120))
    run(config(manifest, tmp_path / "b", steps=2, max_frames=120))
    resumed = run(config(manifest, tmp_path / "b", steps=4, max_frames=120))  # continues from step_0000002.pt
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]
    assert straight[-1]["epoch"] >= 1  # the resumed steps cross an epoch boundary (3 batches per epoch)
    for a, b in zip(straight, resumed):
        assert (a["step"], a["epoch"], a["frames_per_step"]) == (b["step"], b["epoch"], b["frames_per_step"])
        assert (a["total"], a["diff"], a["stop"]) == (b["total"], b["diff"], b["stop"])


def test_checkpoint_holds_what_resume_and_inference_need(manifest, tmp_path):
    import torch

    from ttsbench.plugins import SYSTEMS
    from ttsbench.types import LoadContext, Prompt, SystemSpec

    cfg = config(manifest, tmp_path / "c", steps=2)
    run(cfg)
    state = load_checkpoint(latest_checkpoint(cfg.out))
    assert state["format"] == "ttsbench.ditar.train/1" and state["step"] == 2
    assert {"model", "optimizer", "config", "rng", "data_position", "tokenizer", "frontend"} <= set(state)
    assert state["tokenizer"]["latent_dim"] == 64 and state["tokenizer"]["frame_rate"] == 40.0
    assert state["config"]["optim"]["betas"] == [0.9, 0.99] and len(state["rng"]) == 1
    assert state["model_config"]["phone_vocab"] >= state["frontend"]["table_size"]
    assert not any(k.startswith("module.") for k in state["model"])
    system = SYSTEMS.get("ditar-tiny").load(SystemSpec("ditar-tiny", {"nfe": 2, "max_patches": 3},
                                                       latest_checkpoint(cfg.out)), LoadContext())
    prompt = Prompt("u", manifest.parent / "u1.wav", "four queen of clubs", "ten of clubs")
    (wav,) = system.synthesize([prompt], seed=0)
    assert wav.dtype == np.float32 and 0 < len(wav) <= 3 * 4 * 600 and np.isfinite(wav).all()
    assert torch.equal(system.model.phone_embed.weight, state["model"]["phone_embed.weight"])


def test_log_reports_counted_model_flops_and_mfu(manifest, tmp_path):
    from dataclasses import replace

    cfg = replace(config(manifest, tmp_path / "d", steps=3), log_every=2)
    rows = run(cfg)
    assert [r["step"] for r in rows] == [2, 3]
    for r in rows:
        assert r["model_tflops_per_sec"] > 0 and r["steps_per_sec"] > 0
        assert r["mfu"] is None and "set peak_tflops" in r["peak_source"]  # CPU: no data-sheet peak
    peaked = run(replace(cfg, out=tmp_path / "e", peak_tflops=0.5))
    assert peaked[0]["peak_tflops"] == 0.5 and peaked[0]["mfu"] == peaked[0]["model_tflops_per_sec"] / 0.5


def test_standardised_latents_accumulation_and_ema_end_to_end(manifest, tmp_path):
    """Stats over the corpus in the checkpoint, the global batch logged in frames, EMA weights saved
    in ema_pytorch's layout and preferred at inference (ema=false picks the live weights), and the
    export carrying latent_stats.json with the tokenizer."""
    from dataclasses import replace

    import torch

    from ttsbench.plugins import SYSTEMS
    from ttsbench.systems.speech.latent_stats import load_stats
    from ttsbench.systems.speech.pretrained import export, read_checkpoint
    from ttsbench.systems.speech.training.trainer import OptimConfig
    from ttsbench.types import LoadContext, Prompt, SystemSpec

    cfg = replace(config(manifest, tmp_path / "e", steps=3, max_frames=120), ema_decay=0.5,
                  optim=OptimConfig(grad_accum=2, schedule="cosine", warmup_steps=1))
    rows = run(cfg)
    assert all(r["grad_accum"] == 2 and r["global_batch_padded_frames"] >= r["global_batch_frames"] > 0
               for r in rows)
    state = load_checkpoint(latest_checkpoint(cfg.out))
    stats = state["latent_stats"]
    assert len(stats["mean"]) == 64 and stats["frames"] > 0 and "corpus cache" in stats["source"]
    assert int(state["ema_model_state_dict"]["step"]) == 3 and state["ema_decay"] == 0.5
    live, ema = read_checkpoint(latest_checkpoint(cfg.out), ema=False), read_checkpoint(latest_checkpoint(cfg.out))
    assert ema.weights == "ema" and live.weights == "live"
    assert not torch.equal(ema.state["lm_head.weight" if "lm_head.weight" in ema.state else "phone_embed.weight"],
                           live.state["lm_head.weight" if "lm_head.weight" in live.state else "phone_embed.weight"])
    folder = export(latest_checkpoint(cfg.out), tmp_path / "exported")
    assert load_stats(folder / "tokenizer").mean == ema.latent_stats.mean
    system = SYSTEMS.get("ditar-tiny").load(SystemSpec("ditar-tiny", {"nfe": 2, "max_patches": 3}, folder),
                                            LoadContext())
    assert system.latent_stats is not None and "(ema weights)" in system.weights
    prompt = Prompt("u", manifest.parent / "u1.wav", "four queen of clubs", "ten of clubs")
    prep = system.prepare([prompt], seed=0)
    raw = system.tokenizer.encode(torch.from_numpy(__import__("soundfile").read(str(manifest.parent / "u1.wav"),
                                                                             dtype="float32")[0])[None])[0]
    torch.testing.assert_close(prep.prompts[0], system.latent_stats.standardize(raw))  # model-space prompt
    (wav,) = system.synthesize([prompt], seed=0)
    assert np.isfinite(wav).all() and len(wav) > 0
