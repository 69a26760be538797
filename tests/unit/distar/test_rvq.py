"""ResidualVQ invariants (exact decode of encode, prefix decodes, EMA k-means, dead-code restarts) and
the `rvq` speech tokenizer (save/load, bitrate, a mel-base round trip on real demo speech)."""

from __future__ import annotations

import itertools
import json

import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.distar.rvq import ResidualVQ
from ttsbench.systems.distar.rvq_tokenizer import RVQTokenizer
from ttsbench.systems.distar.rvq_train import evaluate_rvq
from ttsbench.systems.speech.tokenizer import TOKENIZERS, build_tokenizer, load_tokenizer

TINY_VAE = {"encoder_channels": 4, "encoder_dilations": [1], "decoder_channels": 64,
            "resblock_kernel_sizes": [3], "resblock_dilations": [[1, 3]]}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def mixture(n: int, dim: int = 8, clusters: int = 24, seed: int = 0) -> torch.Tensor:
    """(n, dim) frames from a mixture of Gaussians: well-separated centres, small spread."""
    g = torch.Generator().manual_seed(seed)
    centres = 3.0 * torch.randn(clusters, dim, generator=torch.Generator().manual_seed(123))
    return centres[torch.randint(clusters, (n,), generator=g)] + 0.3 * torch.randn(n, dim, generator=g)


def nmse(q: ResidualVQ, x: torch.Tensor) -> list[float]:
    partial = q.partial_sums(q.encode(x))  # (N, J, C)
    return (((partial - x[:, None]) ** 2).mean(dim=(0, 2)) / x.var(0, unbiased=False).mean()).tolist()


def trained_rvq(steps: int = 20, **kwargs) -> ResidualVQ:
    torch.manual_seed(0)
    q = ResidualVQ(8, **{"num_layers": 4, "codebook_size": 32, **kwargs})
    for step in range(steps):
        q.update(mixture(512, seed=step))
    return q


def test_decode_inverts_encode_exactly():
    q = trained_rvq(steps=3)
    x = torch.randn(2, 10, 8)
    codes = q.encode(x)
    assert codes.shape == (2, 10, 4) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < 32
    quantized, again = q.quantize(x)
    assert torch.equal(again, codes) and torch.equal(q.decode(codes), quantized)


def test_partial_decodes_are_the_prefix_sums():
    q = trained_rvq(steps=3)
    x = mixture(100, seed=99)
    codes = q.encode(x)
    partial = q.partial_sums(codes)  # (N, J, C)
    for L in range(1, q.num_layers + 1):
        assert torch.equal(q.decode(codes[..., :L]), partial[:, L - 1])
        assert torch.equal(q.encode(x, layers=L), codes[..., :L])  # greedy: a prefix of the full codes
        manual = sum(q.codebooks[j][codes[:, j]] for j in range(L))
        torch.testing.assert_close(partial[:, L - 1], manual)
    with pytest.raises(InputError, match="layers must be in 1..4"):
        q.encode(x, layers=5)
    with pytest.raises(InputError, match=r"codes must be in \[0, 32\)"):
        q.decode(torch.full((3, 2), 32))


def test_ema_kmeans_lowers_the_error_and_more_layers_never_hurt():
    torch.manual_seed(0)
    q = ResidualVQ(8, num_layers=4, codebook_size=16)  # 64 clusters, 16 codes: layers must share the work
    held_out = mixture(2000, clusters=64, seed=1000)
    untrained = nmse(q, held_out)  # random N(0, 1) codes
    q.update(mixture(512, clusters=64, seed=0))  # data init + one k-means step
    first = nmse(q, held_out)
    for step in range(1, 25):
        stats = q.update(mixture(512, clusters=64, seed=step))
    last = nmse(q, held_out)
    assert all(f < 0.7 * u for f, u in zip(first, untrained))
    assert last[0] < first[0] and last[-1] < 0.8 * first[-1]
    assert all(b < a for a, b in itertools.pairwise(last))  # decreasing in L'
    assert len(stats["perplexity"]) == 4 and stats["perplexity"][0] > 8 and stats["used"][0] == 16
    assert torch.equal(q.initialized, torch.tensor(True))
    assert all(not b.requires_grad for b in q.buffers()) and not list(q.parameters())


def test_first_update_is_deterministic_given_the_torch_seed():
    a, b = trained_rvq(steps=2), trained_rvq(steps=2)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def shifted_data_error(dead_threshold: float) -> tuple[float, int]:
    """Codes fitted to frames near +10, then the data moves to -10: (final nMSE, restarts)."""
    torch.manual_seed(0)
    q = ResidualVQ(8, num_layers=1, codebook_size=16, decay=0.5, dead_threshold=dead_threshold)
    q.update(torch.randn(512, 8) + 10.0)
    moved = torch.randn(512, 8) - 10.0  # one code takes every frame, the others starve
    total = 0
    for _ in range(15):
        restarts = q.update(moved)["restarts"][0]
        if restarts:  # the codes just re-seeded are frames of `moved`, with the threshold as EMA count
            on_data = (q.codebooks[0][:, None] == moved[None]).all(-1).any(-1)  # (K,)
            assert int(on_data.sum()) >= restarts and torch.all(q.ema_count[0][on_data] == dead_threshold)
        total += restarts
    return nmse(q, moved)[0], total


def test_dead_codes_are_reseeded_from_the_current_batch():
    error, restarts = shifted_data_error(2.0)
    stuck, none = shifted_data_error(0.0)  # restarts off: 15 codes stay where the data was
    assert restarts >= 15 and none == 0
    assert error < 0.7 and stuck > 0.85


