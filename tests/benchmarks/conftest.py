"""pytest-benchmark suites for the hot paths; skipped unless benchmarks are enabled.

    python -m pytest tests/benchmarks --benchmark-enable            # all, on CUDA when available
    TTSBENCH_BENCH_SIZES=tiny,0.1b python -m pytest tests/benchmarks --benchmark-enable -k lm_step
    TTSBENCH_BENCH_DEVICE=cpu ...                                    # force a device

pyproject's addopts pass --benchmark-disable, under which pytest-benchmark would still run each
benchmark once; these would then cost minutes in the default suite, so they are skipped instead.
"""

from __future__ import annotations

import os

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    enabled = config.getoption("benchmark_enable", False) or config.getoption("benchmark_only", False)
    if config.getoption("benchmark_disable", False) and not enabled:
        skip = pytest.mark.skip(reason="benchmarks are off: add --benchmark-enable")
        for item in items:
            if "tests/benchmarks" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def device() -> str:
    return os.environ.get("TTSBENCH_BENCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
