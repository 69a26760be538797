"""End to end: a run of a system with an ArchSpec stores its analytic cost; `report` shows TFLOPs."""

from __future__ import annotations

import json

from ttsbench.cli import main
from ttsbench.metrics.cost import analytic_flops
from ttsbench.systems.nar.cost import nar_arch
from ttsbench.systems.nar.config import NARConfig


def test_run_json_holds_the_cost_and_report_shows_tflops(tiny_manifest, tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["run", "--system", "nar-dit-tiny:nfe=2,seconds=0.3", "--prompt-set", str(tiny_manifest),
                 "--metrics", "duration", "--seed", "0", "--out", str(out), "--quiet", "--limit", "1"])
    assert code == 0
    (run_json,) = list(out.rglob("run.json"))
    cost = json.loads(run_json.read_text())["cost"]
    expected = analytic_flops(nar_arch(NARConfig.from_size("tiny").with_options(latent_dim=64), nfe=2))
    assert cost["flops"] == float(expected.flops) and cost["unit"] == "FLOPs (=2 MACs)"
    assert "3 s prompt -> 10 s target" in cost["scope"] and "NFE 2" in cost["detail"]
    assert json.loads((run_json.parent / "summary.json").read_text())["cost"]["flops"] == cost["flops"]
    capsys.readouterr()
    assert main(["report", str(out), "--format", "csv"]) == 0
    table = capsys.readouterr().out
    assert "tflops" in table.lower() and f"{cost['flops'] / 1e12:.6g}"[:5] in table
