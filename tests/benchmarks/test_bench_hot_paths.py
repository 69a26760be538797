"""Hot paths of DiTAR / DiSTAR inference and scoring: one LM step, one LocDiT NFE, one DiSTAR MDM
call with its logit heads, VAE decode, WER of a batch.

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
    bench_lm_step(benchmark, _ditar(size, device), batch, 221, device)


def bench_lm_step(benchmark, model, batch: int, context: int, device: str) -> None:
    """Time one KV-cached decode step of a `PatchLM` (DiTAR or DiSTAR) whose new token is at `context` - 1."""
    D = model.cfg.lm_dim
    cache = model.patch_lm.new_cache(batch, context + 1, device)
    emb, pos = torch.randn(batch, 1, D, device=device), torch.full((batch, 1), context - 1, device=device)

    def step():
        cache.length = context - 1
        with torch.no_grad():
            model.patch_lm.step(emb, cache, pos, None)
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


def distar_sizes() -> list[str]:
    """DiSTAR sizes to time: $TTSBENCH_BENCH_DISTAR_SIZES, default tiny,base."""
    return [s for s in os.environ.get("TTSBENCH_BENCH_DISTAR_SIZES", "tiny,base").split(",") if s]


def _distar(size: str, device: str):
    from ttsbench.systems.distar.config import DiSTARConfig
    from ttsbench.systems.distar.model import DiSTAR

    torch.manual_seed(0)
    return DiSTAR(DiSTARConfig.from_size(size)).to(device).eval()


@pytest.mark.parametrize("size", distar_sizes())
def test_distar_mdm_call(benchmark, size, device):
    """One DiSTAR MDM network call at batch 1: MDM + logit heads over a fully masked patch (P x J
    tokens), both history-CFG passes batched as 2 rows (`DiSTAR.mdm_logits`). distar-base: 17
    tokens x 16 layers x 512, then 2 x 72 vectors of 65,536 logits; N = 24 of these per patch."""
    model = _distar(size, device)
    cfg = model.cfg
    h = torch.randn(1, cfg.lm_dim, device=device)
    history = torch.randint(1, cfg.codebook_size + 1, (1, cfg.history_frames, cfg.num_layers), device=device)
    tokens = torch.full((1, cfg.patch_size, cfg.num_layers), cfg.mask_id, device=device)

    def call():
        with torch.no_grad():
            model.mdm_logits(h, history, tokens, True)
        sync(device)

    benchmark.pedantic(call, rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("size", distar_sizes())
def test_distar_lm_step(benchmark, size, device):
    """One DiSTAR drafting-LM decode step with the KV cache at batch 1, context 141 (91 phones + 15
    prompt patches + 35 generated: 3 s prompt and 7 s out of 40 Hz codes at P = 8)."""
    bench_lm_step(benchmark, _distar(size, device), 1, 141, device)


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
    from ttsbench.systems.speech.tokenizer import build_tokenizer

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
    from ttsbench.prompt_sets import load_prompt_set
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
    for p in load_prompt_set("demo").prompts:
        wav, sr = read_audio(p.reference_wav)
        items.append(ScoreItem(p.utt_id, wav, sr, p.reference_wav, p.target_text, p.lang))
    benchmark.pedantic(lambda: metric.score_batch(items), rounds=3, warmup_rounds=1)
