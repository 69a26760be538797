"""`ttsbench flops` patterns and --layers: a pattern skips the specs with fewer RVQ layers (a note on
stderr), a name given outright fails, and a pattern that leaves nothing fails."""

from __future__ import annotations

import json

import pytest
from ttsbench.errors import InputError
from ttsbench.metrics.cost import CostSetup
from ttsbench.metrics.cost.table import select_specs

PAPER_DISTAR = ["distar-base", "distar-base-frame-layer", "distar-medium", "distar-medium-frame-layer"]
SKIP_TINY = "ttsbench flops: skipped distar-tiny: --layers 9 exceeds its 4 RVQ layers\n"


def test_pattern_skips_specs_with_fewer_layers_with_one_note(flops_cli):
    code, out, err = flops_cli("--system", "distar-*", "--layers", "9", "--format", "json")
    assert code == 0 and err == SKIP_TINY
    assert [r["system"] for r in json.loads(out)] == PAPER_DISTAR
    code, _, err = flops_cli("--system", "distar-*", "--layers", "4", "--format", "json")
    assert code == 0 and err == ""  # J = 4 fits L' = 4


def test_counted_skips_the_same_way(flops_cli):
    code, out, err = flops_cli("--system", "distar-[bt]*", "--layers", "9", "--counted", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and err == SKIP_TINY
    assert [r["system"] for r in rows] == ["distar-base", "distar-base-frame-layer"]
    assert all(r["counted_tflops"] > r["tflops"] for r in rows)


def test_a_name_given_outright_is_never_skipped(flops_cli):
    for argv in (["--system", "distar-tiny"], ["--system", "distar-*", "--system", "distar-tiny"],
                 ["--system", "distar-tiny", "--counted"]):
        code, out, err = flops_cli(*argv, "--layers", "9")
        assert code == 2 and out == ""
        assert err == "ttsbench: error: cost setup: layers 9 exceeds the 4 RVQ layers of 'distar-tiny'\n"


def test_a_pattern_that_leaves_nothing_is_an_error(flops_cli):
    code, out, err = flops_cli("--system", "distar-t*", "--system", "distar-base", "--layers", "9")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'distar-t*' leaves nothing to count" in err and "distar-tiny: --layers 9 exceeds its 4" in err
    code, _, err = flops_cli("--system", "dstar-*")
    assert code == 2 and "'dstar-*' leaves nothing to count: it matches no architecture" in err


def test_select_specs_keeps_order_and_ignores_layers_for_specs_without_them():
    specs, skipped = select_specs(["ditar-0.6*", "distar-*", "ditar-0.6b"], CostSetup(layers=9))
    assert [s.name for s in specs] == ["ditar-0.6b", *PAPER_DISTAR]  # DiTAR has no layer terms
    assert skipped == ["distar-tiny: --layers 9 exceeds its 4 RVQ layers"]
    specs, skipped = select_specs(["distar-*"], CostSetup())
    assert [s.name for s in specs] == [*PAPER_DISTAR, "distar-tiny"] and skipped == []
    specs, skipped = select_specs(None, CostSetup(layers=20))  # Table 1's nine: none has layer terms
    assert len(specs) == 9 and specs[0].name == "vall-e" and skipped == []
    with pytest.raises(InputError, match="leaves nothing to count"):
        select_specs(["distar-*"], CostSetup(layers=10))
