"""`ttsbench train vae|ditar CONFIG [--set ...]` through the CLI entry point, in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ttsbench.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_train_vae_cli_runs_and_writes_a_tokenizer(tmp_path, repo_root, capsys):
    import soundfile as sf

    t = np.arange(12_000) / 24_000
    sf.write(str(tmp_path / "a.wav"), (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 24_000)
    (tmp_path / "m.jsonl").write_text(json.dumps({"wav": "a.wav"}) + "\n")
    code = main(["train", "vae", str(repo_root / "configs" / "train_vae_tiny.toml"),
                 "--set", f"manifest={json.dumps(str(tmp_path / 'm.jsonl'))}",
                 "--set", f"out={json.dumps(str(tmp_path / 'out'))}", "--set", "steps=1",
                 "--set", "segment_samples=6000", "--set", "device=cpu"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "tokenizer" / "tokenizer.json").is_file()
    assert json.loads((tmp_path / "out" / "log.jsonl").read_text())["step"] == 1


def test_print_config_and_bad_key(repo_root, capsys):
    cfg = str(repo_root / "configs" / "train_ditar_0.6b.toml")
    assert main(["train", "ditar", cfg, "--set", "optim.lr=2e-4", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["optim"]["lr"] == 2e-4 and printed["data"]["max_frames"] == 15_000
    assert main(["train", "ditar", cfg, "--set", "optim.lrate=1"]) == 2
    assert "unknown key(s) ['lrate']" in capsys.readouterr().err
