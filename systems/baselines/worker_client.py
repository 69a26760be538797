"""WorkerSystem: a baseline whose upstream runs in the user's own interpreter (its own torch/stack).

The adapter starts `PYTHON worker.py engines/<engine>.py` (PYTHON from `python=PATH` or
`$TTSBENCH_<NAME>_PYTHON`; `repo=PATH` puts a GitHub checkout on the worker's PYTHONPATH) and
exchanges JSON lines and .npy audio with it over pipes (protocol in `worker.py`). A worker that
exits, hangs past `timeout` seconds or prints garbage fails the utterances it still held, each with
the worker's last stderr line; the next call starts a fresh worker and the run goes on.
"""

from __future__ import annotations

import collections
import io
import json
import os
import queue
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ttsbench.errors import MissingDependencyError, SynthesisError
from ttsbench.options import option
from ttsbench.systems.base import Capabilities
from ttsbench.systems.baselines.base import BaselineSystem
from ttsbench.systems.baselines.common import hub_env, item_seed
from ttsbench.types import LoadContext, Prompt, SystemSpec

WORKER = Path(__file__).with_name("worker.py")
ENGINES = Path(__file__).with_name("engines")


class WorkerFailed(Exception):
    """The worker died, hung or broke the protocol; the message says which, with its last stderr line."""


