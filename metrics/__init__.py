"""Metric recipes. Each module registers with `@METRICS.register(name)` (and NORMALIZERS, ASR).

  text.py      named normalizers of the reference scorers (NORMALIZERS: seedtts-en, seedtts-zh, f5-en, hubert-en)
  wer.py       WER recipes (seedtts-en, seedtts-zh, f5-en, hubert-en) on the ASR backends in asr/
  sim/         sim-wavlm-ecapa (WavLM-large + ECAPA-TDNN, SIM-o / SIM-r)
  mos/         utmos22-strong (UTMOS22 strong learner)
  offline.py   wer-whisper-tiny-en, sim-resemblyzer, dnsmos: weights shipped in pip packages, not comparable
  stats.py     macro / micro WER, fail rate, bootstrap and paired-bootstrap CIs over stored rows
  reference.py the reference model of each comparable recipe: architecture signature, published
               hashes, the verified / unverified / other-model verdict (allow_other_model)
  resample.py, cache.py, models.py, checkpoints.py: the reference resamplers, content-keyed caches,
               model location and SHA-256 pins, strict checkpoint loading
  cost/        FLOPs and speed (another component)

See docs/protocol.md for what each recipe reproduces and what its numbers are comparable to.
"""
