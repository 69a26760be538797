"""Prompt sets: definitions shipped as TOML in `datasets/`, readers for the formats people have.

Readers:
  seedtts   Seed-TTS eval `meta.lst`: `utt|prompt_text|prompt_wav|infer_text[|gt_wav]`, paths relative
            to the list.
  f5-lspc   F5-TTS LibriSpeech-PC cross-sentence list: 6 tab-separated fields
            `ref_utt ref_dur ref_text gen_utt gen_dur gen_text`; audio `<root>/<spk>/<chapter>/<utt>.flac`.
  jsonl     one object per line: utt_id, prompt_wav, prompt_text, target_text[, lang, reference_wav].
  csv       the same columns as jsonl, with a header row.

Loading parses every row (the checksum, sha256 over the canonical prompt list and recorded in each
run, covers the whole set, so `--limit` keeps the run id) but validates only the rows that will run:
their fields, ids and prompt audio (readable, not empty, silent, NaN/inf or longer than the set's
`max_prompt_seconds`). Every problem found is one line `file:line: what`, all raised together in one
`PromptSetProblems`; `ttsbench validate SET` checks every row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import soundfile as sf

from ttsbench.errors import InputError, TTSBenchError
from ttsbench.paths import MAX_LENGTH, is_plain, path_component
from ttsbench.plugins import PROMPT_SETS
from ttsbench.types import Prompt

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FORMATS = ("seedtts", "f5-lspc", "jsonl", "csv")
MANIFEST_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".lst": "seedtts", ".tsv": "f5-lspc"}
DEFAULT_MAX_PROMPT_SECONDS = 60.0  # a zero-shot prompt is 3-20 s; an hour-long file is a wrong path
SILENT_RMS = 1e-4  # the runner's threshold for silent output (audio.check_output)
SHOWN_PROBLEMS = 20  # an error lists this many problems, then a count; `validate` prints them all
_PLAIN_RULE = (f"letters, digits, '.', '_', '+', '-', starting with a letter or digit, at most {MAX_LENGTH} "
               "bytes, no '..'")
_FIELDS = ("utt_id", "prompt_wav", "prompt_text", "target_text", "lang", "reference_wav")
_REQUIRED = ("utt_id", "prompt_wav", "target_text")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of a byte that is not UTF-8
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate (a JSON escape) cannot be written as UTF-8


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
    max_prompt_seconds: float = DEFAULT_MAX_PROMPT_SECONDS  # a longer prompt file is refused when loaded
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
    """A loaded prompt set: its definition, prompts and checksum.

    `key` is what the run id hashes for the set: a registered set's name as given (so existing run
    directories keep their ids), a definition or manifest file's resolved path (so `list.jsonl`,
    `./list.jsonl` and its absolute path are one run); the checksum adds the content.
    """

    definition: PromptSetDef
    prompts: tuple[Prompt, ...]
    checksum: str
    key: str = ""

    @property
    def name(self) -> str:
        return self.definition.name


class PromptSetProblems(InputError):
    """Rows of a prompt set that cannot run: `problems` holds every one (`file:line: what`); the
    message shows the first SHOWN_PROBLEMS and a count of the rest."""

    def __init__(self, name_or_path: str, problems: Sequence[str]) -> None:
        self.name_or_path, self.problems = name_or_path, list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            shown = "\n  ".join(self.problems[:SHOWN_PROBLEMS])
            more = len(self.problems) - SHOWN_PROBLEMS
            rest = (f"\n  ... and {more} more (`ttsbench validate {name_or_path}` lists all)"
                    if more > 0 else "")
            message = f"{len(self.problems)} problems in prompt set {name_or_path}:\n  {shown}{rest}"
        super().__init__(message)


def data_dir() -> Path:
    """The shipped `datasets/` folder (ttsbench._data in a wheel, the repo folder when editable)."""
    spec = importlib.util.find_spec("ttsbench._data")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "datasets"  # pragma: no cover


def read_definition(path: Path) -> PromptSetDef:
    """Parse one definition TOML; unknown or missing keys and wrong types are an error naming them.

    `name` names the set's folder under `--out`: one that is not a plain file name is refused.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TTSBenchError(f"cannot read prompt-set definition {path}: {err}") from None
    valid = {f.name: f for f in fields(PromptSetDef) if f.name != "base_dir"}
    unknown, missing = set(raw) - set(valid), {"name", "format", "list"} - set(raw)
    if unknown or missing:
        wrong = ", ".join(f"{what} keys {sorted(keys)}" for what, keys in (("unknown", unknown), ("missing", missing))
                          if keys)
        raise TTSBenchError(f"{path}: {wrong}; valid keys: {sorted(valid)}")
    for key, value in raw.items():
        kind = valid[key].type  # a string: annotations are postponed
        if kind == "str":
            ok = isinstance(value, str)
        elif kind.startswith("tuple"):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        if not ok:
            want = {"str": "a string", "float": "a number > 0"}.get(kind, "a list of strings")
            raise TTSBenchError(f"{path}: {key} must be {want}, got {value!r}")
        if kind.startswith("tuple"):
            raw[key] = tuple(value)
    if raw["format"] not in FORMATS:
        raise TTSBenchError(f"{path}: format must be one of {FORMATS}, got {raw['format']!r}")
    path_component(raw["name"], f"{path}: prompt-set name")
    return PromptSetDef(**raw, base_dir=path.parent)


