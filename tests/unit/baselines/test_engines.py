"""Each worker engine against a fake upstream module with the upstream's signature (read from the
pinned source, docs/baselines.md): the engine must build the model from the weights directory the
way the upstream documents, call its zero-shot entry point with our item, and return float32 mono.
The fakes record their calls; keyword-only mistakes fail as they would on the real upstream."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

ITEM = {"utt_id": "u1", "prompt_wav": "/data/p.wav", "prompt_text": "prompt words", "target_text": "say this",
        "lang": "en", "seed": 5}
CALLS: list[tuple[str, tuple, dict]] = []


def fake_modules(monkeypatch, **modules: dict) -> None:
    """Install fake modules (and their parent packages) named like the upstream's."""
    for name, attrs in modules.items():
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in sys.modules or not getattr(sys.modules[parent], "_fake", False):
                pkg = types.ModuleType(parent)
                pkg._fake, pkg.__path__ = True, []
                monkeypatch.setitem(sys.modules, parent, pkg)
        mod = types.ModuleType(name)
        mod._fake = True
        for key, value in attrs.items():
            setattr(mod, key, value)
        monkeypatch.setitem(sys.modules, name, mod)
        setattr(sys.modules[".".join(parts[:-1])], parts[-1], mod) if len(parts) > 1 else None


def engine(name: str):
    CALLS.clear()
    return importlib.import_module(f"ttsbench.systems.baselines.engines.{name}").Engine


def test_cosyvoice2(monkeypatch, tmp_path):
    class CosyVoice2:
        def __init__(self, model_dir, load_jit=False, load_trt=False, load_vllm=False, fp16=False, trt_concurrent=1):
            CALLS.append(("init", (model_dir,), {"load_jit": load_jit, "load_trt": load_trt, "fp16": fp16}))
            self.sample_rate = 24000

        def inference_zero_shot(self, tts_text, prompt_text, prompt_wav, zero_shot_spk_id="", stream=False,
                                speed=1.0, text_frontend=True):
            CALLS.append(("zero_shot", (tts_text, prompt_text, prompt_wav), {"stream": stream}))
            yield {"tts_speech": torch.ones(1, 3)}
            yield {"tts_speech": torch.zeros(1, 2)}

    fake_modules(monkeypatch, **{"cosyvoice.cli.cosyvoice": {"CosyVoice2": CosyVoice2}})
    e = engine("cosyvoice2")(str(tmp_path), {}, "cpu")
    out = e.synthesize(ITEM)
    assert e.sample_rate == 24000 and out.dtype == np.float32 and out.tolist() == [1, 1, 1, 0, 0]
    assert CALLS[1] == ("zero_shot", ("say this", "prompt words", "/data/p.wav"), {"stream": False})


def test_xtts(monkeypatch, tmp_path):
    class XttsConfig:
        def __init__(self):
            self.audio = types.SimpleNamespace(output_sample_rate=24000)

        def load_json(self, file_name):
            CALLS.append(("load_json", (file_name,), {}))

    class Xtts:
        @classmethod
        def init_from_config(cls, config, **kwargs):
            return cls()

        def load_checkpoint(self, config, checkpoint_dir=None, checkpoint_path=None, vocab_path=None,
                            eval=True, strict=True, use_deepspeed=False, speaker_file_path=None):
            CALLS.append(("load_checkpoint", (), {"checkpoint_dir": checkpoint_dir, "eval": eval}))

        def to(self, device):
            return self

        def get_conditioning_latents(self, audio_path, max_ref_length=30, gpt_cond_len=6, gpt_cond_chunk_len=6,
                                     librosa_trim_db=None, sound_norm_refs=False, load_sr=22050):
            CALLS.append(("latents", (tuple(audio_path),), {}))
            return "latent", "speaker"

        def inference(self, text, language, gpt_cond_latent, speaker_embedding, temperature=0.75, **kwargs):
            CALLS.append(("inference", (text, language, gpt_cond_latent, speaker_embedding), {"temperature": temperature}))
            return {"wav": [0.5, -0.5]}

    fake_modules(monkeypatch, **{"TTS.tts.configs.xtts_config": {"XttsConfig": XttsConfig},
                                 "TTS.tts.models.xtts": {"Xtts": Xtts}})
    e = engine("xtts")(str(tmp_path), {"temperature": 0.75}, "cpu")
    assert e.synthesize({**ITEM, "lang": "zh"}).tolist() == [0.5, -0.5]
    assert CALLS[0] == ("load_json", (str(tmp_path / "config.json"),), {})
    assert CALLS[1][2] == {"checkpoint_dir": str(tmp_path), "eval": True}
    assert CALLS[-1] == ("inference", ("say this", "zh-cn", "latent", "speaker"), {"temperature": 0.75})


