"""Append-only JSONL with torn-line tolerance, atomic JSON, run discovery."""

from __future__ import annotations

import json

import pytest

from ttsbench.errors import InputError
from ttsbench.store import append_jsonl, find_runs, latest, read_json, read_jsonl, write_json


def test_torn_last_line_is_skipped_and_sealed(tmp_path):
    path = tmp_path / "rows.jsonl"
    append_jsonl(path, [{"utt_id": "a", "v": 1}])
    with path.open("a") as f:
        f.write('{"utt_id": "b", "v"')  # a crash mid-write
    with pytest.warns(UserWarning, match="torn"):
        assert [r["utt_id"] for r in read_jsonl(path)] == ["a"]
    append_jsonl(path, [{"utt_id": "b", "v": 2}])
    with pytest.warns(UserWarning):
        rows = read_jsonl(path)
    assert [r["utt_id"] for r in rows] == ["a", "b"]  # the new row is not glued to the torn one
    assert path.read_text().count("\n") == 3


def test_latest_row_per_key_wins():
    rows = [{"utt_id": "a", "status": "failed"}, {"utt_id": "b", "status": "ok"}, {"utt_id": "a", "status": "ok"}]
    assert latest(rows, ("utt_id",))[("a",)]["status"] == "ok"


def test_write_json_is_atomic_and_read_json_errors_are_clear(tmp_path):
    write_json(tmp_path / "x.json", {"a": 1})
    assert read_json(tmp_path / "x.json") == {"a": 1}
    assert not list(tmp_path.glob("*.part"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="corrupt JSON"):
        read_json(tmp_path / "bad.json")


def test_find_runs_walks_parents(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "runs" / "set" / name).mkdir(parents=True)
        (tmp_path / "runs" / "set" / name / "run.json").write_text(json.dumps({}))
    assert [p.name for p in find_runs([tmp_path / "runs"])] == ["a", "b"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no run.json"):
        find_runs([tmp_path / "empty"])
    with pytest.raises(InputError, match="no such run directory"):
        find_runs([tmp_path / "absent"])
