"""The run directory: append-only JSONL rows, an atomic run manifest and summary, and readers.

Layout (schema_version 2; docs/run-directory.md documents every file and field for outside tools,
`ttsbench.schema` defines the records in code)::

    <out>/<prompt set>/<system>/<run_id>/
      run.json      RunManifest: spec, versions, git sha, device, prompt-set checksum, metrics, cost
      wavs/<utt_id>.wav
      synth.jsonl   SynthRow {"utt_id","seed","status","error","seconds","batch_id","batch_size",
                              "audio_seconds","sample_rate"}
      scores.jsonl  ScoreRow {"utt_id","metric","fingerprint_id","status","error", ...statistics}
      summary.json  Summary: n expected / scored / failed and the aggregates of every metric

JSONL files hold one object per line and are only appended to. A torn last line (a crash mid-write,
even inside a multi-byte character) or any line that is not a JSON object is skipped on read with a
warning and sealed with a newline before the next append, so nothing is lost or glued; its row is
redone. JSON files and wavs are written to a per-process temporary name and renamed. A job holds
the directory's lock (`ttsbench.locking`) while it writes; docs/reliability.md has the whole list.
When a key appears twice (a failed utterance retried), the last row wins. Schema-1 directories
(prompt-set keys named "testset") load too; the next run over one rewrites its JSON files as 2.
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

from ttsbench.errors import InputError, TTSBenchWarning
from ttsbench.paths import temp_path
from ttsbench.schema import SCHEMA_VERSION, CostEntry, RunManifest, ScoreRow, Summary, SynthRow
from ttsbench.shards import Shard

__all__ = ["SCHEMA_VERSION", "RunRecord", "append_jsonl", "clear_temp_files", "find_runs", "latest", "latest_scores",
           "latest_synth", "load_run", "read_json", "read_jsonl", "read_manifest", "read_summary",
           "scores_frame", "synth_frame", "write_json"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file, in order. A line that is not one (a write torn by a crash,
    even inside a multi-byte character; bytes that are not UTF-8; valid JSON that is not an object,
    such as `null` or `[]`) is skipped with one warning for the file, so its row is redone."""
    if not path.is_file():
        return []
    rows, bad = [], 0
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    if bad:
        warnings.warn(f"{path}: skipped {bad} unreadable line(s) (a torn write or not a JSON object); "
                      "their rows will be redone", TTSBenchWarning, stacklevel=2)
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
    tmp = temp_path(path)
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def clear_temp_files(root: Path) -> int:
    """Delete the `*.part` files a killed writer left in a run directory (and its wavs/); returns how
    many. Call it only while holding the directory's lock: then no live writer owns one."""
    count = 0
    for folder in (root, root / "wavs"):
        if folder.is_dir():
            for part in folder.glob("*.part"):
                part.unlink(missing_ok=True)
                count += 1
    return count


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


def read_manifest(path: Path) -> RunManifest:
    """run.json (schema 1 or 2) as a typed record; missing, corrupt or too new is one InputError."""
    return RunManifest.from_json(read_json(path), str(path))


def read_summary(path: Path) -> Summary:
    """summary.json (schema 1 or 2) as a typed record; missing, corrupt or too new is one InputError."""
    return Summary.from_json(read_json(path), str(path))


def row_files(where: Path, kind: str) -> list[Path]:
    """The JSONL files of `kind` ("synth" or "scores") a run directory holds: `<kind>.jsonl`, then each
    shard's `<kind>.I-of-N.jsonl` (by N, then I). `where` may also be one file: then just that file."""
    where = Path(where)
    if not where.is_dir():
        return [where]
    shards = [(s.count, s.index, f) for f in where.glob(f"{kind}.*-of-*.jsonl")
              if (s := Shard.from_tag(f.name[len(kind) + 1:-len(".jsonl")])) is not None]
    return [where / f"{kind}.jsonl", *(f for _, _, f in sorted(shards))]


def latest_synth(where: Path) -> dict[str, SynthRow]:
    """The last synth row of each utt_id (rows that are not SynthRows skipped), over a run directory's
    synth files (a shard's rows are only in its own file; a later file wins) or over one file."""
    return {row.utt_id: row for f in row_files(where, "synth") for row in _records(f, SynthRow)}


def latest_scores(where: Path) -> dict[tuple[str, str, str | None], ScoreRow]:
    """The last score row of each (utt_id, metric, fingerprint_id), over a run directory's score files
    or over one file."""
    return {row.key: row for f in row_files(where, "scores") for row in _records(f, ScoreRow)}