def test_chatterbox(monkeypatch, tmp_path):
    class ChatterboxTTS:
        sr = 24000

        @classmethod
        def from_local(cls, ckpt_dir, device):
            CALLS.append(("from_local", (ckpt_dir, device), {}))
            return cls()

        def generate(self, text, repetition_penalty=1.2, min_p=0.05, top_p=1.0, audio_prompt_path=None,
                     exaggeration=0.5, cfg_weight=0.5, temperature=0.8):
            CALLS.append(("generate", (text,), {"audio_prompt_path": audio_prompt_path, "cfg_weight": cfg_weight}))
            return torch.full((1, 4), 0.25)

    fake_modules(monkeypatch, **{"chatterbox.tts": {"ChatterboxTTS": ChatterboxTTS}})
    e = engine("chatterbox")(str(tmp_path), {"exaggeration": 0.5, "cfg_weight": 0.5, "temperature": 0.8}, "cpu")
    assert e.synthesize(ITEM).tolist() == [0.25] * 4 and e.info()["watermarked"] is True
    assert CALLS[-1] == ("generate", ("say this",), {"audio_prompt_path": "/data/p.wav", "cfg_weight": 0.5})


def test_spark(monkeypatch, tmp_path):
    class SparkTTS:
        def __init__(self, model_dir: Path, device: torch.device = torch.device("cuda:0")):
            CALLS.append(("init", (model_dir, device), {}))
            self.sample_rate = 16000

        def inference(self, text, prompt_speech_path=None, prompt_text=None, gender=None, pitch=None, speed=None,
                      temperature=0.8, top_k=50, top_p=0.95):
            CALLS.append(("inference", (text,), {"prompt_speech_path": prompt_speech_path, "prompt_text": prompt_text,
                                                 "top_k": top_k}))
            return np.ones(6, dtype=np.float64)

    fake_modules(monkeypatch, **{"cli.SparkTTS": {"SparkTTS": SparkTTS}})
    e = engine("spark")(str(tmp_path), {"temperature": 0.8, "top_k": 50, "top_p": 0.95}, "cpu")
    out = e.synthesize(ITEM)
    assert e.sample_rate == 16000 and out.dtype == np.float32 and out.size == 6
    assert CALLS[0] == ("init", (tmp_path, torch.device("cpu")), {})
    assert CALLS[1][2] == {"prompt_speech_path": Path("/data/p.wav"), "prompt_text": "prompt words", "top_k": 50}


def test_indextts2_points_helper_models_at_local_copies(monkeypatch, tmp_path):
    class IndexTTS2:
        def __init__(self, cfg_path="checkpoints/config.yaml", model_dir="checkpoints", use_fp16=False, device=None,
                     use_cuda_kernel=None, use_deepspeed=False, use_accel=False, use_torch_compile=False,
                     use_qwen_emo=True, aux_paths=None):
            CALLS.append(("init", (cfg_path, model_dir), {"aux_paths": aux_paths, "device": device}))

        def infer(self, spk_audio_prompt, text, output_path, emo_audio_prompt=None, emo_alpha=1.0, **kwargs):
            CALLS.append(("infer", (spk_audio_prompt, text, output_path), {}))
            return 22050, np.array([[16384], [-16384]], dtype=np.int16)

    fake_modules(monkeypatch, **{"indextts.infer_v2": {"IndexTTS2": IndexTTS2}})
    e = engine("indextts2")(str(tmp_path), {}, "cpu")
    assert e.synthesize(ITEM).tolist() == [0.5, -0.5] and e.sample_rate == 22050
    aux = CALLS[0][2]["aux_paths"]
    assert set(aux) == {"w2v_bert", "semantic_codec", "campplus", "bigvgan"}
    assert all(p.startswith(str(tmp_path)) for p in aux.values())
    assert CALLS[1] == ("infer", ("/data/p.wav", "say this", None), {})


