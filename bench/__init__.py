"""ttsbench: evaluation and benchmarking harness for zero-shot text-to-speech.

Importing this package is cheap: it loads no model and no heavy backend. Work starts in
`ttsbench.cli.main`, a system's `load()` or a metric's `setup()`.
"""

__version__ = "0.1.0"
