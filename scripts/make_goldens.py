"""Golden fixtures of the SIM and UTMOS recipes: upstream-format random checkpoints and what they score.

Writes `tests/fixtures/goldens/`:

  wavlm_tiny.pt      an s3prl / UniSpeech WavLM checkpoint {"cfg", "model"} (2 layers of 32, gated
                     relative position bias, pre-LN), seeded random weights;
  ecapa_tiny.pth     a UniSpeech `ECAPA_TDNN` fine-tuned state {"model": ...} on it (channels 16; the
                     1536-wide aggregation, attention 128 and SE 128 that UniSpeech fixes), with the
                     WavLM copies under feature_extract.model. and a training-only loss_calculator;
  goldens.json       per fixed waveform (1 s at 16, 22.05 and 24 kHz): the SIM embedding, and the UTMOS
                     of the released-size UTMOS22 strong whose random weights `utmos_state(SEED)` makes
                     (too large to store: 95 M parameters, rebuilt from the seed in the test).

Two ways to compute the goldens:

  --independent             scripts/golden_reference.py, a functional reimplementation written from the
                            upstream sources (what the repository's goldens.json was made with);
  --upstream S3PRL UNISPEECH SPEECHMOS
                            the upstream code itself, from checkouts you provide at the pinned commits
                            (s3prl's `s3prl/upstream/wavlm/WavLM.py`, UniSpeech's
                            `downstreams/speaker_verification/models/ecapa_tdnn.py`, SpeechMOS v1.2.0
                            `speechmos/utmos22/strong/model.py`) and torchaudio installed. Run it where
                            torchaudio imports (not beside a CPU torch 2.13 from PyPI):

    python scripts/make_goldens.py --upstream ~/src/s3prl ~/src/UniSpeech ~/src/SpeechMOS

The test (`tests/unit/metrics/test_upstream_goldens.py`) asserts ttsbench's recipes equal the goldens:
cosine of the SIM embeddings >= 1 - 1e-6, UTMOS within 1e-6.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "goldens"
SEED = 20_261_130
PINNED = {"s3prl": "s3prl/s3prl (upstream/wavlm/WavLM.py, as UniSpeech's WavLM/WavLM.py in seed-tts-eval 752f429)",
          "UniSpeech": "microsoft/UniSpeech as vendored by BytedanceSpeech/seed-tts-eval 752f429",
          "SpeechMOS": "tarepan/SpeechMOS v1.2.0 (ed25eacbfa42b99156c36ebec67a733b5dbb9b79)"}
CASES = [(16_000, 1), (22_050, 2), (24_000, 3)]
WAVLM_CFG = {"extractor_mode": "layer_norm", "encoder_layers": 2, "encoder_embed_dim": 32, "encoder_ffn_embed_dim": 64,
             "encoder_attention_heads": 4, "layer_norm_first": True, "normalize": True,
             "conv_feature_layers": "[(16,10,5)] + [(16,3,2)] * 2 + [(16,2,2)]", "conv_bias": False, "conv_pos": 16,
             "conv_pos_groups": 4, "relative_position_embedding": True, "num_buckets": 32, "max_distance": 100,
             "gru_rel_pos": True, "activation_fn": "gelu"}
ECAPA = {"channels": 16, "emb_dim": 8, "cat": 1536, "attention": 128, "se": 128, "scale": 8}


def waveform(sr: int, seed: int) -> np.ndarray:
    """1 s of a voiced-like test signal (float32), as the test builds it."""
    rng = np.random.default_rng(seed)
    t = np.arange(sr) / sr
    f0 = 110 + 30 * seed
    wav = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return (0.2 * wav / np.abs(wav).max() + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def seeded(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """Random values for a state dict, key by key in sorted order: matrices ~ N(0, 1/fan_in), 1-D `.weight`s
    (norm gains) near 1, weight-norm gains and BN running variances positive, other vectors small."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key in sorted(shapes):
        shape = shapes[key]
        x = torch.randn(shape, generator=gen)
        if key.endswith(("weight_g", "running_var")):
            x = x.abs() + 0.5
        elif len(shape) == 1 and key.endswith(".weight"):
            x = 1.0 + 0.1 * x
        elif len(shape) == 1:
            x = 0.05 * x
        else:
            x = x / math.sqrt(math.prod(shape[1:]))
        out[key] = x.contiguous()
    return out


