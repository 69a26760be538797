"""Every baseline is listed with a one-line description, and without weights `ttsbench run` stops
before any upstream import with exit 2 and one line naming a missing file, its hub repository and
the download command."""

from __future__ import annotations

import sys

import pytest

from ttsbench.cli import main
from ttsbench.errors import MissingDependencyError
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.baselines.common import HubFiles, missing_file, require_weights
from ttsbench.types import LoadContext, SystemSpec

BASELINES = ["f5-tts", "f5-tts-v0", "e2-tts", "cosyvoice2-0.5b", "maskgct", "xtts-v2", "zipvoice",
             "zipvoice-distill", "spark-tts-0.5b", "indextts2", "chatterbox"]
UPSTREAM_PACKAGES = ("f5_tts", "cosyvoice", "TTS", "zipvoice", "chatterbox", "indextts", "cli", "models")


def test_list_systems_shows_every_baseline_with_one_line(capsys):
    assert main(["list", "systems"]) == 0
    out = capsys.readouterr().out.splitlines()
    for name in BASELINES:
        line = next((line for line in out if line.split()[:1] == [name]), None)
        assert line is not None and len(line.split(None, 1)[1]) > 20, name
    assert "watermark" in next(line for line in out if line.startswith("chatterbox")).lower()
    assert "Coqui Public Model Licence" in next(line for line in out if line.startswith("xtts-v2"))


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("with_cache", [False, True])
def test_run_without_weights_exits_2_naming_the_file_and_hub_repo(name, with_cache, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("TTSBENCH_CACHE", raising=False)
    cls = SYSTEMS.get(name)
    argv = ["run", "--system", name, "--prompt-set", "demo", "--metrics", "duration", "--out",
            str(tmp_path / "runs"), "--quiet"] + (["--cache-dir", str(tmp_path / "cache")] if with_cache else [])
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    first = cls.weights[0]
    assert f"missing weight file {first.files[0].rstrip('/')}" in lines[0] and f"(hub {first.repo})" in lines[0]
    assert f"hf download {first.repo}" in lines[0]
    if with_cache:
        assert str(tmp_path / "cache" / name) in lines[0]
    assert not [m for m in UPSTREAM_PACKAGES if m in sys.modules and not hasattr(sys.modules[m], "_fake")]


@pytest.mark.parametrize("name", BASELINES)
def test_describe_declares_pin_licence_protocol_and_native_rate(name):
    cls = SYSTEMS.get(name)
    assert cls.upstream and cls.licence and cls.protocol and cls.weights
    assert cls.sample_rate in (16_000, 22_050, 24_000)


def test_weight_check_accepts_a_complete_dir_and_names_the_first_gap(tmp_path):
    groups = (HubFiles("org/a", ("x.bin", "sub/")), HubFiles("org/b", ("y.yaml",), subdir="b"))
    (tmp_path / "x.bin").write_bytes(b"1")
    (tmp_path / "sub").mkdir()
    assert missing_file(tmp_path, groups) == (groups[0], "sub/")  # an empty folder counts as missing
    (tmp_path / "sub" / "f").write_bytes(b"1")
    assert missing_file(tmp_path, groups) == (groups[1], "y.yaml")
    with pytest.raises(Exception, match=r"missing weight file b/y.yaml \(hub org/b\).*hf download org/b y.yaml "
                                        r"--local-dir .*/b$"):
        require_weights("sys", tmp_path, groups)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y.yaml").write_text("a: 1")
    assert require_weights("sys", tmp_path, groups) == tmp_path


def test_a_worker_system_with_weights_but_no_interpreter_says_how_to_give_one(tmp_path, monkeypatch):
    cls = SYSTEMS.get("chatterbox")
    for group in cls.weights:
        for file in group.files:
            path = group.local(tmp_path, file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"0")
    monkeypatch.delenv("TTSBENCH_CHATTERBOX_PYTHON", raising=False)
    with pytest.raises(MissingDependencyError, match=r"chatterbox:python=PATH or \$TTSBENCH_CHATTERBOX_PYTHON"):
        cls.load(SystemSpec("chatterbox", checkpoint=tmp_path), LoadContext())


def test_the_worker_gets_the_hub_offline_and_the_repo_on_its_path(tmp_path, monkeypatch):
    from ttsbench.systems.baselines.worker_client import WorkerSystem

    monkeypatch.setattr(WorkerSystem, "_start", lambda self: None)  # build the launch, start nothing
    cls = SYSTEMS.get("cosyvoice2-0.5b")
    for group in cls.weights:
        for file in group.files:
            path = group.local(tmp_path, file.rstrip("/") + ("/f" if file.endswith("/") else ""))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"0")
    spec = SystemSpec("cosyvoice2-0.5b", {"python": "/envs/cosy/bin/python", "repo": "/src/CosyVoice"}, tmp_path)
    system = cls.load(spec, LoadContext())
    assert system.argv[0] == "/envs/cosy/bin/python" and system.argv[2].endswith("engines/cosyvoice2.py")
    assert system.env["HF_HUB_OFFLINE"] == "1" and system.env["TRANSFORMERS_OFFLINE"] == "1"
    assert system.env["PYTHONPATH"].split(":")[:2] == ["/src/CosyVoice", "/src/CosyVoice/third_party/Matcha-TTS"]
    allowed = cls.load(spec, LoadContext(allow_download=True))
    assert "HF_HUB_OFFLINE" not in allowed.env or allowed.env["HF_HUB_OFFLINE"] == __import__("os").environ.get(
        "HF_HUB_OFFLINE")
