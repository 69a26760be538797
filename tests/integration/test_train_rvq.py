"""`ttsbench train rvq`: log rows, checkpoints, an exact resume, the saved tokenizer, and a
two-process torchrun (gloo) whose ranks end with identical codebooks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ttsbench.cli import main
from ttsbench.systems.speech.tokenizer import load_tokenizer
from ttsbench.systems.speech.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint

CONFIG = textwrap.dedent('''
    manifest = "m.jsonl"
    out = "out"
    cache_dir = "cache"
    base = "mel"
    num_layers = 3
    codebook_size = 16
    steps = 4
    frames_per_step = 64
    device = "cpu"
    log_every = 1
    ckpt_every = 2
''')


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A folder with cfg.toml and m.jsonl over four synthetic voiced wavs (24 kHz, ~100 frames)."""
    import soundfile as sf

    rows = []
    for i in range(4):
        t = np.arange(int(24_000 * (0.4 + 0.2 * i))) / 24_000
        f0 = 120 + 15 * i + 10 * np.sin(2 * np.pi * 1.5 * t)
        phase = 2 * np.pi * np.cumsum(f0) / 24_000
        wav = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
        sf.write(str(tmp_path / f"u{i}.wav"), (0.08 * wav).astype(np.float32), 24_000)
        rows.append({"wav": f"u{i}.wav"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "cfg.toml").write_text(CONFIG)
    return tmp_path


def sets_for(root: Path, out: str) -> list[str]:
    """--set arguments pointing the config's paths into `root` (absolute: main() runs in-process)."""
    values = {"out": root / out, "manifest": root / "m.jsonl", "cache_dir": root / "cache"}
    return [arg for key, path in values.items() for arg in ("--set", f"{key}={json.dumps(str(path))}")]


def train(root: Path, out: str, *overrides: str) -> list[dict]:
    sets = sets_for(root, out) + [arg for o in overrides for arg in ("--set", o)]
    assert main(["train", "rvq", str(root / "cfg.toml"), *sets]) == 0
    return [json.loads(line) for line in (root / out / "log.jsonl").read_text().splitlines()]


def rvq_state(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(latest_checkpoint(out))["rvq"]


def test_train_checkpoint_resume_and_tokenizer(root):
    straight = train(root, "a")
    assert [r["step"] for r in straight] == [1, 2, 3, 4]
    for row in straight:
        assert len(row["nmse"]) == 3 and all(b <= a for a, b in zip(row["nmse"], row["nmse"][1:]))
        assert len(row["perplexity"]) == len(row["used"]) == len(row["restarts"]) == 3
        assert row["sec_per_step"] > 0
    assert straight[-1]["nmse"][-1] < 0.5
    state = load_checkpoint(latest_checkpoint(root / "a"))
    assert state["format"] == "ttsbench.rvq.train/1" and state["step"] == 4 and state["world_size"] == 1
    assert state["rvq"]["codebooks"].shape == (3, 16, 64) and bool(state["rvq"]["initialized"])
    assert state["config"]["codebook_size"] == 16 and len(state["rng"]) == 1
    assert [p.name for p in list_checkpoints(root / "a")] == ["step_0000002.pt", "step_0000004.pt"]

    train(root, "b", "steps=2")  # interrupted after step 2 ...
    resumed = train(root, "b")  # ... and continued from step_0000002.pt
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]
    assert [r["nmse"] for r in resumed] == [r["nmse"] for r in straight]
    a, b = rvq_state(root / "a"), rvq_state(root / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert train(root, "b") == resumed  # a finished run re-run: nothing more

    tok = load_tokenizer(root / "a" / "tokenizer")
    assert tok.registry_name == "rvq" and (tok.num_layers, tok.codebook_size, tok.latent_dim) == (3, 16, 3)
    assert torch.equal(tok.rvq.codebooks, a["codebooks"])
    wav = torch.from_numpy(__import__("soundfile").read(str(root / "u1.wav"), dtype="float32")[0])[None]
    codes = tok.encode(wav)
    assert codes.shape == (1, 24, 3) and tok.decode(codes[..., :2]).shape == (1, 24 * 600)


def test_resume_with_other_codebook_sizes_fails_in_one_line(root, capsys):
    train(root, "a", "steps=2")
    capsys.readouterr()
    bigger = [*sets_for(root, "a"), "--set", "codebook_size=32"]
    assert main(["train", "rvq", str(root / "cfg.toml"), *bigger]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ttsbench: error:") and "codebooks of another size" in err[0]


def test_two_processes_keep_identical_codebooks(root, torchrun):
    from ttsbench.systems.distar.rvq_train import RVQTrainConfig, draw

    torchrun(root, "train", "rvq", "cfg.toml", "--set", "steps=3", "--set", "ckpt_every=3")
    state = load_checkpoint(latest_checkpoint(root / "out"))
    assert state["world_size"] == 2 and state["step"] == 3
    digests = state["rank_codebook_sha256"]
    assert len(digests) == 2 and digests[0] == digests[1]  # the all-reduce keeps the ranks in step
    log = [json.loads(line) for line in (root / "out" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3] and all(np.isfinite(r["nmse"]).all() for r in log)
    cfg = RVQTrainConfig(manifest=Path("m"), out=Path("o"), cache_dir=Path("c"), frames_per_step=64)
    pool = torch.randn(500, 4)
    assert not torch.equal(draw(pool, cfg, 0, 0), draw(pool, cfg, 0, 1))  # ranks see different frames
    assert torch.equal(draw(pool, cfg, 5, 1), draw(pool, cfg, 5, 1))  # a pure function of (seed, step, rank)
    assert load_tokenizer(root / "out" / "tokenizer").num_layers == 3


def test_a_saved_vae_folder_as_the_base(root, capsys):
    from ttsbench.systems.speech.tokenizer import build_tokenizer

    torch.manual_seed(0)
    vae = build_tokenizer("vae", {"encoder_channels": 4, "encoder_dilations": [1], "decoder_channels": 64,
                                  "resblock_kernel_sizes": [3], "resblock_dilations": [[1, 3]]})
    vae.save(root / "vae")
    train(root, "v", f"base={json.dumps(str(root / 'vae'))}", "steps=2")
    tok = load_tokenizer(root / "v" / "tokenizer")
    assert tok.config.base == "vae" and tok.base.fingerprint() == vae.fingerprint()
    assert torch.equal(tok.base.decoder.post.weight, vae.decoder.post.weight)
    capsys.readouterr()
    assert main(["train", "rvq", str(root / "cfg.toml"), *sets_for(root, "w"), "--set", "base=vae"]) == 2
    assert "has trainable weights: give the folder" in capsys.readouterr().err
