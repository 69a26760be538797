"""Subcommands of `ttsbench`: one module each, discovered by ttsbench.cli (no hand-kept list)."""
