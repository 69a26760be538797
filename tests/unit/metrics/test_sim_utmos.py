"""sim-wavlm-ecapa and utmos22-strong: real loading code on tiny checkpoints in the upstream formats.

The tiny recipes below are the registered recipe classes with only the reference model changed to the
tiny sizes (as timm's test variants): path resolution, SHA-256 pinning, the signature check, strict
key checks, resampling, caching and scoring are the real code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ttsbench.errors import MissingModelError
from ttsbench.metrics.models import sha256_file
from ttsbench.metrics.mos.recipe import UTMOS22StrongMOS, reference_signature
from ttsbench.metrics.mos.utmos22 import UTMOSConfig
from ttsbench.metrics.reference import ReferenceModel
from ttsbench.metrics.sim.ecapa import ECAPAConfig
from ttsbench.metrics.sim.recipe import WavLMECAPASIM, load_verifier, signature
from ttsbench.types import LoadContext, ScoreItem

pytest.importorskip("transformers")


WAVLM_TINY_CFG = {  # the tiny s3prl cfg of conftest's tiny_sim_files
    "extractor_mode": "layer_norm", "encoder_layers": 2, "encoder_embed_dim": 32, "encoder_ffn_embed_dim": 64,
    "encoder_attention_heads": 4, "layer_norm_first": True, "normalize": True,
    "conv_feature_layers": "[(16,10,5)] + [(16,3,2)] * 2 + [(16,2,2)]", "conv_bias": False,
    "conv_pos": 16, "conv_pos_groups": 4, "relative_position_embedding": True, "num_buckets": 32,
    "max_distance": 100, "gru_rel_pos": True, "dropout": 0.1,
}


class TinySIM(WavLMECAPASIM):
    reference_model = ReferenceModel("tiny", "a tiny WavLM + ECAPA", signature(WAVLM_TINY_CFG, ECAPAConfig.tiny()))


class TinyUTMOS(UTMOS22StrongMOS):
    config = UTMOSConfig.tiny()
    reference_model = ReferenceModel("tiny", "a tiny UTMOS22 strong", reference_signature(UTMOSConfig.tiny()))


# key names of the upstream layouts (UniSpeech ECAPA_TDNN + s3prl WavLM; SpeechMOS UTMOS22Strong)
UPSTREAM_SIM_KEYS = [
    "feature_weight", "layer1.conv.weight", "layer2.Res2Conv1dReluBn.convs.6.weight",
    "layer4.SE_Connect.linear2.bias", "pooling.linear1.weight", "bn.running_var", "linear.weight",
    "feature_extract.model.encoder.layers.0.self_attn.grep_a",
    "feature_extract.model.encoder.layers.0.self_attn.relative_attention_bias.weight",
    "feature_extract.model.encoder.pos_conv.0.weight_g", "feature_extract.model.feature_extractor.conv_layers.0.2.1.weight",
    "feature_extract.model.post_extract_proj.weight", "feature_extract.model.mask_emb",
]
UPSTREAM_UTMOS_KEYS = ["wav2vec2.feature_extractor.conv_layers.0.2.weight", "wav2vec2.encoder.pos_conv.0.weight_g",
                       "wav2vec2.encoder.layers.1.self_attn.out_proj.bias", "wav2vec2.mask_emb", "domain_emb",
                       "judge_emb", "blstm.weight_ih_l0_reverse", "projection.2.bias"]


def sim_options(files: dict[str, Path], **extra: str) -> dict[str, str]:
    return {"model": str(files["finetune"]), "wavlm": str(files["wavlm"]), **extra}


def items(paths: list[Path], prompt: Path, resynth: Path | None = None) -> list[ScoreItem]:
    import soundfile as sf

    out = []
    for i, p in enumerate(paths):
        wav, sr = sf.read(str(p), dtype="float32")
        out.append(ScoreItem(utt_id=f"u{i}", wav=wav, sample_rate=sr, wav_path=p, target_text="x",
                             prompt_wav=prompt, resynth_prompt_wav=resynth))
    return out


def test_tiny_checkpoints_use_the_upstream_key_names(tiny_sim_files, tiny_utmos_file):
    finetune = torch.load(tiny_sim_files["finetune"], weights_only=True)["model"]
    assert all(k in finetune for k in UPSTREAM_SIM_KEYS)
    assert set(torch.load(tiny_sim_files["wavlm"], weights_only=True)) == {"cfg", "model"}
    assert all(k in torch.load(tiny_utmos_file, weights_only=True) for k in UPSTREAM_UTMOS_KEYS)


def test_sim_recipe_scores_sim_o_and_sim_r(tiny_sim_files, wav_file, tmp_path):
    a, b = wav_file("a.wav", seed=1), wav_file("b.wav", sr=24_000, seed=2)  # b: sinc-resampled to 16 kHz
    prompt = wav_file("prompt.wav", sr=22_050, seed=3, channels=2)  # first channel is used
    metric = TinySIM(sim_options(tiny_sim_files))
    metric.setup(LoadContext(work_dir=tmp_path / "work"))
    rows = metric.score_batch(items([a, b], prompt, resynth=a))
    json.dumps(rows)
    assert all(-1.0 <= r["sim_o"] <= 1.0 for r in rows)
    assert rows[0]["sim_r"] == pytest.approx(1.0, abs=1e-5)  # output against itself
    values = metric.aggregate(pd.DataFrame(rows))
    assert values["sim_o"] == pytest.approx(np.mean([r["sim_o"] for r in rows])) and values["sim_r_n"] == 2
    assert len(list((tmp_path / "work" / "embeddings").rglob("*.npy"))) == 3  # a, b, prompt
    pins = metric.fingerprint()["weights_sha256"]
    assert pins["finetune"] == sha256_file(tiny_sim_files["finetune"])


def test_fine_tuned_wavlm_weights_override_the_pretrained_ones(tiny_sim_files):
    model = load_verifier(tiny_sim_files["wavlm"], tiny_sim_files["finetune"], "t")
    pre = torch.load(tiny_sim_files["wavlm"], weights_only=True)["model"]
    got = model.wavlm.state_dict()["feature_projection.projection.weight"]
    assert torch.allclose(got, pre["post_extract_proj.weight"] + 0.01)  # the finetune file's copy


def test_sim_pins_the_checkpoint_hash(tiny_sim_files, tmp_path):
    good = sha256_file(tiny_sim_files["finetune"])
    TinySIM(sim_options(tiny_sim_files, sha256=good)).setup(LoadContext(work_dir=tmp_path))
    with pytest.raises(MissingModelError, match="SHA-256"):
        TinySIM(sim_options(tiny_sim_files, sha256="ab" * 32)).setup(LoadContext(work_dir=tmp_path))


@pytest.mark.parametrize("change", ["drop_head_key", "extra_key", "wrong_shape", "rename_wavlm_key", "not_torch"])
def test_sim_rejects_a_wrong_checkpoint_in_one_line(tiny_sim_files, tmp_path, change):
    state = torch.load(tiny_sim_files["finetune"], weights_only=True)
    sd = state["model"]
    if change == "drop_head_key":
        del sd["layer3.SE_Connect.linear1.weight"]
    elif change == "extra_key":
        sd["projector.weight"] = torch.zeros(2)
    elif change == "wrong_shape":
        sd["linear.weight"] = torch.zeros(9, 3)
    elif change == "rename_wavlm_key":
        sd["feature_extract.model.encoder.layers.0.self_attn.grep_b"] = sd.pop(
            "feature_extract.model.encoder.layers.0.self_attn.grep_a")
    bad = tmp_path / "bad.pth"
    if change == "not_torch":
        bad.write_bytes(b"<html>Google Drive virus scan warning</html>")
    else:
        torch.save(state, bad)
    with pytest.raises(MissingModelError) as err:
        TinySIM({"model": str(bad), "wavlm": str(tiny_sim_files["wavlm"])}).setup(LoadContext(work_dir=tmp_path))
    assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_sim_missing_files_name_where_to_get_them(tmp_path):
    with pytest.raises(MissingModelError) as err:
        WavLMECAPASIM({}).setup(LoadContext(cache_dir=tmp_path))
    msg = str(err.value)
    assert "speaker_similarity/wavlm_large_finetune.pth" in msg and "1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP" in msg


def test_utmos_recipe_scores_any_rate(tiny_utmos_file, wav_file, tmp_path):
    metric = TinyUTMOS({"model": str(tiny_utmos_file)})
    metric.setup(LoadContext(work_dir=tmp_path / "work"))
    paths = [wav_file("a.wav", seed=1), wav_file("b.wav", sr=22_050, seed=2, channels=2)]
    rows = metric.score_batch(items(paths, paths[0]))
    assert all(np.isfinite(r["utmos"]) for r in rows) and rows[0]["utmos"] != rows[1]["utmos"]
    again = TinyUTMOS({"model": str(tiny_utmos_file)})
    again.setup(LoadContext(work_dir=tmp_path / "work"))
    assert again.score_batch(items(paths, paths[0])) == rows  # served from the content cache
    assert set(metric.aggregate(pd.DataFrame(rows))) == {"utmos", "utmos_ci_low", "utmos_ci_high"}


def test_utmos_rejects_a_wrong_checkpoint(tiny_utmos_file, tiny_sim_files, tmp_path):
    with pytest.raises(MissingModelError, match="not the expected checkpoint"):  # another model's weights
        TinyUTMOS({"model": str(tiny_sim_files["wavlm"])}).setup(LoadContext(work_dir=tmp_path))
    sd = torch.load(tiny_utmos_file, weights_only=True)
    del sd["judge_emb"]
    torch.save(sd, tmp_path / "partial.pt")
    with pytest.raises(MissingModelError, match="missing key.*judge_emb"):
        TinyUTMOS({"model": str(tmp_path / "partial.pt")}).setup(LoadContext(work_dir=tmp_path))
    with pytest.raises(MissingModelError, match="expects UTMOS22 strong"):  # the full-size recipe on a tiny file
        UTMOS22StrongMOS({"model": str(tiny_utmos_file)}).setup(LoadContext(work_dir=tmp_path))
