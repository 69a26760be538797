"""A non-autoregressive DiT baseline of DiTAR's size (the paper's "NAR" of Table 7 and Figure 5)."""
