"""Hot paths of DiTAR inference and scoring: one LM step, one LocDiT NFE, VAE decode, WER of a batch.

Random weights (speed does not depend on them). Each benchmark synchronises CUDA inside the timed
function, so the numbers are wall time of finished work. Command: see conftest.py / docs/RESULTS.md.
"""

from __future__ import annotations

import os

import pytest
import torch


def bench_sizes() -> list[str]:
    """DiTAR sizes to time: $TTSBENCH_BENCH_SIZES, default tiny,0.1b,0.6b."""
    return [s for s in os.environ.get("TTSBENCH_BENCH_SIZES", "tiny,0.1b,0.6b").split(",") if s]


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _ditar(size: str, device: str):
    from ttsbench.systems.ditar.config import DiTARConfig
    from ttsbench.systems.ditar.model import DiTAR

    torch.manual_seed(0)
    return DiTAR(DiTARConfig.from_size(size)).to(device).eval()


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("size", bench_sizes())
def test_lm_step(benchmark, size, batch, device):
    """One LM decode step with the KV cache at context 221 (91 phones + 30 prompt + 100 patches)."""
    model = _ditar(size, device)
    D, context = model.cfg.lm_dim, 221
    cache = model.new_cache(batch, context + 1, device)
    emb, pos = torch.randn(batch, 1, D, device=device), torch.full((batch, 1), context - 1, device=device)

    def step():
        cache.length = context - 1
        with torch.no_grad():
            model.lm_step(emb, cache, pos, None)
        sync(device)

    benchmark(step)


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("size", bench_sizes())
def test_locdit_nfe(benchmark, size, batch, device):
    """One guided LocDiT evaluation (one NFE: the h and h=0 passes batched as 2B)."""
    model = _ditar(size, device)
    cfg = model.cfg
    x = torch.randn(batch, cfg.patch_size, cfg.latent_dim, device=device)
    h = torch.randn(batch, cfg.lm_dim, device=device)
    hist = torch.randn(batch, cfg.history_frames, cfg.latent_dim, device=device)

    def nfe():
        with torch.no_grad():
            model.velocity(x, 0.5, h, hist, 1.0)
        sync(device)

    benchmark(nfe)


@pytest.mark.parametrize("size", ["tiny", "0.6b"])
def test_nar_nfe(benchmark, size, device):
    """One guided evaluation of the NAR baseline over 13 s (520 frames), batch 1 (2 rows with CFG)."""
    from ttsbench.systems.nar.config import NARConfig
    from ttsbench.systems.nar.model import NARDiT

    model = NARDiT(NARConfig.from_size(size)).to(device).eval()
    x, t = torch.randn(2, 520, 64, device=device), torch.rand(2, device=device)
    text = torch.zeros(2, 520, dtype=torch.long, device=device)

    def nfe():
        with torch.no_grad():
            model(x, t, x, text)
        sync(device)

    benchmark(nfe)


@pytest.mark.parametrize("tokenizer", ["vae", "mel"])
def test_vae_decode(benchmark, tokenizer, device):
    """10 s of 40 Hz latents to a 24 kHz waveform: the paper's VAE decoder (BigVGAN, random weights)
    or the log-mel + Griffin-Lim stand-in."""
    from ttsbench.systems.ditar.tokenizer import build_tokenizer

    tok = build_tokenizer(tokenizer).to(device).eval()
    latents = torch.randn(1, 400, tok.latent_dim, device=device)

    def decode():
        with torch.no_grad():
            tok.decode(latents)
        sync(device)

    benchmark.pedantic(decode, rounds=3, warmup_rounds=1)


def test_wer_batch(benchmark):
    """WER of the 7 embedded demo utterances (ASR + normalisation + alignment) with the first
    registered WER recipe whose model is available offline."""
    from ttsbench.audio import read_audio
    from ttsbench.errors import MissingDependencyError, MissingModelError
    from ttsbench.plugins import METRICS
    from ttsbench.testsets import load_testset
    from ttsbench.types import LoadContext, ScoreItem

    names = [n for n in METRICS.names("wer*")]
    if not names:
        pytest.skip("no WER recipe is registered")
    metric = METRICS.get(names[0])()
    try:
        metric.setup(LoadContext.from_env())
    except (MissingModelError, MissingDependencyError) as err:
        pytest.skip(f"{names[0]}: {err}")
    items = []
    for p in load_testset("demo").prompts:
        wav, sr = read_audio(p.reference_wav)
        items.append(ScoreItem(p.utt_id, wav, sr, p.reference_wav, p.target_text, p.lang))
    benchmark.pedantic(lambda: metric.score_batch(items), rounds=3, warmup_rounds=1)