def register_builtin_prompt_sets(registry: Any) -> None:
    """Register every `datasets/*.toml` definition (called by the PROMPT_SETS registry on first use)."""
    for path in sorted(data_dir().glob("*.toml")):
        definition = read_definition(path)
        registry.add(definition.name, definition, origin=str(path))


def resolve_definition(name_or_path: str, fmt: str | None = None) -> PromptSetDef:
    """A registered set by name, or a custom manifest file (format from `fmt` or the extension)."""
    return _resolve(name_or_path, fmt)[0]


def _resolve(name_or_path: str, fmt: str | None) -> tuple[PromptSetDef, str]:
    """The definition and the set's key (see `PromptSet.key`)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return read_definition(path), str(path.resolve())
    if path.suffix in MANIFEST_FORMATS or fmt:
        if not path.is_file():
            raise InputError(f"prompt list not found: {path}")
        # the stem is derived, not chosen as a name: encode it rather than refuse a file called "my list.csv"
        name = path_component(path.stem, "manifest name", encode=True)
        definition = PromptSetDef(name=name, format=fmt or MANIFEST_FORMATS[path.suffix], list=path.name,
                                  base_dir=path.parent.resolve(), description=f"custom manifest {path}")
        return definition, str(path.resolve())
    return PROMPT_SETS.get(name_or_path), name_or_path


def load_prompt_set(name_or_path: str, *, audio_root: str | Path | None = None, fmt: str | None = None,
                    check_audio: bool = True, limit: int | None = None) -> PromptSet:
    """Load a prompt set and validate the rows that will run: the first `limit` (all when None).

    Every row is parsed, for the checksum; the rows that will run must have their fields, a unique
    plain utterance id, a target text and (with `check_audio`) usable prompt audio. All problems
    raise together as one PromptSetProblems naming the file and line of each.
    """
    if limit is not None and limit < 0:
        raise InputError(f"limit must be >= 0, got {limit}")
    definition, key = _resolve(name_or_path, fmt)
    root = _audio_root(definition, audio_root)
    list_path = definition.list_path(root)
    if not list_path.is_file():
        raise InputError(f"prompt list of {definition.name!r} not found: {list_path}")
    reader = {"seedtts": _read_seedtts, "f5-lspc": _read_f5, "jsonl": _read_jsonl, "csv": _read_csv}
    rows = reader[definition.format](list_path, root or list_path.parent, definition.language)
    if not rows:
        raise InputError(f"prompt list is empty: {list_path}")
    will_run = rows if limit is None else rows[:limit]
    problems = _row_problems(will_run)
    if check_audio:
        problems += _audio_problems(will_run, definition.max_prompt_seconds)
    if problems:
        problems.sort(key=lambda lp: lp[0])  # in file order, a row's own problems before its audio's
        raise PromptSetProblems(name_or_path, [f"{list_path}:{line}: {what}" for line, what in problems])
    prompts = tuple(row.prompt for row in rows if row.prompt is not None)
    return PromptSet(definition, prompts, _checksum(rows, root or list_path.parent), key)


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


# Readers: one _Row per non-blank line (or CSV record), a prompt or the reason it is not one.


class _Row(NamedTuple):  # a tuple: 100k of them are made in a blink
    line: int
    prompt: Prompt | None = None
    problem: str = ""
    raw: str = ""  # the text of a row that is not a prompt: the checksum still covers it


class _BadRow(Exception):
    """Why one row is not a prompt; collected into the set's problems, never a traceback."""


