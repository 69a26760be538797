"""Published zero-shot baselines, each under its own evaluation protocol (docs/baselines.md).

  common.py        weight manifests (checked before any upstream import), hub offline switches, seeds
  base.py          BaselineSystem: weights from `checkpoint=DIR` or `<cache_dir>/<name>/`, describe()
  f5.py            f5-tts, f5-tts-v0, e2-tts: in-process (`pip install "ttsbench[f5]"`), F5's eval path
  f5_protocol.py   F5's eval-path pieces (duration rule, text concatenation, prompt RMS) in plain numpy
  worker_client.py WorkerSystem: the upstream runs in the user's own interpreter, JSON lines + .npy
  worker.py        the worker's side of that protocol (standard library and numpy only)
  engines/         one module per worker upstream: the upstream call, imported only in the worker
  workers.py       cosyvoice2-0.5b, maskgct, xtts-v2, zipvoice(-distill), spark-tts-0.5b, indextts2, chatterbox
"""
