"""The worker baselines: each upstream runs in the user's own environment (see worker_client.py).

Their upstreams pin a torch or stack that conflicts with this project's (CosyVoice torch 2.3.1,
Spark-TTS 2.5.1, Chatterbox 2.6.0, IndexTTS 2.8), or cannot import next to the CPU torch here
(coqui-tts and every other one needs torchaudio). docs/baselines.md gives each environment's
install commands; defaults are the settings behind the published numbers (`protocol`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities
from ttsbench.systems.baselines.common import HubFiles
from ttsbench.systems.baselines.worker_client import WorkerSystem

VOCOS = HubFiles("charactr/vocos-mel-24khz", ("config.yaml", "pytorch_model.bin"), subdir="vocos-mel-24khz")
W2V_BERT = ("config.json", "model.safetensors", "preprocessor_config.json")
NO_PROMPT_TEXT = Capabilities(zero_shot=True, needs_prompt_text=False, max_batch=8)


@SYSTEMS.register("cosyvoice2-0.5b")
class CosyVoice2(WorkerSystem):
    """CosyVoice 2 0.5B (FunAudioLLM, Apache-2.0), worker: inference_zero_shot, non-streaming; 24 kHz."""

    upstream = "GitHub FunAudioLLM/CosyVoice @ ace7c47f41bb (PyPI `cosyvoice` is an unrelated wrapper)"
    licence = "Apache-2.0 (code and CosyVoice2-0.5B weights)"
    engine = "cosyvoice2"
    repo_paths = ("", "third_party/Matcha-TTS")
    sample_rate = 24_000
    weights = (HubFiles("FunAudioLLM/CosyVoice2-0.5B", ("cosyvoice2.yaml", "llm.pt", "flow.pt", "hift.pt",
                                                        "campplus.onnx", "speech_tokenizer_v2.onnx",
                                                        "CosyVoice-BlankEN/"), whole=True),)
    protocol = {"call": "inference_zero_shot(text, prompt_text, prompt_wav, stream=False)",
                "text_frontend": True, "speed": 1.0}


@SYSTEMS.register("maskgct")
class MaskGCT(WorkerSystem):
    """MaskGCT (Amphion, weights CC-BY-NC-4.0), worker: T2S NFE 50 + S2A 25,10,1x10 steps, CFG 2.5; 24 kHz."""

    upstream = "GitHub open-mmlab/Amphion, models/tts/maskgct (indexed at 4659a47b6af4)"
    licence = "code MIT; amphion/MaskGCT weights CC-BY-NC-4.0 (non-commercial)"
    engine = "maskgct"
    sample_rate = 24_000
    weights = (HubFiles("amphion/MaskGCT", ("semantic_codec/model.safetensors", "acoustic_codec/model.safetensors",
                                            "acoustic_codec/model_1.safetensors", "t2s_model/model.safetensors",
                                            "s2a_model/s2a_model_1layer/model.safetensors",
                                            "s2a_model/s2a_model_full/model.safetensors")),
               HubFiles("facebook/w2v-bert-2.0", W2V_BERT, subdir="w2v-bert-2.0"))
    protocol = {"t2s_steps": 50, "s2a_steps": [25, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "cfg": 2.5,
                "rescale_cfg": 0.75, "target_len": "upstream rule (prompt rate x target text)",
                "note": "DiTAR Table 1 quotes MaskGCT at NFE=50; the upstream's default T2S steps are 25"}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        nfe: int = option(50, "T2S mask-predict steps (published: 50; upstream default 25)", min=1)
        cfg: float = option(2.5, "T2S classifier-free guidance", min=0)
        s2a_steps: str = option("25,10,1,1,1,1,1,1,1,1,1,1", "S2A steps per codec layer, comma-separated")


@SYSTEMS.register("xtts-v2")
class XTTSv2(WorkerSystem):
    """XTTS-v2 (coqui-tts, weights under the Coqui Public Model Licence, non-commercial), worker; 24 kHz."""

    capabilities = NO_PROMPT_TEXT
    upstream = "PyPI coqui-tts==0.28.0 (the maintained idiap fork of Coqui TTS)"
    licence = "code MPL-2.0; coqui/XTTS-v2 weights CPML (Coqui Public Model Licence, non-commercial)"
    engine = "xtts"
    sample_rate = 24_000
    weights = (HubFiles("coqui/XTTS-v2", ("config.json", "model.pth", "vocab.json")),)
    protocol = {"prompt_text": "not used", "temperature": 0.75, "language": "the prompt's lang (zh -> zh-cn)"}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        temperature: float = option(0.75, "GPT sampling temperature (upstream inference() default)", above=0)


class _ZipVoiceBase(WorkerSystem):
    upstream = "GitHub k2-fsa/ZipVoice @ 2f7326fbfe99 (PyPI `zipvoice` is empty)"
    licence = "Apache-2.0 (code and weights)"
    engine = "zipvoice"
    sample_rate = 24_000
    variant = "zipvoice"

    @classmethod
    def engine_options(cls, options):
        return {**super().engine_options(options), "variant": cls.variant}


@SYSTEMS.register("zipvoice")
class ZipVoice(_ZipVoiceBase):
    """ZipVoice (k2-fsa, Apache-2.0), worker: flow matching, 16 steps, guidance 1.0, t_shift 0.5; 24 kHz."""

    weights = (HubFiles("k2-fsa/ZipVoice", ("zipvoice/model.pt", "zipvoice/model.json", "zipvoice/tokens.txt")),
               VOCOS)
    protocol = {"path": "infer_zipvoice.generate_sentence_raw_evaluation", "num_step": 16,
                "guidance_scale": 1.0, "t_shift": 0.5, "target_rms": 0.1, "feat_scale": 0.1, "speed": 1.0}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        nfe: int = option(16, "flow-matching steps (published: 16)", min=1)
        cfg: float = option(1.0, "classifier-free guidance scale", min=0)


@SYSTEMS.register("zipvoice-distill")
class ZipVoiceDistill(_ZipVoiceBase):
    """ZipVoice-Distill (k2-fsa, Apache-2.0), worker: 8 steps, guidance 3.0, t_shift 0.5; 24 kHz."""

    variant = "zipvoice_distill"
    weights = (HubFiles("k2-fsa/ZipVoice", ("zipvoice_distill/model.pt", "zipvoice_distill/model.json",
                                            "zipvoice_distill/tokens.txt")), VOCOS)
    protocol = {**ZipVoice.protocol, "num_step": 8, "guidance_scale": 3.0}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        nfe: int = option(8, "flow-matching steps (published: 8)", min=1)
        cfg: float = option(3.0, "classifier-free guidance scale", min=0)

    @classmethod
    def env_names(cls, name):
        return [*super().env_names(name), "TTSBENCH_ZIPVOICE_PYTHON"]


@SYSTEMS.register("spark-tts-0.5b")
class SparkTTS(WorkerSystem):
    """Spark-TTS 0.5B (SparkAudio, weights CC-BY-NC-SA-4.0), worker: BiCodec LLM, T 0.8, top-k 50; 16 kHz."""

    upstream = "GitHub SparkAudio/Spark-TTS @ 2f1ea9082400"
    licence = "code Apache-2.0; SparkAudio/Spark-TTS-0.5B weights CC-BY-NC-SA-4.0"
    engine = "spark"
    sample_rate = 16_000
    weights = (HubFiles("SparkAudio/Spark-TTS-0.5B", ("config.yaml", "LLM/", "BiCodec/", "wav2vec2-large-xlsr-53/"),
                        whole=True),)
    protocol = {"call": "SparkTTS.inference(text, prompt_speech_path, prompt_text)", "temperature": 0.8,
                "top_k": 50, "top_p": 0.95}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        temperature: float = option(0.8, "LLM sampling temperature", above=0)
        top_k: int = option(50, "LLM top-k", min=1)
        top_p: float = option(0.95, "LLM nucleus mass", above=0, max=1)


@SYSTEMS.register("indextts2")
class IndexTTS2(WorkerSystem):
    """IndexTTS-2 (bilibili, bilibili IndexTTS licence), worker: helper models from local copies; 22.05 kHz."""

    capabilities = NO_PROMPT_TEXT
    upstream = "GitHub index-tts/index-tts @ ee40fa7d6c6b (IndexTTS2 with aux_paths)"
    licence = "bilibili IndexTTS licence (see the repository's LICENSE)"
    engine = "indextts2"
    sample_rate = 22_050
    weights = (HubFiles("IndexTeam/IndexTTS-2", ("config.yaml", "gpt.pth", "s2mel.pth", "bpe.model",
                                                 "wav2vec2bert_stats.pt", "feat1.pt", "feat2.pt")),
               HubFiles("facebook/w2v-bert-2.0", W2V_BERT, subdir="w2v-bert-2.0"),
               HubFiles("amphion/MaskGCT", ("semantic_codec/model.safetensors",), subdir="MaskGCT"),
               HubFiles("funasr/campplus", ("campplus_cn_common.bin",), subdir="campplus"),
               HubFiles("nvidia/bigvgan_v2_22khz_80band_256x", ("config.json", "bigvgan_generator.pt"),
                        subdir="bigvgan"))
    protocol = {"call": "IndexTTS2.infer(spk_audio_prompt, text, output_path=None)", "emotion": "from the prompt",
                "generation": "upstream defaults (top_p 0.8, top_k 30, T 0.8, 3 beams, 25 diffusion steps)"}


@SYSTEMS.register("chatterbox")
class Chatterbox(WorkerSystem):
    """Chatterbox (Resemble AI, MIT); ALWAYS watermarks its output (Perth), worker; 24 kHz."""

    capabilities = NO_PROMPT_TEXT
    upstream = "PyPI chatterbox-tts==0.1.7"
    licence = "MIT; every output carries Resemble's Perth implicit watermark"
    engine = "chatterbox"
    sample_rate = 24_000
    weights = (HubFiles("ResembleAI/chatterbox", ("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors",
                                                  "tokenizer.json", "conds.pt")),)
    protocol = {"call": "ChatterboxTTS.generate(text, audio_prompt_path)", "exaggeration": 0.5,
                "cfg_weight": 0.5, "temperature": 0.8, "watermark": "always (upstream)"}

    @dataclass(frozen=True)
    class Options(WorkerSystem.Options):
        exaggeration: float = option(0.5, "emotion exaggeration", min=0)
        cfg_weight: float = option(0.5, "classifier-free guidance weight", min=0)
        temperature: float = option(0.8, "T3 sampling temperature", above=0)
