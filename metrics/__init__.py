"""Metrics and recipes. Each module registers with `@METRICS.register(name)` (and RECIPES, ASR)."""