class WorkerProcess:
    """One running worker: start, ready handshake, requests; `close()` kills it."""

    def __init__(self, argv: list[str], config: dict[str, Any], *, env: dict[str, str], cwd: Path | None,
                 start_timeout: float, timeout: float, log: Path | None = None) -> None:
        self.timeout, self.log = timeout, log
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=1)
        self.events: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, cwd=cwd)
        except OSError as err:
            raise WorkerFailed(f"cannot start {argv[0]}: {err.strerror or err}") from None
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self._write(config)
        kind, msg, _ = self._next(start_timeout, "to start")
        if kind != "event" or msg.get("event") != "ready":
            self.close()
            raise WorkerFailed(f"sent {msg!r} instead of the ready line")
        self.sample_rate, self.info = int(msg["sample_rate"]), dict(msg.get("info", {}))

    def _read_stdout(self) -> None:
        out = self.proc.stdout
        assert out is not None
        for line in iter(out.readline, b""):
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise ValueError
                size = int(msg.get("npy_bytes", 0))
            except ValueError:
                self.events.put(("garbage", line[:80].decode(errors="replace").strip(), None))
                return
            payload = out.read(size) if size else b""
            if len(payload) != size:
                break
            self.events.put(("event", msg, payload))
        self.events.put(("eof", None, None))

    def _read_stderr(self) -> None:
        """Keep the last line (for failure messages); append everything to the log file, if any."""
        assert self.proc.stderr is not None
        sink = self.log.open("ab") if self.log is not None else None
        try:
            for raw in iter(self.proc.stderr.readline, b""):
                if sink is not None:
                    sink.write(raw)
                    sink.flush()
                line = raw.decode(errors="replace").strip()
                if line:
                    self.stderr_tail.append(line)
        finally:
            if sink is not None:
                sink.close()

    def last_stderr(self) -> str:
        return self.stderr_tail[-1][:300] if self.stderr_tail else "(nothing on stderr)"

    def _write(self, message: dict[str, Any]) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # a dead worker shows up as end of output on the reading side

    def _next(self, timeout: float, doing: str) -> tuple[str, Any, Any]:
        try:
            kind, msg, payload = self.events.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise WorkerFailed(f"hung: nothing within {timeout:g} s {doing}") from None
        if kind == "garbage":
            self.close()
            raise WorkerFailed(f"printed garbage {msg!r}")
        if kind == "eof":
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # closed its output but lives on
                self.close()
                code = self.proc.returncode
            raise WorkerFailed(f"exited with code {code} {doing}")
        return kind, msg, payload

    def request(self, rid: int, items: list[dict[str, Any]], outcome: dict[str, np.ndarray | str]) -> None:
        """Fill `outcome[utt_id]` with audio or an error line as events arrive; WorkerFailed leaves
        the items not yet answered out of `outcome`."""
        self._write({"id": rid, "items": items})
        while True:
            _, msg, payload = self._next(self.timeout, "on an utterance")
            if msg.get("id") != rid:
                self.close()
                raise WorkerFailed(f"answered request {msg.get('id')!r}, expected {rid}")
            if msg.get("event") == "done":
                return
            if msg.get("event") == "audio":
                outcome[msg["utt_id"]] = np.load(io.BytesIO(payload), allow_pickle=False).astype(np.float32)
            elif msg.get("event") == "error":
                outcome[msg["utt_id"]] = str(msg.get("error", "unknown error"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class WorkerSystem(BaselineSystem):
    """A baseline run in its own interpreter. Subclasses set `engine`, `needs_repo`, `repo_paths`."""

    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, max_batch=8)
    engine: ClassVar[str] = ""                    # engines/<engine>.py
    repo_paths: ClassVar[tuple[str, ...]] = ("",)  # folders of repo= put on the worker's PYTHONPATH

    @dataclass(frozen=True)
    class Options:
        python: str | None = option(None, "the worker's interpreter (none: $TTSBENCH_<NAME>_PYTHON)")
        repo: str | None = option(None, "a checkout of the upstream's GitHub repository (none: importable)")
        timeout: float = option(900.0, "seconds one utterance may take before the worker counts as hung",
                                above=0)
        start_timeout: float = option(1800.0, "seconds the worker may take to load", above=0)

    def __init__(self, name: str, argv: list[str], config: dict[str, Any], env: dict[str, str],
                 cwd: Path | None, options: Any, root: Path, log: Path | None = None) -> None:
        self.name, self.argv, self.config, self.env, self.cwd, self.log = name, argv, config, env, cwd, log
        self.options, self.root = options, root
        self.worker: WorkerProcess | None = None
        self.worker_info: dict[str, Any] = {}
        self.restarts, self._rid = 0, 0
        self._held: dict[tuple[int, str], np.ndarray | str] = {}  # outcomes of a failed batch, per item
        self._start()

    @classmethod
    def engine_options(cls, options: Any) -> dict[str, Any]:
        """The options the engine receives (the worker-plumbing ones removed)."""
        plumbing = {"python", "repo", "timeout", "start_timeout"}
        return {k: v for k, v in asdict(options).items() if k not in plumbing}

    @classmethod
    def env_names(cls, name: str) -> list[str]:
        return [f"TTSBENCH_{re.sub(r'[^A-Z0-9]', '_', name.upper())}_PYTHON"]

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> WorkerSystem:
        o = cls.parse_options(spec)
        root = cls.locate_weights(spec, ctx)
        python = o.python or next((os.environ[v] for v in cls.env_names(spec.name) if os.environ.get(v)), None)
        if python is None:
            raise MissingDependencyError(
                f"{spec.name} runs in its own environment: give {spec.name}:python=PATH or "
                f"${cls.env_names(spec.name)[0]} (docs/baselines.md has the install commands)")
        env = {**os.environ, **hub_env(ctx.allow_download, root / "hf_home"), "PYTHONUNBUFFERED": "1"}
        if o.repo:
            paths = [str(Path(o.repo).expanduser() / p) for p in cls.repo_paths]
            env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        argv = [python, str(WORKER), str(ENGINES / f"{cls.engine}.py")]
        config = {"weights": str(root), "options": cls.engine_options(o), "device": ctx.device}
        cwd = Path(o.repo).expanduser() if o.repo else root
        log = None
        if ctx.work_dir is not None:  # the upstream's own output, for when a worker fails
            log = Path(ctx.work_dir) / "workers" / f"{spec.name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
        return cls(spec.name, argv, config, env, cwd, o, root, log)

    def _start(self) -> WorkerProcess:
        if self.worker is None or self.worker.proc.poll() is not None:
            try:
                self.worker = WorkerProcess(self.argv, self.config, env=self.env, cwd=self.cwd,
                                            start_timeout=self.options.start_timeout,
                                            timeout=self.options.timeout, log=self.log)
            except WorkerFailed as err:
                raise SynthesisError(f"{self.name} worker failed to start: {err}") from None
            self.sample_rate, self.worker_info = self.worker.sample_rate, self.worker.info
        return self.worker

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        outcome: dict[str, np.ndarray | str] = {}
        for p in batch:  # a retry of a failed batch, item by item: answer from what it returned
            if (seed, p.utt_id) in self._held:
                outcome[p.utt_id] = self._held.pop((seed, p.utt_id))
        todo = [p for p in batch if p.utt_id not in outcome]
        if todo:
            self._run(todo, seed, outcome)
        failed = [u for u in (p.utt_id for p in batch) if isinstance(outcome[u], str)]
        if failed:
            if len(batch) > 1:  # the runner retries item by item; each gets its own outcome
                self._held.update({(seed, p.utt_id): outcome[p.utt_id] for p in batch})
            raise SynthesisError(f"{failed[0]}: {outcome[failed[0]]}")
        return [outcome[p.utt_id] for p in batch]  # type: ignore[misc]

    def _run(self, todo: Sequence[Prompt], seed: int, outcome: dict[str, np.ndarray | str]) -> None:
        try:
            worker = self._start()
        except SynthesisError as err:
            outcome.update({p.utt_id: str(err) for p in todo})
            return
        self._rid += 1
        items = [{"utt_id": p.utt_id, "prompt_wav": str(p.prompt_wav), "prompt_text": p.prompt_text,
                  "target_text": p.target_text, "lang": p.lang, "seed": item_seed(seed, p.utt_id)}
                 for p in todo]
        try:
            worker.request(self._rid, items, outcome)
        except WorkerFailed as err:
            worker.close()
            self.restarts += 1
            line = f"{self.name} worker {err}; its last stderr line: {worker.last_stderr()}"
            outcome.update({p.utt_id: line for p in todo if p.utt_id not in outcome})

    def describe(self) -> dict[str, Any]:
        info = self.baseline_info(self.options, self.root)
        info.update({"adapter": "worker", "python": self.argv[0], "engine": self.engine,
                     "worker_log": str(self.log) if self.log else None,
                     "worker": self.worker_info, "worker_restarts": self.restarts})
        return info

    def __del__(self) -> None:
        if getattr(self, "worker", None) is not None:
            self.worker.close()


