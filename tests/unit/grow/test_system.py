"""`grow-0.6b` / `grow-0.6b-rl`: the one-line refusal without weights, and a whole synthesis on tiny
files in the released layouts (GROW's .pt converted on the fly, a tokenizers JSON, a Semantic-VAE folder
with weight-normed convolutions)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from ttsbench.cli import main
from ttsbench.errors import MissingModelError
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.grow.semantic_vae import SemanticVAE, SemanticVAEConfig, load_semantic_vae
from ttsbench.types import LoadContext, Prompt, SystemSpec

TINY_VAE = SemanticVAEConfig(encoder_dim=4, encoder_rates=(2, 2), vae_dim=8, attn_heads=2, upsample_rates=(2, 2),
                             upsample_kernel_sizes=(4, 4), upsample_initial_channel=16, resblock_kernel_sizes=(3,),
                             resblock_dilation_sizes=((1, 3),))


@pytest.mark.parametrize("name", ["grow-0.6b", "grow-0.6b-rl"])
def test_without_weights_exits_2_naming_the_hub_files(name, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TTSBENCH_CACHE", raising=False)
    rc = main(["run", "--system", name, "--prompt-set", "demo", "--cache-dir", str(tmp_path / "none"),
               "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "yhaha/GROW" in err[0] and "Qwen/Qwen3-0.6B" in err[0] and "zkniu/Semantic-VAE" in err[0]


def write_vae_folder(folder, seed=0):
    """metainfo.json + dac/ema_state_dict.pth: `ema_model.` keys, weight norm in both of torch's layouts."""
    torch.manual_seed(seed)
    vae = SemanticVAE(TINY_VAE)
    state = {}
    for k, v in vae.state_dict().items():
        if k.endswith(".weight") and v.dim() == 3:
            base = k[: -len(".weight")]
            g = v.flatten(1).norm(dim=1).view(-1, 1, 1)
            if base.startswith("encoder"):
                state[base + ".weight_g"], state[base + ".weight_v"] = g, v * 2.0
            else:
                state[base + ".parametrizations.weight.original0"] = g
                state[base + ".parametrizations.weight.original1"] = v * 3.0
        else:
            state[k] = v
    state["projectors.0.weight"] = torch.zeros(2)
    state["decoder.activation_post.upsample.filter"] = torch.zeros(1, 1, 12)
    (folder / "dac").mkdir(parents=True)
    torch.save({f"ema_model.{k}": v for k, v in state.items()}, folder / "dac" / "ema_state_dict.pth")
    dac = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(TINY_VAE).items()}
    dac["resblock_dilation_sizes"] = [list(d) for d in TINY_VAE.resblock_dilation_sizes]
    dac.update(bigvgan_conf="conf/bigvgan_conf/bigvgan_v2_16khz_40hz_base_vae64.json", decoder_type="bigvgan")
    (folder / "metainfo.json").write_text(json.dumps({"DAC": dac}))
    return vae


def test_semantic_vae_folder_loads_with_weight_norm_folded(tmp_path):
    ref = write_vae_folder(tmp_path / "semantic_vae_1000k")
    vae = load_semantic_vae(tmp_path / "semantic_vae_1000k")
    wav = torch.randn(1, 50)
    with torch.no_grad():
        mean, logvar = vae.encode(wav)
        assert mean.shape == (1, 13, 8) and logvar.max() <= 12  # ceil(50 / 4) frames
        torch.testing.assert_close(mean, ref.encode(wav)[0])
        out = vae.decode(mean)
    assert out.shape == (1, 52) and out.abs().max() <= 1.0


def write_tokenizer(folder):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=290, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["a short prompt", "hello world, this is a test."] * 4, trainer)
    folder.mkdir(parents=True)
    tok.save(str(folder / "tokenizer.json"))


def test_synthesis_from_grow_files(grow_ckpt, make_wav, tmp_path):
    write_tokenizer(tmp_path / "Qwen3-0.6B")
    write_vae_folder(tmp_path / "Semantic-VAE" / "semantic_vae_1000k")
    ctx = LoadContext(device="cpu", cache_dir=tmp_path)
    spec = SystemSpec("grow-0.6b", {"nfe": 2, "min_patches": 1, "max_patches": 3}, checkpoint=grow_ckpt)
    system = SYSTEMS.get("grow-0.6b").load(spec, ctx)
    assert (tmp_path / "grow-converted").is_dir()  # the .pt was converted once into the cache
    wav_a, wav_b = make_wav("a.wav", seconds=0.01), make_wav("b.wav", seconds=0.012, sr=22_050)
    prompts = [Prompt("u1", wav_a, "a short prompt", "hello world", "en", wav_b),
               Prompt("u2", wav_b, "another", "this is a test.", "en", wav_a)]
    first, again = system.synthesize(prompts, seed=0), system.synthesize(prompts, seed=0)
    for a, b in zip(first, again):
        assert a.dtype == np.float32 and a.ndim == 1 and 0 < a.size <= 3 * 4 * 4 and np.isfinite(a).all()
        assert np.array_equal(a, b)
    info = system.describe()
    assert info["sample_rate"] == 16_000 and "sha256:" in info["weights"] and info["sampling"]["nfe"] == 2
    assert info["text"]["join"].startswith("prompt_text + target_text")
    assert system.arch().nfe == 2


def test_missing_vae_is_one_line(grow_ckpt, tmp_path):
    write_tokenizer(tmp_path / "q")
    spec = SystemSpec("grow-0.6b", {"qwen": str(tmp_path / "q"), "vae": str(tmp_path / "nope")}, checkpoint=grow_ckpt)
    with pytest.raises(MissingModelError, match="zkniu/Semantic-VAE") as err:
        SYSTEMS.get("grow-0.6b").load(spec, LoadContext(device="cpu", cache_dir=tmp_path))
    assert "\n" not in str(err.value)