def wavlm_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """Key -> shape of an s3prl WavLM state dict for `cfg` (layer-norm extractor, gated relative bias)."""
    d, f, h = cfg["encoder_embed_dim"], cfg["encoder_ffn_embed_dim"], cfg["encoder_attention_heads"]
    shapes: dict[str, tuple[int, ...]] = {}
    n_in = 1
    spec = [(16, 10, 5), (16, 3, 2), (16, 3, 2), (16, 2, 2)]
    for i, (dim, k, _) in enumerate(spec):
        shapes[f"feature_extractor.conv_layers.{i}.0.weight"] = (dim, n_in, k)
        shapes[f"feature_extractor.conv_layers.{i}.2.1.weight"] = (dim,)
        shapes[f"feature_extractor.conv_layers.{i}.2.1.bias"] = (dim,)
        n_in = dim
    shapes.update({"layer_norm.weight": (n_in,), "layer_norm.bias": (n_in,), "post_extract_proj.weight": (d, n_in),
                   "post_extract_proj.bias": (d,), "mask_emb": (d,), "encoder.pos_conv.0.bias": (d,),
                   "encoder.pos_conv.0.weight_g": (1, 1, cfg["conv_pos"]),
                   "encoder.pos_conv.0.weight_v": (d, d // cfg["conv_pos_groups"], cfg["conv_pos"]),
                   "encoder.layer_norm.weight": (d,), "encoder.layer_norm.bias": (d,)})
    for i in range(cfg["encoder_layers"]):
        p = f"encoder.layers.{i}"
        for proj in ("q", "k", "v", "out"):
            shapes[f"{p}.self_attn.{proj}_proj.weight"] = (d, d)
            shapes[f"{p}.self_attn.{proj}_proj.bias"] = (d,)
        shapes.update({f"{p}.self_attn.grep_linear.weight": (8, d // h), f"{p}.self_attn.grep_linear.bias": (8,),
                       f"{p}.self_attn.grep_a": (1, h, 1, 1), f"{p}.self_attn_layer_norm.weight": (d,),
                       f"{p}.self_attn_layer_norm.bias": (d,), f"{p}.fc1.weight": (f, d), f"{p}.fc1.bias": (f,),
                       f"{p}.fc2.weight": (d, f), f"{p}.fc2.bias": (d,), f"{p}.final_layer_norm.weight": (d,),
                       f"{p}.final_layer_norm.bias": (d,)})
        if i == 0:
            shapes[f"{p}.self_attn.relative_attention_bias.weight"] = (cfg["num_buckets"], h)
    return shapes


def ecapa_shapes(feat_dim: int, feat_num: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of UniSpeech's ECAPA_TDNN head (the keys after feature_extract.)."""
    c, e = ECAPA["channels"], ECAPA["emb_dim"]
    w = c // ECAPA["scale"]
    shapes: dict[str, tuple[int, ...]] = {"feature_weight": (feat_num,), "layer1.conv.weight": (c, feat_dim, 5),
                                          "layer1.conv.bias": (c,)}

    def bn(p: str, n: int) -> None:
        shapes.update({f"{p}.weight": (n,), f"{p}.bias": (n,), f"{p}.running_mean": (n,), f"{p}.running_var": (n,)})

    bn("layer1.bn", c)
    for layer in ("layer2", "layer3", "layer4"):
        for part in ("Conv1dReluBn1", "Conv1dReluBn2"):
            shapes[f"{layer}.{part}.conv.weight"] = (c, c, 1)
            shapes[f"{layer}.{part}.conv.bias"] = (c,)
            bn(f"{layer}.{part}.bn", c)
        for i in range(ECAPA["scale"] - 1):
            shapes[f"{layer}.Res2Conv1dReluBn.convs.{i}.weight"] = (w, w, 3)
            shapes[f"{layer}.Res2Conv1dReluBn.convs.{i}.bias"] = (w,)
            bn(f"{layer}.Res2Conv1dReluBn.bns.{i}", w)
        shapes.update({f"{layer}.SE_Connect.linear1.weight": (ECAPA["se"], c), f"{layer}.SE_Connect.linear1.bias":
                       (ECAPA["se"],), f"{layer}.SE_Connect.linear2.weight": (c, ECAPA["se"]),
                       f"{layer}.SE_Connect.linear2.bias": (c,)})
    k, a = ECAPA["cat"], ECAPA["attention"]
    shapes.update({"conv.weight": (k, 3 * c, 1), "conv.bias": (k,), "pooling.linear1.weight": (a, k, 1),
                   "pooling.linear1.bias": (a,), "pooling.linear2.weight": (k, a, 1), "pooling.linear2.bias": (k,),
                   "linear.weight": (e, 2 * k), "linear.bias": (e,)})
    bn("bn", 2 * k)
    return shapes


def utmos_shapes() -> dict[str, tuple[int, ...]]:
    """Key -> shape of SpeechMOS v1.2.0's UTMOS22Strong (released sizes)."""
    shapes: dict[str, tuple[int, ...]] = {}
    n_in = 1
    for i, k in enumerate([10, 3, 3, 3, 3, 2, 2]):
        shapes[f"wav2vec2.feature_extractor.conv_layers.{i}.0.weight"] = (512, n_in, k)
        n_in = 512
    shapes.update({"wav2vec2.feature_extractor.conv_layers.0.2.weight": (512,),
                   "wav2vec2.feature_extractor.conv_layers.0.2.bias": (512,), "wav2vec2.layer_norm.weight": (512,),
                   "wav2vec2.layer_norm.bias": (512,), "wav2vec2.post_extract_proj.weight": (768, 512),
                   "wav2vec2.post_extract_proj.bias": (768,), "wav2vec2.mask_emb": (768,),
                   "wav2vec2.encoder.pos_conv.0.bias": (768,), "wav2vec2.encoder.pos_conv.0.weight_g": (1, 1, 128),
                   "wav2vec2.encoder.pos_conv.0.weight_v": (768, 48, 128), "wav2vec2.encoder.layer_norm.weight": (768,),
                   "wav2vec2.encoder.layer_norm.bias": (768,), "domain_emb": (1, 128), "judge_emb": (1, 128),
                   "projection.0.weight": (2048, 1024), "projection.0.bias": (2048,), "projection.2.weight": (1, 2048),
                   "projection.2.bias": (1,)})
    for i in range(12):
        p = f"wav2vec2.encoder.layers.{i}"
        for proj in ("q", "k", "v", "out"):
            shapes[f"{p}.self_attn.{proj}_proj.weight"] = (768, 768)
            shapes[f"{p}.self_attn.{proj}_proj.bias"] = (768,)
        shapes.update({f"{p}.fc1.weight": (3072, 768), f"{p}.fc1.bias": (3072,), f"{p}.fc2.weight": (768, 3072),
                       f"{p}.fc2.bias": (768,), f"{p}.self_attn_layer_norm.weight": (768,),
                       f"{p}.self_attn_layer_norm.bias": (768,), f"{p}.final_layer_norm.weight": (768,),
                       f"{p}.final_layer_norm.bias": (768,)})
    for suffix in ("", "_reverse"):
        shapes.update({f"blstm.weight_ih_l0{suffix}": (2048, 1024), f"blstm.weight_hh_l0{suffix}": (2048, 512),
                       f"blstm.bias_ih_l0{suffix}": (2048,), f"blstm.bias_hh_l0{suffix}": (2048,)})
    return shapes


def utmos_state(seed: int = SEED) -> dict[str, torch.Tensor]:
    """The released-size UTMOS22 strong's random weights of the goldens (rebuilt from the seed)."""
    return seeded(utmos_shapes(), seed)


def write_checkpoints(out: Path) -> tuple[dict, dict]:
    out.mkdir(parents=True, exist_ok=True)
    wavlm = {"cfg": WAVLM_CFG, "model": seeded(wavlm_shapes(WAVLM_CFG), SEED + 1)}
    head = seeded(ecapa_shapes(WAVLM_CFG["encoder_embed_dim"], WAVLM_CFG["encoder_layers"] + 1), SEED + 2)
    tuned = {f"feature_extract.model.{k}": v + 0.01 for k, v in wavlm["model"].items()}  # fine-tuned copies
    tuned.update(head)
    tuned["loss_calculator.projection.weight"] = torch.zeros(3, ECAPA["emb_dim"])  # AAM-softmax, training only
    torch.save(wavlm, out / "wavlm_tiny.pt")
    torch.save({"model": tuned}, out / "ecapa_tiny.pth")
    return wavlm, {"model": tuned}


def independent(wavlm: dict, finetuned: dict) -> dict:
    """The goldens from scripts/golden_reference.py."""
    spec = importlib.util.spec_from_file_location("golden_reference", Path(__file__).with_name("golden_reference.py"))
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    utmos = utmos_state()
    out: dict = {"sim": {}, "utmos": {}}
    with torch.no_grad():
        for sr, seed in CASES:
            wav = torch.from_numpy(waveform(sr, seed))[None]
            out["sim"][f"{sr}-{seed}"] = ref.sim_embedding(wav, sr, wavlm, finetuned["model"])[0].tolist()
            out["utmos"][f"{sr}-{seed}"] = ref.utmos_score(wav, sr, utmos)
    return out


def upstream(wavlm: dict, finetuned: dict, s3prl: Path, unispeech: Path, speechmos: Path) -> dict:
    """The goldens from the upstream code (s3prl WavLM, UniSpeech ECAPA_TDNN, SpeechMOS UTMOS22Strong)."""
    # lazy: the upstream packages and torchaudio exist only where a user runs this mode
    import torchaudio

    sys.path[:0] = [str(s3prl), str(unispeech / "downstreams" / "speaker_verification"), str(speechmos)]
    # lazy: UniSpeech's ECAPA_TDNN, from the checkout on sys.path
    from models.ecapa_tdnn import ECAPA_TDNN
    # lazy: s3prl's WavLM expert, which loads {"cfg", "model"} checkpoints
    from s3prl.upstream.wavlm.expert import UpstreamExpert
    # lazy: SpeechMOS v1.2.0's model
    from speechmos.utmos22.strong.model import UTMOS22Strong

    verifier = ECAPA_TDNN(feat_dim=WAVLM_CFG["encoder_embed_dim"], channels=ECAPA["channels"],
                          emb_dim=ECAPA["emb_dim"], feat_type="fbank")  # fbank: no hub download; replaced below
    verifier.feat_type, verifier.feature_selection = "wavlm_large", "hidden_states"
    verifier.feature_extract = UpstreamExpert(str(OUT / "wavlm_tiny.pt"))
    verifier.feature_weight = torch.nn.Parameter(torch.zeros(WAVLM_CFG["encoder_layers"] + 1))
    verifier.load_state_dict(finetuned["model"], strict=False)
    verifier.eval()
    mos = UTMOS22Strong().eval()
    mos.load_state_dict(utmos_state(), strict=True)
    out: dict = {"sim": {}, "utmos": {}}
    with torch.no_grad():
        for sr, seed in CASES:
            wav = torch.from_numpy(waveform(sr, seed))[None]
            x = torchaudio.transforms.Resample(orig_freq=sr, new_freq=16_000)(wav)
            out["sim"][f"{sr}-{seed}"] = verifier(x)[0].tolist()
            out["utmos"][f"{sr}-{seed}"] = float(mos(wav, sr)[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--independent", action="store_true", help="goldens from scripts/golden_reference.py")
    mode.add_argument("--upstream", nargs=3, type=Path, metavar=("S3PRL", "UNISPEECH", "SPEECHMOS"),
                      help="checkouts of the upstream repositories at the pinned commits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wavlm, finetuned = write_checkpoints(OUT)
    goldens = independent(wavlm, finetuned) if args.independent else upstream(wavlm, finetuned, *args.upstream)
    goldens["generated_by"] = "independent reimplementation: scripts/golden_reference.py" if args.independent \
        else f"upstream code: {PINNED}"
    goldens["seed"], goldens["cases"] = SEED, [list(c) for c in CASES]
    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"{OUT / 'goldens.json'}: {goldens['generated_by']}")


if __name__ == "__main__":
    main()
