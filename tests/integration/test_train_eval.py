"""In-training evaluation on a tiny DiTAR: eval.jsonl rows from real `ttsbench run` children, the
baseline gate recorded per checkpoint, and `ttsbench check TRAINING_DIR` passing and failing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ttsbench.cli import main
from ttsbench.systems.ditar.train import train_ditar
from ttsbench.systems.speech.training.evaluation import EvalConfig, latest_evaluated
from ttsbench.systems.speech.training.trainer import DataConfig, TrainConfig
from ttsbench.testing import tone_corpus

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

TEXTS = ["ten of clubs", "four queen of clubs", "seven of clubs", "the eight of spades"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    tone_corpus(root, TEXTS, [f"s{i % 2}" for i in range(len(TEXTS))])
    dev = [{"utt_id": f"d{i}", "prompt_wav": f"u{i}.wav", "prompt_text": TEXTS[i], "target_text": TEXTS[3 - i]}
           for i in range(2)]
    (root / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev))
    return root / "m.jsonl"


def config(manifest: Path, out: Path, steps: int, baseline: str = "") -> TrainConfig:
    data = DataConfig(manifest=manifest, cache_dir=manifest.parent / "cache", tokenizer="mel", max_frames=120,
                      num_workers=0)
    ev = EvalConfig(every=2, prompt_set=str(manifest.parent / "dev.jsonl"), metrics="duration", seed=3, limit=2,
                    system="ditar-tiny", options="nfe=2,min_patches=2,max_patches=3", device="cpu",
                    baseline=baseline)
    return TrainConfig(out=out, data=data, model={"size": "tiny"}, steps=steps, device="cpu", log_every=1,
                       ckpt_every=2, ema_decay=0.9, eval=ev)


def test_eval_rows_gate_and_check_on_the_training_folder(manifest, tmp_path, capsys):
    out = tmp_path / "train"
    train_ditar(config(manifest, out, steps=2))
    (row,) = [json.loads(line) for line in (out / "eval.jsonl").read_text().splitlines()]
    assert row["step"] == 2 and row["weights"] == "ema" and row["returncode"] == 0, row
    assert row["synth_ok"] == row["n_expected"] == 2 and row["gate"] is None
    assert row["metrics"]["duration"]["value"] > 0 and isinstance(row["loss"], float)
    assert (out / "eval.png").is_file() and (Path(row["checkpoint"]) / "model.safetensors").is_file()
    assert latest_evaluated(out)["step"] == 2

    good = tmp_path / "baseline.json"
    assert main(["check", row["run"], "--baseline", str(good), "--write-baseline"]) == 0
    doc = json.loads(good.read_text())
    bad_doc = {**doc, "checks": [{**c, "value": c["value"] + 100.0, "abs": 0.0, "rel": 0.0} for c in doc["checks"]]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_doc))
    capsys.readouterr()
    assert main(["check", str(out), "--baseline", str(good)]) == 0  # the same checkpoint: no regression
    assert "gating step 2" in capsys.readouterr().out
    assert main(["check", str(out), "--baseline", str(bad)]) == 1

    # resumed with the failing baseline configured: the step-4 row records the gate; check uses it
    train_ditar(replace(config(manifest, out, steps=4, baseline=str(bad))))
    rows = [json.loads(line) for line in (out / "eval.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert rows[-1]["gate"]["passed"] is False and rows[-1]["gate"]["returncode"] == 1
    assert main(["check", str(out)]) == 1  # the config's baseline, the newest evaluated checkpoint

    # evaluating (and resuming) leaves the training itself untouched: the same losses as a plain run
    plain = replace(config(manifest, tmp_path / "plain", steps=4), eval=EvalConfig())
    train_ditar(plain)
    losses = [[json.loads(line)["total"] for line in (d / "log.jsonl").read_text().splitlines()]
              for d in (out, tmp_path / "plain")]
    assert losses[0] == losses[1]
