"""One module per worker upstream. Each defines `Engine(weights, options, device)` with
`sample_rate`, `info()` and `synthesize(item) -> float32 mono array`, importing the standard library
and numpy at module level and the upstream only inside its methods: the worker loads these files
by path in the upstream's own environment, where ttsbench is not installed."""
