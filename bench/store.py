"""The run directory: append-only JSONL rows, an atomic run manifest and summary, and readers.

Layout (schema_version 1)::

    <out>/<prompt set>/<system>/<run_id>/
      run.json      spec, versions, git sha, device, prompt-set checksum, metric fingerprints, cost
      wavs/<utt_id>.wav
      synth.jsonl   {"utt_id","seed","status","error","seconds","audio_seconds","sample_rate","batch_size"}
      scores.jsonl  {"utt_id","metric","fingerprint_id","status","error", ...sufficient statistics}
      summary.json  n expected / scored / failed and the aggregates of every metric

JSONL files hold one object per line and are only appended to. A torn last line (a crash mid-write)
is skipped on read and sealed with a newline before the next append, so nothing is lost or glued.
When a key appears twice (a failed utterance retried), the last row wins.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ttsbench.errors import InputError

SCHEMA_VERSION = 1


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All parsable objects of a JSONL file; unparsable lines (a torn write) are skipped."""
    if not path.is_file():
        return []
    rows, bad = [], 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    if bad:
        warnings.warn(f"{path}: skipped {bad} unreadable line(s) (a torn write); they will be redone",
                      stacklevel=2)
    return rows


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Append rows, sealing a torn last line first; flushed and fsynced before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False, default=_json_default) + "\n" for r in rows]
    if not lines:
        return
    with path.open("a+b") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.write("".join(lines).encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object; a missing or corrupt file is one clear InputError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"corrupt JSON in {path}: {err}") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def latest(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    """The last row per key (later rows supersede earlier ones)."""
    out: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        out[tuple(row.get(k) for k in key)] = row
    return out


@dataclass(frozen=True)
class RunRecord:
    """Everything stored for one run, read back."""

    path: Path
    run: dict[str, Any]
    summary: dict[str, Any]
    synth: pd.DataFrame
    scores: pd.DataFrame


def scores_frame(run_dir: Path) -> pd.DataFrame:
    """One row per (utt_id, metric, fingerprint_id): the latest; columns are the stored statistics."""
    rows = latest(read_jsonl(Path(run_dir) / "scores.jsonl"), ("utt_id", "metric", "fingerprint_id"))
    return pd.DataFrame(list(rows.values()))


def synth_frame(run_dir: Path) -> pd.DataFrame:
    """One row per utt_id: the latest synthesis record."""
    rows = latest(read_jsonl(Path(run_dir) / "synth.jsonl"), ("utt_id",))
    return pd.DataFrame(list(rows.values()))


def load_run(run_dir: str | Path) -> RunRecord:
    """Read a run directory; a directory without run.json is one clear InputError."""
    path = Path(run_dir)
    if not (path / "run.json").is_file():
        raise InputError(f"not a ttsbench run directory (no run.json): {path}")
    summary = read_json(path / "summary.json") if (path / "summary.json").is_file() else {}
    return RunRecord(path, read_json(path / "run.json"), summary, synth_frame(path), scores_frame(path))


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories at or below each path (a path may be a run dir or any parent)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / "run.json").is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(r.parent for r in p.rglob("run.json")))
        else:
            raise InputError(f"no such run directory: {p}")
    if not found:
        raise InputError(f"no run.json found under {', '.join(map(str, paths))}")
    return found

