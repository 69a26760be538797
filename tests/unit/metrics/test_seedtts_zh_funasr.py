"""Issue 19.7: seedtts-zh runs end to end through funasr on a tiny SeACo-Paraformer, fully offline.

The model folder has the layout of the ModelScope release (config.yaml with the keys and classes of
funasr's own `seaco_paraformer/template.yaml` at tiny sizes, model.pt, tokens.json), built with funasr's own classes
and random weights. It loads through the recipe with every socket call refused (no ModelScope or hub
access can hide), transcribes a real wav and goes through zhconv and the per-character CER.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

pytestmark = pytest.mark.slow  # importing funasr alone takes ~9 s on 2 cores

#: funasr's seaco_paraformer/template.yaml layout (the released model's keys and classes) at tiny sizes
CONFIG = """model: SeacoParaformer
model_conf: {ctc_weight: 0.0, lsm_weight: 0.1, length_normalized_loss: true, predictor_weight: 1.0,
  predictor_bias: 1, sampling_ratio: 0.75, inner_dim: 16, bias_encoder_type: lstm, bias_encoder_bid: false,
  seaco_lsm_weight: 0.1, seaco_length_normal: true, train_decoder: false, NO_BIAS: 9}
encoder: SANMEncoder
encoder_conf: {output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 2, dropout_rate: 0.1,
  positional_dropout_rate: 0.1, attention_dropout_rate: 0.1, input_layer: pe, pos_enc_class: SinusoidalPositionEncoder,
  normalize_before: true, kernel_size: 11, sanm_shfit: 0, selfattention_layer_type: sanm}
decoder: ParaformerSANMDecoder
decoder_conf: {attention_heads: 2, linear_units: 32, num_blocks: 2, dropout_rate: 0.1, positional_dropout_rate: 0.1,
  self_attention_dropout_rate: 0.1, src_attention_dropout_rate: 0.1, att_layer_num: 2, kernel_size: 11, sanm_shfit: 0}
seaco_decoder: ParaformerSANMDecoder
seaco_decoder_conf: {attention_heads: 2, linear_units: 32, num_blocks: 1, dropout_rate: 0.1,
  positional_dropout_rate: 0.1, self_attention_dropout_rate: 0.1, src_attention_dropout_rate: 0.1, kernel_size: 21,
  sanm_shfit: 0, use_output_layer: false, wo_input_layer: true}
predictor: CifPredictorV3
predictor_conf: {idim: 16, threshold: 1.0, l_order: 1, r_order: 1, tail_threshold: 0.45, smooth_factor2: 0.25,
  noise_threshold2: 0.01, upsample_times: 3, use_cif1_cnn: false, upsample_type: cnn_blstm}
frontend: WavFrontend
frontend_conf: {fs: 16000, window: hamming, n_mels: 80, frame_length: 25, frame_shift: 10, lfr_m: 7, lfr_n: 6,
  dither: 0.0}
specaug: SpecAugLFR
specaug_conf: {apply_time_warp: false, time_warp_window: 5, time_warp_mode: bicubic, apply_freq_mask: true,
  freq_mask_width_range: [0, 30], lfr_rate: 6, num_freq_mask: 1, apply_time_mask: true,
  time_mask_width_range: [0, 12], num_time_mask: 1}
tokenizer: CharTokenizer
tokenizer_conf: {unk_symbol: <unk>, split_with_space: true}
normalize: null
"""
TOKENS = ["<blank>", "<s>", "</s>", "你", "好", "世", "界", "中", "國", "<unk>"]


@pytest.fixture(scope="module")
def tiny_paraformer(tmp_path_factory) -> Path:
    funasr = pytest.importorskip("funasr")
    pytest.importorskip("kaldi_native_fbank")  # funasr's fbank backend where torchaudio cannot import
    out = tmp_path_factory.mktemp("paraformer-tiny")
    (out / "config.yaml").write_text(CONFIG)
    (out / "tokens.json").write_text(json.dumps(TOKENS, ensure_ascii=False))
    torch.save({}, out / "model.pt")  # funasr builds the network from config.yaml; its loader takes an empty file
    built = funasr.AutoModel(model=str(out), disable_update=True, disable_pbar=True, log_level="ERROR", device="cpu")
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _, p in built.model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    state = built.model.state_dict()
    state["predictor.cif_output.bias"].fill_(3.0)  # let the CIF predictor fire, so that tokens come out
    state["predictor.cif_output.weight"].mul_(0.05)
    torch.save(state, out / "model.pt")
    assert type(built.model).__name__ == "SeacoParaformer"
    return out


@pytest.fixture
def no_network(monkeypatch):
    def refused(*args, **kwargs):
        raise OSError("network access refused in this test")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.setattr(socket, "getaddrinfo", refused)


def test_seedtts_zh_transcribes_offline_and_scores_characters(tiny_paraformer, no_network, tmp_path):
    sr = 16_000
    t = np.arange(int(1.5 * sr)) / sr
    wav = (0.3 * np.sin(2 * np.pi * 190 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
           + 0.02 * np.random.default_rng(1).standard_normal(t.size)).astype(np.float32)
    path = tmp_path / "a.wav"
    sf.write(str(path), wav, sr)
    with pytest.raises(Exception, match="expects SeACo-Paraformer"):  # the signature check comes first
        METRICS.get("seedtts-zh")({"model": str(tiny_paraformer)}).setup(LoadContext(work_dir=tmp_path))
    metric = METRICS.get("seedtts-zh")({"model": str(tiny_paraformer), "allow_other_model": True})
    metric.setup(LoadContext(work_dir=tmp_path / "work"))
    item = ScoreItem(utt_id="u", wav=wav, sample_rate=sr, wav_path=path, target_text="你好，世界。")
    row = metric.score_batch([item])[0]
    assert row["ref_norm"] == "你 好 世 界" and row["N"] == 4
    assert row["hyp_raw"] and set(row["hyp_raw"].replace(" ", "")) <= set(TOKENS)
    assert "國" not in row["hyp_norm"]  # zhconv: traditional characters are simplified on the ASR side
    assert row["hits"] + row["S"] + row["D"] == 4 and row["utt_wer"] == (row["S"] + row["D"] + row["I"]) / 4
    fp = metric.fingerprint()
    assert fp["asr"]["resolved"]["fbank"] in ("kaldi-native-fbank", "torchaudio.compliance.kaldi")
    assert fp["model_check"]["verdict"] == "other model" and fp["comparable"] is False
    assert metric.score_batch([item])[0] == row  # served from the transcript cache the second time
