"""Shared by the cost tests: `ttsbench flops` run in-process."""

from __future__ import annotations

import pytest

from ttsbench.cli import main


@pytest.fixture
def flops_cli(capsys):
    """flops_cli(*argv) -> (exit code, stdout, stderr) of `ttsbench flops ARGV`."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["flops", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
