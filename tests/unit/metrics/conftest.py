"""Tiny models saved in the on-disk formats users have, built once per session, for the recipe tests.

- Whisper: a random 1-layer Whisper + a byte-level tokenizer with Whisper's special tokens, saved with
  `save_pretrained` (the openai/whisper-large-v3 layout) and converted to CTranslate2 (the
  Systran/faster-whisper-large-v3 layout).
- HuBERT CTC: a random 1-layer HubertForCTC + a letter CTC tokenizer (facebook/hubert-large-ls960-ft layout).
- WavLM + ECAPA: the s3prl `{"cfg", "model"}` WavLM checkpoint and the UniSpeech `{"model": ...}`
  fine-tuned verifier, original key names, with the training-only `loss_calculator` weight.
- UTMOS: a plain state dict of the UTMOS22 strong layout at tiny sizes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]


def seeded_(module: torch.nn.Module, seed: int, scale: float = 1.0) -> torch.nn.Module:
    """Overwrite every parameter and BN statistic with seeded random values (an 'untrained' checkpoint)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale / math.sqrt(max(1, p.shape[-1])))
        for name, b in module.named_buffers():
            if name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen) + 0.5)
            elif name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
    return module.eval()


@pytest.fixture(scope="session")
def tiny_whisper_dir(tmp_path_factory) -> Path:
    """A random tiny Whisper saved like openai/whisper-large-v3 (config, weights, processor, tokenizer)."""
    pytest.importorskip("transformers")
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    out = tmp_path_factory.mktemp("whisper-tiny-hf")
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    timestamps = [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS + timestamps])
    tok.save(str(out / "tokenizer.json"))
    ids = {s: tok.token_to_id(s) for s in SPECIALS}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    cfg = WhisperConfig(vocab_size=tok.get_vocab_size(), num_mel_bins=80, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, d_model=16, encoder_ffn_dim=32,
                        decoder_ffn_dim=32, max_source_positions=1500, max_target_positions=448,
                        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot, bos_token_id=eot,
                        begin_suppress_tokens=[220, eot], suppress_tokens=[])
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot, bos_token_id=eot, max_length=24,
        is_multilingual=True, lang_to_id={"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], begin_suppress_tokens=[220, eot], suppress_tokens=[],
        alignment_heads=[[0, 0]])
    model.save_pretrained(out)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(out)
    WhisperTokenizerFast(tokenizer_file=str(out / "tokenizer.json"), bos_token="<|endoftext|>",
                         eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                         pad_token="<|endoftext|>").save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_ct2_dir(tiny_whisper_dir, tmp_path_factory) -> Path:
    """The tiny Whisper converted to CTranslate2, as faster-whisper model directories are."""
    ct2 = pytest.importorskip("ctranslate2")
    pytest.importorskip("faster_whisper")
    out = tmp_path_factory.mktemp("whisper-tiny-ct2") / "model"
    converter = ct2.converters.TransformersConverter(str(tiny_whisper_dir),
                                                     copy_files=["tokenizer.json", "preprocessor_config.json"])
    converter.convert(str(out), quantization="float32")
    return out


@pytest.fixture(scope="session")
def tiny_hubert_dir(tmp_path_factory) -> Path:
    """A random tiny HubertForCTC + letter tokenizer saved like facebook/hubert-large-ls960-ft."""
    pytest.importorskip("transformers")
    from transformers import (
        HubertConfig,
        HubertForCTC,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Processor,
    )

    out = tmp_path_factory.mktemp("hubert-tiny")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4,
             **{c: 5 + i for i, c in enumerate("ETAOINSHRDLUCMFWYGPBVK'XJQZ")}}
    (out / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(out / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(out)
    extractor.save_pretrained(out)
    cfg = HubertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2),
                       num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, feat_extract_norm="layer",
                       do_stable_layer_norm=True, conv_bias=True, pad_token_id=0)
    seeded_(HubertForCTC(cfg), seed=1, scale=3.0).save_pretrained(out)
    return out


WAVLM_TINY_CFG = {
    "extractor_mode": "layer_norm", "encoder_layers": 2, "encoder_embed_dim": 32, "encoder_ffn_embed_dim": 64,
    "encoder_attention_heads": 4, "layer_norm_first": True, "normalize": True,
    "conv_feature_layers": "[(16,10,5)] + [(16,3,2)] * 2 + [(16,2,2)]", "conv_bias": False,
    "conv_pos": 16, "conv_pos_groups": 4, "relative_position_embedding": True, "num_buckets": 32,
    "max_distance": 100, "gru_rel_pos": True, "dropout": 0.1,
}


@pytest.fixture(scope="session")
def tiny_sim_files(tmp_path_factory) -> dict[str, Path]:
    """`wavlm.pt` ({"cfg", "model"}, s3prl keys) and `finetune.pth` ({"model": UniSpeech ECAPA keys})."""
    pytest.importorskip("transformers")
    from transformers import WavLMModel

    from ttsbench.metrics.sim.ecapa import ECAPAConfig, ECAPAHead
    from ttsbench.metrics.sim.wavlm import hf_config, hf_to_original

    out = tmp_path_factory.mktemp("sim-tiny")
    wavlm = seeded_(WavLMModel(hf_config(WAVLM_TINY_CFG, "test")), seed=2)
    to_original = hf_to_original(wavlm)
    original = {to_original[k]: v.clone() for k, v in wavlm.state_dict().items()}
    torch.save({"cfg": WAVLM_TINY_CFG, "model": original}, out / "wavlm.pt")
    head = seeded_(ECAPAHead(ECAPAConfig.tiny()), seed=3, scale=2.0)
    tuned = {f"feature_extract.model.{k}": v + 0.01 for k, v in original.items()}  # fine-tuned copies
    tuned.update(head.state_dict())
    tuned["loss_calculator.projection.weight"] = torch.randn(7, 8)  # AAM-softmax: training only
    torch.save({"model": tuned}, out / "finetune.pth")
    return {"wavlm": out / "wavlm.pt", "finetune": out / "finetune.pth", "dir": out}


@pytest.fixture(scope="session")
def tiny_utmos_file(tmp_path_factory) -> Path:
    """A tiny UTMOS22 strong state dict, plain, as utmos22_strong_step7459_v1.pt is stored."""
    from ttsbench.metrics.mos.utmos22 import UTMOS22Strong, UTMOSConfig

    path = tmp_path_factory.mktemp("utmos-tiny") / "utmos22_tiny.pt"
    torch.save(seeded_(UTMOS22Strong(UTMOSConfig.tiny()), seed=4).state_dict(), path)
    return path


@pytest.fixture
def wav_file(tmp_path):
    """Write float samples (or seeded noise-modulated tones) to a wav file and return its path."""
    def make(name: str, seconds: float = 1.0, sr: int = 16_000, seed: int = 0, channels: int = 1,
             samples: np.ndarray | None = None) -> Path:
        if samples is None:
            rng = np.random.default_rng(seed)
            t = np.arange(int(seconds * sr)) / sr
            samples = (0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
                       + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
            if channels > 1:
                samples = np.stack([samples] + [samples * 0.5] * (channels - 1), axis=1)
        path = tmp_path / name
        sf.write(str(path), samples, sr)
        return path

    return make
