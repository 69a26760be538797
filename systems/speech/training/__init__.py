"""Training infrastructure shared by every trainable model: the manifest and latent/phone cache
(`data`; audio of whole files, segments and tar members: `audio_source`), the corpus readers
(`corpora`: LibriTTS-R, LibriHeavy, Emilia), token-budget batching (`batching`), torchrun/DDP/FSDP
helpers (`distributed`), atomic checkpoints and RNG state (`checkpoint`), LR schedules and gradient
accumulation (`schedule`), weight EMA (`ema`), throughput and MFU (`throughput`, `trainlog`), the
training loop (`trainer`), in-training evaluation (`evaluation`) and the overfit check's shared
parts (`overfit`)."""
