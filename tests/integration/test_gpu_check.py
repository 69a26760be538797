"""Issue 15: the one prepared GPU check runs end to end on the CPU (`--dry`, tiny sizes) and writes
every stage's results, and the device script that wraps it is valid shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_dry_check_writes_every_stage(tmp_path):
    out = tmp_path / "check"
    subprocess.run([sys.executable, "-m", "ttsbench", "gpu-check", "--dry", "--out", str(out)], check=True,
                   capture_output=True, timeout=300)
    result = json.loads((out / "gpu_check.json").read_text())
    assert list(result["stages"]) == ["env", "speed", "bf16_vs_fp32", "train", "compile", "sharded"]
    speed = result["stages"]["speed"]["rows"]
    assert {r["system"] for r in speed} >= {"ditar-tiny", "nar-dit-tiny"} and all(r["wall_median_s"] > 0 for r in speed)
    train = result["stages"]["train"]
    assert train["steps_per_s"] > 0 and train["frames_per_s"] > 0
    assert result["stages"]["compile"]["skipped"] and result["stages"]["sharded"]["skipped"]  # no CUDA, one device
    assert "## speed" in (out / "gpu_check.md").read_text()


def test_the_device_scripts_are_valid_shell():
    for script in ("gpu_check.sh", "gpu_wheels.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=True)