def tiny_rvq_tokenizer(base: str = "mel", base_config: dict | None = None, steps: int = 3) -> RVQTokenizer:
    torch.manual_seed(0)
    tok = build_tokenizer("rvq", {"base": base, "base_config": base_config or {}, "num_layers": 3,
                                  "codebook_size": 16}).eval()
    for step in range(steps):
        tok.rvq.update(torch.randn(256, tok.code_dim, generator=torch.Generator().manual_seed(step)))
    return tok


def test_registered_and_attributes():
    assert "rvq" in TOKENIZERS.names()
    tok = tiny_rvq_tokenizer()
    assert (tok.sample_rate, tok.hop_length, tok.frame_rate) == (24_000, 600, 40.0)
    assert (tok.latent_dim, tok.num_layers, tok.codebook_size, tok.code_dim) == (3, 3, 16, 64)
    assert tok.discrete
    assert tok.derived_buffers() == {"base.filterbank", "base.inverse", "base.window"}
    assert {"rvq.codebooks", "rvq.ema_count", "rvq.ema_sum", "rvq.initialized"} <= set(tok.state_dict())
    with pytest.raises(InputError, match="continuous tokenizer"):
        build_tokenizer("rvq", {"base": "rvq"})
    with pytest.raises(InputError, match="untrained"):
        build_tokenizer("rvq").encode(torch.zeros(1, 600))


def test_kbps_arithmetic():
    tok = build_tokenizer("rvq", {"num_layers": 9, "codebook_size": 1024})
    assert tok.kbps() == pytest.approx(3.6) and tok.kbps(1) == pytest.approx(0.4)  # 40 Hz x 10 bits
    paper = build_tokenizer("rvq", {"num_layers": 9, "codebook_size": 65_536, "base_config": {"n_mels": 16}})
    assert paper.kbps() == pytest.approx(40 * 9 * 16 / 1000) == paper.describe()["kbps"]  # 5.76
    with pytest.raises(InputError):
        tok.kbps(10)


def test_save_load_round_trip_with_mel_base(tmp_path):
    tok = tiny_rvq_tokenizer()
    tok.save(tmp_path / "tok")
    again = load_tokenizer(tmp_path / "tok")
    assert isinstance(again, RVQTokenizer)
    latents = torch.randn(2, 7, 64)
    q1, c1 = tok.quantize_latents(latents)
    q2, c2 = again.quantize_latents(latents)
    assert torch.equal(c1, c2) and torch.equal(q1, q2)
    assert torch.equal(again.rvq.decode(c1[..., :2]), tok.rvq.decode(c1[..., :2]))
    assert again.fingerprint() == tok.fingerprint() and again.describe() == tok.describe()


def test_save_load_round_trip_with_a_vae_base_and_its_weights(tmp_path):
    vae = build_tokenizer("vae", TINY_VAE).eval()
    with torch.no_grad():
        vae.decoder.post.bias.add_(0.5)  # not the fresh init: the copied weights must be the ones saved
    tok = RVQTokenizer.from_base(vae, num_layers=2, codebook_size=8)
    assert tok.config.base == "vae" and tok.config.base_config["encoder_dilations"] == [1]
    assert torch.equal(tok.base.decoder.post.bias, vae.decoder.post.bias)
    wav = torch.randn(1, 2_400) * 0.1
    tok.rvq.update(vae.encode(wav).reshape(-1, 64).detach())
    tok.save(tmp_path / "tok")
    again = load_tokenizer(tmp_path / "tok")
    assert torch.equal(again.base.decoder.post.bias, vae.decoder.post.bias)
    codes = tok.encode(wav)
    assert codes.shape == (1, 4, 2) and torch.equal(again.encode(wav), codes)
    torch.testing.assert_close(again.decode(codes), tok.decode(codes), rtol=0, atol=0)
    torch.testing.assert_close(again.encode_dist(wav).mean, tok.rvq.decode(codes), rtol=0, atol=0)


def test_mismatched_weights_fail_in_one_line(tmp_path):
    tiny_rvq_tokenizer().save(tmp_path / "tok")
    meta_path = tmp_path / "tok" / "tokenizer.json"
    meta = json.loads(meta_path.read_text())
    meta["config"]["codebook_size"] = 32
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError) as err:
        load_tokenizer(tmp_path / "tok")
    assert "rvq.codebooks" in str(err.value) and "\n" not in str(err.value)
    meta["config"].update(codebook_size=16, base="vae", base_config=TINY_VAE)  # weights lack the VAE's
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="does not match") as err:
        load_tokenizer(tmp_path / "tok")
    assert "\n" not in str(err.value)


def test_mel_base_round_trip_on_demo_speech(repo_root):
    from ttsbench.audio import read_audio

    wav, _ = read_audio(repo_root / "datasets" / "demo" / "cards" / "001.flac", 24_000)
    wav = torch.from_numpy(wav)[None]  # 1.1 s of "cards" speech -> T = 44 frames
    torch.manual_seed(0)
    tok = build_tokenizer("rvq", {"num_layers": 4, "codebook_size": 16}).eval()
    latents = tok.base.encode(wav)  # (1, T, 64)
    T = latents.shape[1]
    for _ in range(10):
        tok.rvq.update(latents)
    codes = tok.encode(wav)
    assert codes.shape == (1, T, 4) and codes.dtype == torch.int64
    errors = evaluate_rvq(tok, latents)
    assert len(errors) == 4 and errors[-1] < errors[0] < 1.0
    full, coarse = tok.decode(codes), tok.decode(codes[..., :1])
    assert full.shape == coarse.shape == (1, T * 600)
    assert torch.isfinite(full).all() and not torch.equal(full, coarse)
    assert tok.kbps(1) == pytest.approx(0.16) and tok.kbps() == pytest.approx(0.64)