def _read_lines(path: Path, parse: Callable[[str], Prompt]) -> list[_Row]:
    rows = []
    for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            _check_utf8(line)
            rows.append(_Row(lineno, parse(line)))
        except _BadRow as err:
            rows.append(_Row(lineno, problem=str(err), raw=line))
    return rows


def _read_seedtts(path: Path, root: Path, lang: str) -> list[_Row]:
    def parse(line: str) -> Prompt:
        fields = line.split("|")
        if len(fields) not in (4, 5):
            raise _BadRow(f"expected 4 or 5 '|'-separated fields "
                          f"(utt|prompt_text|prompt_wav|infer_text[|gt_wav]), got {len(fields)}")
        utt, prompt_text, prompt_wav, target = fields[:4]
        ref = root / fields[4] if len(fields) == 5 and fields[4] else None
        return Prompt(utt, root / prompt_wav, prompt_text, target, lang, ref)

    return _read_lines(path, parse)


def _read_f5(path: Path, root: Path, lang: str) -> list[_Row]:
    def flac(utt: str) -> Path:
        spk, chapter, _ = utt.split("-")
        return root / spk / chapter / f"{utt}.flac"

    def parse(line: str) -> Prompt:
        fields = line.split("\t")
        if len(fields) != 6 or fields[0].count("-") != 2 or fields[3].count("-") != 2:
            raise _BadRow("expected 6 tab-separated fields "
                          "(ref_utt ref_dur ref_text gen_utt gen_dur gen_text)")
        ref_utt, _, ref_text, gen_utt, _, gen_text = fields
        return Prompt(gen_utt, flac(ref_utt), ref_text, gen_text, lang, flac(gen_utt))

    return _read_lines(path, parse)


def _read_jsonl(path: Path, root: Path, lang: str) -> list[_Row]:
    def parse(line: str) -> Prompt:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise _BadRow(f"not JSON ({err.msg}, column {err.colno})") from None
        except RecursionError:
            raise _BadRow("not JSON (nested too deeply)") from None
        if not isinstance(rec, dict):
            raise _BadRow(f"expected a JSON object {{...}}, got {_kind(rec)}")
        if "\\u" in line:  # only an escape makes a lone surrogate; the UTF-8 text itself cannot hold one
            _check_no_surrogate(rec)
        return _from_record(rec, root, lang)

    return _read_lines(path, parse)


