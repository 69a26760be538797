"""Training infrastructure shared by every trainable model: the manifest and latent/phone cache
(`data`), token-budget batching (`batching`), torchrun/DDP/FSDP helpers (`distributed`), atomic
checkpoints and RNG state (`checkpoint`), throughput and MFU (`throughput`), the training loop
(`trainer`) and the overfit check's shared parts (`overfit`)."""