def _records(path: Path, record: Any) -> list[Any]:
    """The rows of a JSONL file as `record`s; an object that is not one (a foreign or hand-edited
    line: a missing key, a wrong type) is skipped with one warning, so its row is redone."""
    out, bad = [], []
    for i, row in enumerate(read_jsonl(path)):
        try:
            out.append(record.from_json(row, f"{path}: row {i + 1}"))
        except InputError as err:
            bad.append(str(err))
    if bad:
        warnings.warn(f"{path}: skipped {len(bad)} row(s) that are not {record.__name__}s (first: {bad[0]}); "
                      "they will be redone", TTSBenchWarning, stacklevel=3)
    return out


@dataclass(frozen=True)
class RunRecord:
    """Everything stored for one run, read back as typed records."""

    path: Path
    run: RunManifest
    summary: Summary | None  # None until the run has been summarized
    synth: tuple[SynthRow, ...]  # the latest row per utt_id
    scores: tuple[ScoreRow, ...]  # the latest row per (utt_id, metric, fingerprint_id)

    @property
    def run_id(self) -> str:
        return (self.summary and self.summary.run_id) or self.run.run_id or ""

    @property
    def system_name(self) -> str | None:
        """The system's name: the summary's, else the spec's, else the system entry's."""
        if self.summary and self.summary.system:
            return self.summary.system
        if self.run.spec:
            return self.run.spec.system.name
        return self.run.system.name if self.run.system else None

    @property
    def prompt_set_name(self) -> str | None:
        if self.summary and self.summary.prompt_set:
            return self.summary.prompt_set
        return self.run.prompt_set.name if self.run.prompt_set else None

    @property
    def n_expected(self) -> int | None:
        """Prompts the run covers: the summary's count, else the whole prompt set's size."""
        if self.summary and self.summary.n_expected is not None:
            return self.summary.n_expected
        return self.run.prompt_set.n if self.run.prompt_set else None

    @property
    def cost(self) -> CostEntry | None:
        """run.json's cost entry, else the summary's copy."""
        if self.run.cost is not None:
            return self.run.cost
        return self.summary.cost if self.summary else None

    def synth_frame(self) -> pd.DataFrame:
        """One row per utt_id, columns as in synth.jsonl."""
        return pd.DataFrame([r.to_json() for r in self.synth])

    def scores_frame(self) -> pd.DataFrame:
        """One row per (utt_id, metric, fingerprint_id); the columns are the stored fields and statistics."""
        return pd.DataFrame([r.to_json() for r in self.scores])


def scores_frame(run_dir: Path) -> pd.DataFrame:
    """One row per (utt_id, metric, fingerprint_id): the latest; columns are the stored statistics."""
    return pd.DataFrame([r.to_json() for r in latest_scores(Path(run_dir)).values()])


def synth_frame(run_dir: Path) -> pd.DataFrame:
    """One row per utt_id: the latest synthesis record."""
    return pd.DataFrame([r.to_json() for r in latest_synth(Path(run_dir)).values()])


def load_run(run_dir: str | Path) -> RunRecord:
    """Read a run directory; no run.json, a corrupt file or an unknown schema is one clear InputError."""
    path = Path(run_dir)
    if not (path / "run.json").is_file():
        if shard_manifests(path):
            raise InputError(f"{path}: a sharded run not merged yet: ttsbench merge {path}")
        raise InputError(f"not a ttsbench run directory (no run.json): {path}")
    summary = read_summary(path / "summary.json") if (path / "summary.json").is_file() else None
    return RunRecord(path, read_manifest(path / "run.json"), summary,
                     tuple(latest_synth(path).values()), tuple(latest_scores(path).values()))


def is_run_dir(path: Path) -> bool:
    """Whether `path` holds a run: its run.json, or a shard's run.I-of-N.json (not merged yet)."""
    return (path / "run.json").is_file() or bool(shard_manifests(path))


def shard_manifests(path: Path) -> dict[Shard, Path]:
    """The shard manifests (`run.I-of-N.json`) of a run directory, by shard."""
    out = {}
    for f in Path(path).glob("run.*-of-*.json"):
        shard = Shard.from_tag(f.name[len("run."):-len(".json")])
        if shard is not None:
            out[shard] = f
    return dict(sorted(out.items(), key=lambda kv: (kv[0].count, kv[0].index)))


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories at or below each path (a path may be a run dir or any parent); a sharded run
    counts once, whether or not it has been merged."""
    found: list[Path] = []
    for p in map(Path, paths):
        if is_run_dir(p):
            found.append(p)
        elif p.is_dir():
            dirs = {r.parent for r in p.rglob("run.json")} | {r.parent for r in p.rglob("run.*-of-*.json")}
            found.extend(sorted(d for d in dirs if is_run_dir(d)))
        else:
            raise InputError(f"no such run directory: {p}")
    if not found:
        raise InputError(f"no run.json found under {', '.join(map(str, paths))}")
    return found