def test_zipvoice_distill_uses_its_folder_and_published_steps(monkeypatch, tmp_path):
    (tmp_path / "zipvoice_distill").mkdir()
    (tmp_path / "zipvoice_distill" / "model.json").write_text(
        '{"model": {"fm_decoder_dim": 8}, "feature": {"type": "vocos", "sampling_rate": 24000}}')

    class Model(torch.nn.Module):
        def __init__(self, **kwargs):
            super().__init__()
            CALLS.append(("model", (type(self).__name__,), kwargs))

    class ZipVoice(Model):
        pass

    class ZipVoiceDistill(Model):
        pass

    class EmiliaTokenizer:
        def __init__(self, token_file=None, token_type="phone"):
            self.vocab_size, self.pad_id = 7, 0

    def load_checkpoint(filename, model=None, model_avg=None, model_ema=None, strict=False):
        CALLS.append(("load_checkpoint", (filename,), {"strict": strict}))

    def get_vocoder(vocos_local_path=None):
        CALLS.append(("vocoder", (vocos_local_path,), {}))
        return torch.nn.Identity()

    def generate_sentence_raw_evaluation(save_path, prompt_text, prompt_wav, text, model, vocoder, tokenizer,
                                         feature_extractor, device, num_step=16, guidance_scale=1.0, speed=1.0,
                                         t_shift=0.5, target_rms=0.1, feat_scale=0.1, sampling_rate=24000):
        CALLS.append(("generate", (prompt_text, prompt_wav, text), {"num_step": num_step,
                                                                    "guidance_scale": guidance_scale}))
        sf.write(save_path, np.full(5, 0.5, dtype=np.float32), sampling_rate, subtype="FLOAT")

    fake_modules(monkeypatch, **{
        "zipvoice.bin.infer_zipvoice": {"get_vocoder": get_vocoder,
                                        "generate_sentence_raw_evaluation": generate_sentence_raw_evaluation},
        "zipvoice.models.zipvoice": {"ZipVoice": ZipVoice},
        "zipvoice.models.zipvoice_distill": {"ZipVoiceDistill": ZipVoiceDistill},
        "zipvoice.tokenizer.tokenizer": {"EmiliaTokenizer": EmiliaTokenizer},
        "zipvoice.utils.checkpoint": {"load_checkpoint": load_checkpoint},
        "zipvoice.utils.feature": {"VocosFbank": lambda: "fbank"}})
    e = engine("zipvoice")(str(tmp_path), {"variant": "zipvoice_distill", "nfe": 8, "cfg": 3.0}, "cpu")
    assert e.synthesize(ITEM).tolist() == [0.5] * 5
    assert CALLS[0] == ("model", ("ZipVoiceDistill",), {"fm_decoder_dim": 8, "vocab_size": 7, "pad_id": 0})
    assert CALLS[1] == ("load_checkpoint", (str(tmp_path / "zipvoice_distill" / "model.pt"),), {"strict": True})
    assert CALLS[2] == ("vocoder", (str(tmp_path / "vocos-mel-24khz"),), {})
    assert CALLS[3] == ("generate", ("prompt words", "/data/p.wav", "say this"), {"num_step": 8, "guidance_scale": 3.0})


def test_maskgct_redirects_the_hard_coded_w2v_bert_id(monkeypatch, tmp_path):
    from safetensors.torch import save_model

    class Wav2Vec2BertModel:
        @classmethod
        def from_pretrained(cls, name, *args, **kwargs):
            CALLS.append(("w2v", (name,), {}))
            return cls()

    class SeamlessM4TFeatureExtractor(Wav2Vec2BertModel):
        pass

    def build(*args):
        return torch.nn.Linear(2, 2, bias=False)

    def build_semantic_model(device):  # the upstream loads the model by its hub id
        return Wav2Vec2BertModel.from_pretrained("facebook/w2v-bert-2.0"), 0.0, 1.0

    class Pipeline:
        def __init__(self, *parts):
            self.parts = parts

        def maskgct_inference(self, prompt_speech_path, prompt_text, target_text, language="en",
                              target_language="en", target_len=None, n_timesteps=25, cfg=2.5, rescale_cfg=0.75,
                              n_timesteps_s2a=(25, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), cfg_s2a=2.5,
                              rescale_cfg_s2a=0.75):
            CALLS.append(("inference", (prompt_speech_path, prompt_text, target_text, language),
                          {"n_timesteps": n_timesteps, "cfg": cfg, "n_timesteps_s2a": list(n_timesteps_s2a)}))
            return np.zeros(7, dtype=np.float32)

    cfg = types.SimpleNamespace(model=types.SimpleNamespace(
        semantic_codec=1, acoustic_codec=2, t2s_model=3, s2a_model=types.SimpleNamespace(s2a_1layer=4, s2a_full=5)))
    fake_modules(monkeypatch, transformers={"Wav2Vec2BertModel": Wav2Vec2BertModel,
                                            "SeamlessM4TFeatureExtractor": SeamlessM4TFeatureExtractor})
    fake_modules(monkeypatch, **{"models.tts.maskgct.maskgct_utils": {
        "load_config": lambda path: cfg, "build_semantic_model": build_semantic_model,
        "build_semantic_codec": build, "build_acoustic_codec": lambda *a: (build(), build()),
        "build_t2s_model": build, "build_s2a_model": build, "MaskGCT_Inference_Pipeline": Pipeline}})
    mod = importlib.import_module("ttsbench.systems.baselines.engines.maskgct")
    for rel in mod.CKPTS.values():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        save_model(build(), str(tmp_path / rel))
    e = engine("maskgct")(str(tmp_path), {"nfe": 50, "cfg": 2.5, "s2a_steps": "25,10,1,1,1,1,1,1,1,1,1,1"}, "cpu")
    assert e.synthesize(ITEM).size == 7
    assert ("w2v", (str(tmp_path / "w2v-bert-2.0"),), {}) in CALLS
    assert CALLS[-1] == ("inference", ("/data/p.wav", "prompt words", "say this", "en"),
                         {"n_timesteps": 50, "cfg": 2.5, "n_timesteps_s2a": [25, 10] + [1] * 10})
