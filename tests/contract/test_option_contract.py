"""Every registered system and metric refuses a misspelt option (parametrized over the registries).

Through the CLI, before any work: exit code 2, one line saying "unknown option" (with a "did you
mean" when the typo is close to a declared option), and no run directory. Nothing is loaded, so
each case takes milliseconds. Every declaration is also checked to be well formed.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from ttsbench.cli import main
from ttsbench.options import check_declaration
from ttsbench.plugins import METRICS, SYSTEMS


def misspelt(cls: type) -> tuple[str, str | None]:
    """(a typo of the first declared option, that option), or an unknown key when none is declared."""
    names = [f.name for f in fields(cls.Options)]
    if not names:
        return "nosuchoption", None
    return names[0] + names[0][-1], names[0]  # "nfe" -> "nfee"


def refused(capsys, argv: list[str], out, meant: str | None) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "unknown option" in lines[0], captured.err
    if meant is not None:
        assert f"Did you mean '{meant}'?" in lines[0]
    assert captured.out == ""
    assert not out.exists(), "a refused spec must write no run directory"


@pytest.mark.parametrize("name", SYSTEMS.names())
def test_system_refuses_a_misspelt_option(name, capsys, tmp_path):
    cls = SYSTEMS.get(name)
    check_declaration(cls.Options)
    typo, meant = misspelt(cls)
    out = tmp_path / "runs"
    refused(capsys, ["run", "--system", f"{name}:{typo}=1", "--prompt-set", "demo", "--metrics", "duration",
                     "--out", str(out), "--quiet"], out, meant)


@pytest.mark.parametrize("name", METRICS.names())
def test_metric_refuses_a_misspelt_option(name, capsys, tmp_path):
    cls = METRICS.get(name)
    check_declaration(cls.Options)
    typo, meant = misspelt(cls)
    out = tmp_path / "runs"
    refused(capsys, ["run", "--system", "tone", "--prompt-set", "demo", "--metrics", f"{name}:{typo}=1",
                     "--out", str(out), "--quiet"], out, meant)
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    refused(capsys, ["score", str(wavs), "--prompt-set", "demo", "--metrics", f"{name}:{typo}=1",
                     "--out", str(out), "--quiet"], out, meant)


def test_demo_and_bitrate_check_every_option_before_the_first_run(capsys, tmp_path):
    out = tmp_path / "runs"
    refused(capsys, ["demo", "--systems", "tone,tone:nosie=1", "--metrics", "duration", "--out", str(out),
                     "--quiet"], out, "noise")
    refused(capsys, ["demo", "--systems", "tone", "--metrics", "duration:foo=1", "--out", str(out),
                     "--quiet"], out, None)
    refused(capsys, ["bitrate", "--system", "distar-tiny:stpes=3", "--prompt-set", "demo", "--metrics",
                     "duration", "--layers", "1", "--out", str(out), "--quiet"], out, "steps")