def _read_csv(path: Path, root: Path, lang: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    header = reader.fieldnames or []
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        why = f"the header row lacks column(s) {missing} (it has {header})"
        return [_Row(1, problem=why, raw=str(header))]
    rows = []
    try:
        for rec in reader:
            cells = [c for v in rec.values() for c in (v if isinstance(v, list) else [v])]
            text = "\x1f".join(c for c in cells if isinstance(c, str))
            try:
                _check_utf8(text, is_line=False)
                if None in rec:  # csv puts the cells beyond the header under None
                    raise _BadRow(f"{len(header) + len(rec[None])} cells, the header has {len(header)}")
                rows.append(_Row(reader.line_num, _from_record(rec, root, lang)))
            except _BadRow as err:
                rows.append(_Row(reader.line_num, problem=str(err), raw=text))
    except csv.Error as err:  # the reader cannot go on past this record
        rows.append(_Row(reader.line_num, problem=f"not CSV ({err}); the rows after it are not read"))
    return rows


def _from_record(rec: dict[str, Any], root: Path, lang: str) -> Prompt:
    for key in _FIELDS:
        value = rec.get(key)
        if value is None or (key == "utt_id" and type(value) is int):  # an integer id is its digits
            continue
        if not isinstance(value, str):
            raise _BadRow(f"{key} must be a string, got {_kind(value)}")
    missing = [k for k in _REQUIRED if rec.get(k) in (None, "")]
    if missing:
        raise _BadRow(f"missing field(s) {missing}")
    ref = rec.get("reference_wav")
    return Prompt(str(rec["utt_id"]), root / rec["prompt_wav"], rec.get("prompt_text") or "",
                  rec["target_text"], rec.get("lang") or lang, root / ref if ref else None)


def _check_no_surrogate(rec: dict[str, Any]) -> None:
    for key in _FIELDS:
        bad = _SURROGATE.search(rec[key]) if isinstance(rec.get(key), str) else None
        if bad:
            raise _BadRow(f"{key} holds a lone surrogate (\\u{ord(bad.group()):04x}), which is not text")


def _read_text(path: Path) -> str:
    """The file's text without a byte-order mark; bytes that are not UTF-8 are kept as surrogate
    escapes, so each bad line is reported (`_check_utf8`) and the others still read."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read prompt list {path}: {err.strerror or err}") from None
    return data.removeprefix(codecs.BOM_UTF8).decode("utf-8", "surrogateescape")


def _check_utf8(text: str, *, is_line: bool = True) -> None:
    bad = _NOT_UTF8.search(text)
    if bad:
        column = f", column {bad.start() + 1}" if is_line else ""  # a CSV record's cells are not its line
        raise _BadRow(f"not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02x}{column}); save the list as UTF-8")


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    if type(value) in names:
        return names[type(value)]
    return f"a number ({value!r})" if isinstance(value, (int, float)) else type(value).__name__


# Validation of the rows that will run: (line, problem) pairs.


def _row_problems(rows: Sequence[_Row]) -> list[tuple[int, str]]:
    problems, first_line = [], {}
    for row in rows:
        if row.prompt is None:
            problems.append((row.line, row.problem))
            continue
        utt = row.prompt.utt_id
        if not is_plain(utt):  # the one rule for names that become path components (ttsbench.paths)
            why = f"utterance id {utt!r} is not a safe file name ({_PLAIN_RULE}; it names <utt_id>.wav)"
            problems.append((row.line, why))
        elif utt in first_line:
            why = f"utterance id {utt!r} appears twice (first on line {first_line[utt]})"
            problems.append((row.line, why))
        else:
            first_line[utt] = row.line
        if not row.prompt.target_text.strip():
            problems.append((row.line, f"utterance {utt!r} has an empty target text"))
    return problems


def _audio_problems(rows: Sequence[_Row], max_seconds: float) -> list[tuple[int, str]]:
    """One problem per row whose prompt audio is unusable; a file that many rows share is read once."""
    verdicts: dict[Path, str] = {}
    problems = []
    for row in rows:
        if row.prompt is None:
            continue
        wav = row.prompt.prompt_wav
        if wav not in verdicts:
            verdicts[wav] = prompt_audio_problem(wav, max_seconds)
        if verdicts[wav]:
            problems.append((row.line, f"utterance {row.prompt.utt_id!r}: {verdicts[wav]}"))
    return problems


def prompt_audio_problem(path: Path, max_seconds: float = DEFAULT_MAX_PROMPT_SECONDS) -> str:
    """Why `path` cannot serve as prompt audio ("" when it can): missing, unreadable, empty, longer
    than `max_seconds` (checked from the header, before the samples are read), NaN/inf or silent."""
    if not path.is_file():
        return f"prompt audio not found: {path}"
    try:
        info = sf.info(str(path))
        if info.frames <= 0:
            return f"prompt audio is empty: {path}"
        if info.duration > max_seconds:
            return (f"prompt audio is {info.duration:.1f} s long, over the set's max_prompt_seconds "
                    f"({max_seconds:g} s): {path}")
        wav, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        reason = str(err).splitlines()[0] if str(err).strip() else type(err).__name__
        return f"cannot read prompt audio {path}: {reason}"
    if wav.size == 0:
        return f"prompt audio is empty: {path}"
    finite = np.isfinite(wav)
    if not finite.all():
        return f"prompt audio contains NaN or Inf ({int((~finite).sum())} samples): {path}"
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2)))
    if rms < SILENT_RMS:
        return f"prompt audio is silent (RMS {rms:.1e} < {SILENT_RMS:g}): {path}"
    return ""


def _checksum(rows: Sequence[_Row], root: Path) -> str:
    prefix = str(root).rstrip("/") + "/"

    def rel(path: Path | None) -> str | None:
        if path is None:
            return None
        text = str(path)
        if text.startswith(prefix):  # what relative_to gives, without parsing 100k paths again
            return text[len(prefix):]
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    canon = [[p.utt_id, rel(p.prompt_wav), p.prompt_text, p.target_text, p.lang, rel(p.reference_wav)]
             if (p := row.prompt) is not None else ["?", row.raw] for row in rows]
    blob = json.dumps(canon, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(blob).hexdigest()
