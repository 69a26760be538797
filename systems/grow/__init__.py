"""GROW: the public, unofficial DiTAR-0.6B (Qwen3 LM, F5-style LocDiT, 16 kHz Semantic-VAE); see docs/grow.md."""
