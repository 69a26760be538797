"""`espeak-ng`: the eSpeak NG formant synthesizer as a fixed-voice, offline CPU baseline.

The library and its voice data come from the `espeakng-loader` wheel (a core dependency), called
through ctypes: no Debian package, no subprocess, no download.

Why each utterance runs in a fresh library instance: eSpeak NG keeps synthesis state (wave phase,
pitch flutter, echo buffer, its noise generator) in static variables that `espeak_Initialize` does
not reset, so one text synthesized twice in one instance differs by a few samples. We copy the
library once to a private path, and per utterance dlopen it, initialise, synthesize, terminate
and dlclose it, which unloads it (no other code knows the private path, so nothing else holds it
open). That costs about 10 ms per utterance and makes the audio a function of (text, voice,
options, seed) alone. The seed drives eSpeak's breath-noise generator (`espeak_ng_SetRandSeed`)
and libc's `rand()` (used by the speechPlayer voices).
"""

from __future__ import annotations

import _ctypes
import ctypes
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from ttsbench.errors import InputError, MissingDependencyError, SynthesisError
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem, item_rng
from ttsbench.types import LoadContext, Prompt, SystemSpec

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(  # int callback(short *wav, int numsamples, espeak_EVENT *events)
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# The voice used for a prompt's language when no `voice` option is given.
LANGUAGE_VOICES = {"en": "en-us", "zh": "cmn"}

# libc's rand() is process-wide, and so is the synth callback's buffer: one synthesis at a time.
_LOCK = threading.Lock()


def _library_files() -> tuple[Path, Path]:
    """(shared library, espeak-ng-data dir) shipped by espeakng-loader, or one clear error."""
    try:
        # lazy: loads the espeak-ng library; only a phone front end or eSpeak needs it
        import espeakng_loader
    except ImportError:
        raise MissingDependencyError(
            "espeak-ng needs the espeakng-loader package: pip install espeakng-loader") from None
    lib, data = Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())
    if not lib.is_file() or not (data / "phondata").is_file():
        raise MissingDependencyError(f"espeakng-loader is incomplete: no {lib} or {data / 'phondata'}; "
                                     "reinstall it: pip install --force-reinstall espeakng-loader")
    return lib, data


def _unload(handle: int) -> None:
    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary")
    close(handle)


def _seed_libc(seed: int) -> None:
    try:
        ctypes.CDLL(None).srand(ctypes.c_uint(seed))
    except (OSError, AttributeError, TypeError):  # no C runtime reachable this way (Windows)
        pass


class _FreshEngine:
    """One eSpeak NG instance for one utterance: dlopen, initialise, synthesize, unload."""

    def __init__(self, lib_path: Path, data_dir: Path) -> None:
        self.lib_path, self.data_dir = lib_path, data_dir

    def run(self, text: str, voice: str, rate: int, pitch: int, seed: int) -> tuple[np.ndarray, int]:
        """Int16 samples and the sample rate; raises InputError for an unknown voice."""
        lib = ctypes.CDLL(str(self.lib_path))
        try:
            return self._synthesize(lib, text, voice, rate, pitch, seed)
        finally:
            _unload(lib._handle)

    def version(self) -> str:
        """The library's own version string (espeak_Info)."""
        lib = ctypes.CDLL(str(self.lib_path))
        try:
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_Info.argtypes = [ctypes.c_void_p]
            return (lib.espeak_Info(None) or b"?").decode()
        finally:
            _unload(lib._handle)

    def _synthesize(self, lib: ctypes.CDLL, text: str, voice: str, rate: int, pitch: int,
                    seed: int) -> tuple[np.ndarray, int]:
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_dir).encode(),
                                            _INITIALIZE_DONT_EXIT)
        if sample_rate <= 0:
            raise MissingDependencyError(f"espeak-ng failed to initialise with data {self.data_dir}; "
                                         "reinstall espeakng-loader")
        chunks: list[np.ndarray] = []

        @_SYNTH_CALLBACK
        def collect(wav: Any, n: int, _events: Any) -> int:
            if wav and n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0  # 0 = go on

        try:
            lib.espeak_SetSynthCallback(collect)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InputError(f"espeak-ng has no voice {voice!r} (e.g. en-us, en, en-gb-x-rp, en-us+f3, cmn)")
            lib.espeak_SetParameter(_RATE, rate, 0)
            lib.espeak_SetParameter(_PITCH, pitch, 0)
            lib.espeak_ng_SetRandSeed(seed)
            _seed_libc(seed)
            data = text.encode("utf-8")
            status = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise SynthesisError(f"espeak-ng: espeak_Synth returned error {status}")
            lib.espeak_Synchronize()
        finally:
            lib.espeak_Terminate()
        wav = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return wav, int(sample_rate)


