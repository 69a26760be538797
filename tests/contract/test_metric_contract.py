"""Every registered metric honours the Metric contract (parametrized over the registry).

Recipes whose models are not on this machine must fail setup with one clear line; the others score
real audio, return JSON-serialisable statistics, and aggregate to their declared primary key.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ttsbench.audio import read_audio
from ttsbench.errors import MissingDependencyError, MissingModelError
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

SLOW = {"dnsmos"}  # loads four ONNX models: over 10 s on 2 busy cores


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in METRICS.names()])
def test_metric_contract(name, make_wav, tmp_path):
    cls = METRICS.get(name)
    assert isinstance(cls.version, str) and cls.version
    assert cls.higher_is_better in (True, False, None)
    metric = cls({})
    fp = metric.fingerprint()
    assert json.loads(json.dumps(fp, default=str)) and metric.fingerprint_id() == cls({}).fingerprint_id()
    ctx = LoadContext(device="cpu", cache_dir=tmp_path / "no-models", work_dir=tmp_path / "work")
    try:
        metric.setup(ctx)
    except (MissingModelError, MissingDependencyError) as err:
        assert "\n" not in str(err) and len(str(err)) < 500, "the error must be one clear line"
        pytest.skip(f"needs models: {err}")
    paths = [make_wav(f"g{i}.wav", seconds=1.2, freq=150.0 + 60 * i) for i in range(2)]
    items = []
    for i, path in enumerate(paths):
        wav, sr = read_audio(path)
        items.append(ScoreItem(utt_id=f"u{i}", wav=wav, sample_rate=sr, wav_path=path,
                               target_text="hello world", lang="en", prompt_wav=paths[1 - i],
                               prompt_text="a prompt", reference_wav=paths[i]))
    rows = metric.score_batch(items)
    assert len(rows) == 2
    json.dumps(rows)  # stored as JSONL
    values = metric.aggregate(pd.DataFrame(rows))
    assert metric.primary in values
    assert all(isinstance(v, (int, float, np.floating)) for v in values.values())
