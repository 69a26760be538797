"""Prompt sets: definitions shipped as TOML in `datasets/`, readers for the formats people have.

Readers:
  seedtts   Seed-TTS eval `meta.lst`: `utt|prompt_text|prompt_wav|infer_text[|gt_wav]`, paths relative to the list.
  f5-lspc   F5-TTS LibriSpeech-PC cross-sentence list: 6 tab-separated fields
            `ref_utt ref_dur ref_text gen_utt gen_dur gen_text`; audio `<root>/<spk>/<chapter>/<utt>.flac`.
  jsonl     one object per line: utt_id, prompt_wav, prompt_text, target_text[, lang, reference_wav].
  csv       the same columns as jsonl, with a header row.

Every prompt set carries a checksum (sha256 over its canonical prompt list) recorded in each run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError, TTSBenchError
from ttsbench.types import Prompt

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
import importlib.util

import soundfile as sf

from ttsbench.plugins import PROMPT_SETS

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
FORMATS = ("seedtts", "f5-lspc", "jsonl", "csv")


@dataclass(frozen=True)
class PromptSetDef:
    """A prompt-set definition (one TOML file in `datasets/`)."""

    __test__ = False  # not a pytest class

    name: str
    format: str
    list: str
    description: str = ""
    language: str = "en"
    audio_root: str = ""
    audio_root_env: str = ""
    where_to_get: str = ""
    default_metrics: tuple[str, ...] = ()
    default_systems: tuple[str, ...] = ()
    comparable_to: str = ""
    base_dir: Path = field(default=Path("."), compare=False)

    def list_path(self, audio_root: Path | None) -> Path:
        """The list file: shipped in datasets/ or, when `list` starts with '{root}/', under the audio root."""
        if self.list.startswith("{root}/"):
            if audio_root is None:
                raise TTSBenchError(self.missing_root_message())
            return audio_root / self.list.removeprefix("{root}/")
        return self.base_dir / self.list

    def missing_root_message(self) -> str:
        env = f" or set ${self.audio_root_env}" if self.audio_root_env else ""
        return (f"prompt set {self.name!r} needs its audio, which ttsbench does not ship: pass "
                f"--audio-root DIR{env} ({self.where_to_get})")


@dataclass(frozen=True)
class PromptSet:
    """A loaded prompt set: its definition, prompts and checksum."""

    definition: PromptSetDef
    prompts: tuple[Prompt, ...]
    checksum: str

    @property
    def name(self) -> str:
        return self.definition.name


def data_dir() -> Path:
    """The shipped `datasets/` folder (ttsbench._data in a wheel, the repo folder when editable)."""
    spec = importlib.util.find_spec("ttsbench._data")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "datasets"  # pragma: no cover


def read_definition(path: Path) -> PromptSetDef:
    """Parse one definition TOML; unknown keys are an error naming the valid ones."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise TTSBenchError(f"cannot read prompt-set definition {path}: {err}") from None
    valid = {f for f in PromptSetDef.__dataclass_fields__ if f != "base_dir"}
    unknown = set(raw) - valid
    if unknown:
        raise TTSBenchError(f"{path}: unknown keys {sorted(unknown)}; valid keys: {sorted(valid)}")
    for key in ("default_metrics", "default_systems"):
        raw[key] = tuple(raw.get(key, ()))
    if raw.get("format") not in FORMATS:
        raise TTSBenchError(f"{path}: format must be one of {FORMATS}, got {raw.get('format')!r}")
    return PromptSetDef(**raw, base_dir=path.parent)


def register_builtin_prompt_sets(registry: Any) -> None:
    """Register every `datasets/*.toml` definition (called by the PROMPT_SETS registry on first use)."""
    for path in sorted(data_dir().glob("*.toml")):
        definition = read_definition(path)
        registry.add(definition.name, definition, origin=str(path))


def resolve_definition(name_or_path: str, fmt: str | None = None) -> PromptSetDef:
    """A registered set by name, or a custom manifest file (format from `fmt` or the extension)."""
    path = Path(name_or_path)
    if path.suffix in (".toml",) and path.is_file():
        return read_definition(path)
    if path.suffix in (".jsonl", ".csv", ".lst", ".tsv") or fmt:
        if not path.is_file():
            raise InputError(f"prompt list not found: {path}")
        fmt = fmt or {".jsonl": "jsonl", ".csv": "csv", ".lst": "seedtts", ".tsv": "f5-lspc"}[path.suffix]
        return PromptSetDef(name=path.stem, format=fmt, list=path.name, base_dir=path.parent.resolve(),
                          description=f"custom manifest {path}")

    return PROMPT_SETS.get(name_or_path)


def load_prompt_set(name_or_path: str, *, audio_root: str | Path | None = None, fmt: str | None = None,
                 check_audio: bool = True) -> PromptSet:
    """Load and validate a prompt set. Bad input raises InputError naming the file and line."""
    definition = resolve_definition(name_or_path, fmt)
    root = _audio_root(definition, audio_root)
    list_path = definition.list_path(root)
    if not list_path.is_file():
        raise InputError(f"prompt list of {definition.name!r} not found: {list_path}")
    reader = {"seedtts": _read_seedtts, "f5-lspc": _read_f5, "jsonl": _read_jsonl, "csv": _read_csv}
    prompts = reader[definition.format](list_path, root or list_path.parent, definition.language)
    _validate(prompts, list_path, check_audio)
    return PromptSet(definition, tuple(prompts), _checksum(prompts, root or list_path.parent))