@SYSTEMS.register("espeak-ng")
class EspeakNG(TTSSystem):
    """eSpeak NG formant synthesis (espeakng-loader's library, 22.05 kHz); fixed voices, not zero-shot."""

    capabilities = Capabilities(zero_shot=False, needs_prompt_text=False)
    sample_rate = 22_050

    @dataclass(frozen=True)
    class Options:
        voice: str = option("", "an eSpeak NG voice, e.g. en-us, en-gb-x-rp, en-us+f3, cmn "
                                "(default: by prompt language, en -> en-us)")
        rate: int = option(175, "speaking rate in words per minute", min=80, max=450)
        pitch: int = option(50, "base pitch", min=0, max=99)

    def __init__(self, engine: _FreshEngine, *, voice: str, rate: int, pitch: int, sample_rate: int,
                 version: str) -> None:
        self.engine, self.voice, self.rate, self.pitch = engine, voice, rate, pitch
        self.sample_rate, self.version = sample_rate, version

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> EspeakNG:
        """Options (`Options`): `voice` (default: by prompt language, en -> en-us), `rate`
        (words/min, 80-450, default 175), `pitch` (0-99, default 50)."""
        o = cls.parse_options(spec)
        voice, rate, pitch = o.voice, o.rate, o.pitch
        lib, data = _library_files()
        private = Path(tempfile.mkdtemp(prefix="ttsbench-espeak-"))
        shutil.copy2(lib, private / f"ttsbench-{lib.name}")
        engine = _FreshEngine(private / f"ttsbench-{lib.name}", data)
        with _LOCK:  # probe: the data loads and the voice exists, before any prompt is tried
            _, sample_rate = engine.run("a", voice or LANGUAGE_VOICES["en"], rate, pitch, 0)
            version = engine.version()
        system = cls(engine, voice=voice, rate=rate, pitch=pitch, sample_rate=sample_rate, version=version)
        weakref.finalize(system, shutil.rmtree, private, True)
        return system

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        out = []
        for prompt in batch:
            voice = self.voice or LANGUAGE_VOICES.get(prompt.lang, prompt.lang)
            item_seed = int(item_rng(seed, prompt.utt_id).integers(0, 2**31 - 1))
            out.append(self.speak(prompt.target_text, voice=voice, seed=item_seed))
        return out

    def speak(self, text: str, *, voice: str | None = None, rate: int | None = None, pitch: int | None = None,
              seed: int = 0) -> np.ndarray:
        """float32 samples at `sample_rate` of `text` in `voice` (e.g. "en-us+f3"), at this system's
        rate and pitch unless given; a function of its arguments alone."""
        with _LOCK:
            wav, _ = self.engine.run(text, voice or self.voice or LANGUAGE_VOICES["en"],
                                     self.rate if rate is None else rate, self.pitch if pitch is None else pitch, seed)
        return wav.astype(np.float32) / 32768.0

    def describe(self) -> dict[str, Any]:
        return {"engine": f"eSpeak NG {self.version}", "espeakng_loader": _package_version("espeakng-loader"),
                "voice": self.voice or f"by prompt language {LANGUAGE_VOICES}",
                "rate_wpm": self.rate, "pitch": self.pitch}



def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
