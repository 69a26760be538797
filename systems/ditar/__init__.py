"""DiTAR (Jia et al., ICML 2025): patch-based autoregressive LM + local diffusion transformer."""