def _audio_root(definition: PromptSetDef, given: str | Path | None) -> Path | None:
    if given is not None:
        root = Path(given).expanduser()
    elif definition.audio_root_env and os.environ.get(definition.audio_root_env):
        root = Path(os.environ[definition.audio_root_env]).expanduser()
    elif definition.audio_root:
        root = definition.base_dir / definition.audio_root
    elif definition.audio_root_env:
        raise TTSBenchError(definition.missing_root_message())
    else:
        return None
    if not root.is_dir():
        raise InputError(f"audio root of {definition.name!r} is not a directory: {root}")
    return root


def _read_seedtts(path: Path, root: Path, lang: str) -> list[Prompt]:
    prompts = []
    for lineno, line in _lines(path):
        fields = line.split("|")
        if len(fields) not in (4, 5):
            raise InputError(f"{path}:{lineno}: expected 4 or 5 '|'-separated fields "
                             f"(utt|prompt_text|prompt_wav|infer_text[|gt_wav]), got {len(fields)}")
        utt, prompt_text, prompt_wav, target = fields[:4]
        ref = root / fields[4] if len(fields) == 5 and fields[4] else None
        prompts.append(Prompt(utt, root / prompt_wav, prompt_text, target, lang, ref))
    return prompts


def _read_f5(path: Path, root: Path, lang: str) -> list[Prompt]:
    def flac(utt: str) -> Path:
        spk, chapter, _ = utt.split("-")
        return root / spk / chapter / f"{utt}.flac"

    prompts = []
    for lineno, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 6 or fields[0].count("-") != 2 or fields[3].count("-") != 2:
            raise InputError(f"{path}:{lineno}: expected 6 tab-separated fields "
                             "(ref_utt ref_dur ref_text gen_utt gen_dur gen_text)")
        ref_utt, _, ref_text, gen_utt, _, gen_text = fields
        prompts.append(Prompt(gen_utt, flac(ref_utt), ref_text, gen_text, lang, flac(gen_utt)))
    return prompts


def _from_record(rec: dict[str, Any], root: Path, lang: str, where: str) -> Prompt:
    missing = [k for k in ("utt_id", "prompt_wav", "target_text") if not rec.get(k)]
    if missing:
        raise InputError(f"{where}: missing field(s) {missing}")
    ref = rec.get("reference_wav")
    return Prompt(str(rec["utt_id"]), root / rec["prompt_wav"], str(rec.get("prompt_text") or ""),
                  str(rec["target_text"]), str(rec.get("lang") or lang), root / ref if ref else None)


def _read_jsonl(path: Path, root: Path, lang: str) -> list[Prompt]:
    prompts = []
    for lineno, line in _lines(path):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{lineno}: not JSON ({err.msg})") from None
        prompts.append(_from_record(rec, root, lang, f"{path}:{lineno}"))
    return prompts


def _read_csv(path: Path, root: Path, lang: str) -> list[Prompt]:
    with path.open(newline="", encoding="utf-8") as f:
        return [_from_record(rec, root, lang, f"{path}:{i + 2}") for i, rec in enumerate(csv.DictReader(f))]


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return [(i + 1, ln.rstrip("\r")) for i, ln in enumerate(text.split("\n")) if ln.strip()]


def _validate(prompts: list[Prompt], list_path: Path, check_audio: bool) -> None:
    if not prompts:
        raise InputError(f"prompt list is empty: {list_path}")
    seen: set[str] = set()
    for p in prompts:
        if not _SAFE_ID.match(p.utt_id) or ".." in p.utt_id:
            raise InputError(f"{list_path}: utterance id {p.utt_id!r} is not a safe file name "
                             "(letters, digits, '.', '_', '-'; it names <utt_id>.wav in the run directory)")
        if p.utt_id in seen:
            raise InputError(f"{list_path}: utterance id {p.utt_id!r} appears twice")
        seen.add(p.utt_id)
        if not p.target_text.strip():
            raise InputError(f"{list_path}: utterance {p.utt_id!r} has an empty target text")
    if check_audio:

        for p in prompts:
            for path in (p.prompt_wav,):
                if not path.is_file():
                    raise InputError(f"{p.utt_id}: prompt audio not found: {path}")
                try:
                    sf.info(str(path))
                except Exception as err:
                    raise InputError(f"{p.utt_id}: cannot read prompt audio {path}: "
                                     f"{str(err).splitlines()[0]}") from None


def _checksum(prompts: list[Prompt], root: Path) -> str:
    def rel(path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    canon = [[p.utt_id, rel(p.prompt_wav), p.prompt_text, p.target_text, p.lang, rel(p.reference_wav)]
             for p in prompts]
    return "sha256:" + hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()
