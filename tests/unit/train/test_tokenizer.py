"""Speech tokenizer interface: registry, shapes, mel round trip, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttsbench.errors import InputError, MissingModelError
from ttsbench.systems.speech.mel import MelTokenizer, slaney_mel_filterbank
from ttsbench.systems.speech.tokenizer import TOKENIZERS, build_tokenizer, load_tokenizer

TINY_VAE = {"encoder_channels": 4, "encoder_dilations": [1], "decoder_channels": 64,
            "resblock_kernel_sizes": [3], "resblock_dilations": [[1, 3]]}


def test_registry_knows_vae_and_mel():
    assert {"vae", "mel"} <= set(TOKENIZERS.names())


@pytest.mark.parametrize("name,config", [("mel", None), ("vae", TINY_VAE)])
def test_one_second_is_40_frames_of_64(name, config):
    tok = build_tokenizer(name, config).eval()
    assert (tok.sample_rate, tok.hop_length, tok.latent_dim, tok.frame_rate) == (24_000, 600, 64, 40.0)
    with torch.no_grad():
        z = tok.encode(torch.randn(2, 24_000) * 0.1)
        wav = tok.decode(z)
        odd = tok.encode(torch.randn(1, 24_001) * 0.1)
    assert z.shape == (2, 40, 64) and wav.shape == (2, 24_000)
    assert odd.shape == (1, 41, 64)  # ceil(S / hop): a partial frame is padded, never dropped


def test_mel_decode_then_encode_is_consistent(speech):
    tok = MelTokenizer()
    wav = torch.from_numpy(speech(1.0))[None]
    z = tok.encode(wav)
    again = tok.encode(tok.decode(z))
    assert (again - z).abs().mean() < 0.1  # latent units (~unit variance): Griffin-Lim keeps the mel


def test_mel_filterbank_matches_librosa():
    librosa = pytest.importorskip("librosa")
    ours = slaney_mel_filterbank(24_000, 2048, 64, 0.0, 12_000.0).numpy()
    ref = librosa.filters.mel(sr=24_000, n_fft=2048, n_mels=64, fmin=0.0, fmax=12_000.0)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


@pytest.mark.parametrize("name,config", [("mel", {"n_mels": 80}), ("vae", TINY_VAE)])
def test_save_load_round_trip(tmp_path, name, config):
    tok = build_tokenizer(name, config).eval()
    tok.save(tmp_path / "tok")
    again = load_tokenizer(tmp_path / "tok")
    x = torch.randn(1, 6_000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(again.encode(x), tok.encode(x), rtol=0, atol=0)
    assert again.fingerprint() == tok.fingerprint() and again.describe() == tok.describe()


def test_fingerprint_changes_with_weights():
    a, b = build_tokenizer("vae", TINY_VAE), build_tokenizer("vae", TINY_VAE)
    with torch.no_grad():
        b.decoder.post.bias.add_(1.0)
    assert a.fingerprint() != b.fingerprint()


def test_bad_config_and_missing_folder_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="unknown config key"):
        build_tokenizer("mel", {"n_mel": 80})
    with pytest.raises(MissingModelError, match="tokenizer.json"):
        load_tokenizer(tmp_path / "nowhere")
    with pytest.raises(InputError, match="same product"):
        build_tokenizer("vae", {"encoder_strides": [2, 3]})
