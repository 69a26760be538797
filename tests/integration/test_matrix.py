"""A matrix spec: several systems x prompt sets x seeds in one `ttsbench run`, scoring models loaded
once for all cells, resumed cell by cell, ending with the report of every run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ttsbench.cli import main
from ttsbench.errors import TTSBenchError
from ttsbench.scoring import MetricPool
from ttsbench.spec import MetricSpec, load_matrix, load_toml
from ttsbench.store import read_jsonl
from ttsbench.types import LoadContext


def _spec(tmp_path: Path, manifest: Path, body: str = "") -> Path:
    path = tmp_path / "matrix.toml"
    path.write_text(f"""
[run]
prompt_sets = ["{manifest}"]
seeds = [0, 1]
out = "{tmp_path / 'runs'}"

[[system]]
name = "tone"

[[system]]
name = "ditar-tiny"
nfe = 2

[[metric]]
name = "duration"

[report]
out = "{tmp_path / 'report'}"
{body}""")
    return path


def test_a_matrix_runs_every_cell_once_and_reports(tiny_manifest, tmp_path, capsys, monkeypatch):
    spec = _spec(tmp_path, tiny_manifest)
    matrix = load_matrix(spec)
    assert [(r.system.name, r.seed) for r in matrix.runs] == [("tone", 0), ("tone", 1), ("ditar-tiny", 0),
                                                              ("ditar-tiny", 1)]
    setups = []
    real = MetricPool.ready

    def counting(self, spec, metric, ctx):  # noqa: ANN001, ANN202
        setups.append(spec.name)
        return real(self, spec, metric, ctx)

    monkeypatch.setattr(MetricPool, "ready", counting)
    assert main(["run", str(spec), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "[4/4] ditar-tiny" in said and "report of the 4 runs" in said
    runs = sorted(p.parent for p in (tmp_path / "runs").rglob("run.json"))
    assert len(runs) == 4 and all(len(read_jsonl(r / "scores.jsonl")) == 3 for r in runs)
    assert (tmp_path / "report" / "report.md").is_file() and (tmp_path / "report" / "report.csv").is_file()
    assert said.count("| tone") + said.count("| ditar-tiny") >= 2  # the table printed at the end
    # every cell asks the pool for its metric (the unit test below: the pool sets it up once)
    assert setups == ["duration"] * 4
    before = {r: (r / "synth.jsonl").read_bytes() for r in runs}
    assert main(["run", str(spec), "--quiet"]) == 0  # resumed: every cell is done already
    assert {r: (r / "synth.jsonl").read_bytes() for r in runs} == before


def test_the_pool_sets_up_each_recipe_once():
    class Counting:
        calls = 0

        def setup(self, ctx):  # noqa: ANN001, ANN202
            Counting.calls += 1

    pool, ctx = MetricPool(), LoadContext()
    first = pool.ready(MetricSpec("m", {"a": 1}), Counting(), ctx)
    assert pool.ready(MetricSpec("m", {"a": 1}), Counting(), ctx) is first and Counting.calls == 1
    pool.ready(MetricSpec("m", {"a": 2}), Counting(), ctx)  # other options: another model
    pool.ready(MetricSpec("m", {"a": 1}), Counting(), LoadContext(device="cuda"))
    assert Counting.calls == 3


def test_matrix_spec_errors(tiny_manifest, tmp_path):
    with pytest.raises(TTSBenchError, match="matrix of 4 runs"):
        load_toml(_spec(tmp_path, tiny_manifest))
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nprompt_set = "demo"\nprompt_sets = ["demo"]\n[system]\nname = "tone"\n')
    with pytest.raises(TTSBenchError, match="both prompt_set and prompt_sets"):
        load_matrix(bad)
    bad.write_text('[run]\nprompt_set = "demo"\nseeds = [1, 1]\n[system]\nname = "tone"\n')
    with pytest.raises(TTSBenchError, match="distinct int"):
        load_matrix(bad)
    bad.write_text('[run]\nprompt_set = "demo"\n[[system]]\nnfe = 2\n')
    with pytest.raises(TTSBenchError, match="each with a name"):
        load_matrix(bad)


def test_command_line_options_override_every_cell(tiny_manifest, tmp_path):
    spec = _spec(tmp_path, tiny_manifest)
    assert main(["run", str(spec), "--quiet", "--seed", "5", "--system", "tone", "--limit", "1"]) == 0
    runs = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("run.json")]
    assert len(runs) == 1 and runs[0]["spec"]["seed"] == 5  # four cells collapsed into one


def test_the_documented_table1_spec_parses():
    from ttsbench.pipeline import check_options

    matrix = load_matrix(Path(__file__).resolve().parents[2] / "configs" / "table1_subset_b.toml")
    assert {r.system.name for r in matrix.runs} == {"ground-truth", "ditar-0.6b"} and len(matrix.runs) == 6
    assert {r.prompt_set for r in matrix.runs} == {"librispeech-pc-b"}
    for run in matrix.runs:
        check_options(run)  # every system and metric name exists and its options parse
