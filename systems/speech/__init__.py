"""The shared speech-model library that DiTAR, DiSTAR and the NAR baseline build on.

Model pieces: `layers` (transformer blocks, RoPE, KV cache), `sampling` (VP schedule, DDIM sampler,
guidance), `patches` (patchify, history windows, the aggregation encoder), `patch_lm` (the causal
LM over [phones ; patch embeddings] with its stop head), `patch_ar` (the batched, KV-cached
patch-autoregressive generation loop and the `PatchAR` interface a model implements for it).
Speech units and text: `tokenizer` (the speech tokenizer interface and registry), `mel` (the
log-mel stand-in), `vae/` (DiTAR's VAE tokenizer), `frontend` (phones). Weights: `pretrained`
(training checkpoints and exported folders). Training infrastructure: `training/`.
"""
