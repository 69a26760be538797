"""The worker protocol with fake workers: real subprocesses running our worker.py (or a broken
stand-in for it) in this interpreter, with fake engines that crash, hang, print garbage, start
slowly, print to stdout, or fail one item. No upstream is involved."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ttsbench.errors import SynthesisError
from ttsbench.systems.baselines.common import item_seed
from ttsbench.systems.baselines.worker_client import WORKER, WorkerSystem
from ttsbench.types import Prompt

ENGINE = """
import os, sys, time
import numpy as np

class Engine:
    def __init__(self, weights, options, device):
        time.sleep(float(options.get("start_delay", 0)))
        print("upstream chatter on stdout at load")      # must not corrupt the protocol
        self.sample_rate = 16000
        self.weights = weights

    def info(self):
        return {"fake": True, "pid": os.getpid()}

    def synthesize(self, item):
        text = item["target_text"]
        print("upstream chatter on stdout", text)
        if "CRASH" in text:
            print("fatal: the fake upstream crashed", file=sys.stderr, flush=True)
            os._exit(3)
        if "HANG" in text:
            print("stuck in the fake upstream", file=sys.stderr, flush=True)
            time.sleep(60)
        if "BAD" in text:
            raise ValueError("cannot say " + text)
        # global RNG, seeded by the worker per item: the audio depends on (seed, utt_id) only
        return (0.1 * np.random.standard_normal(160 * len(text))).astype(np.float32)
"""


def options(**kw):
    return WorkerSystem.Options(**{"timeout": 5.0, "start_timeout": 20.0, **kw})


def make_system(tmp_path: Path, script: str | None = None, **kw) -> WorkerSystem:
    engine = tmp_path / "engine.py"
    engine.write_text(textwrap.dedent(ENGINE))
    argv = [sys.executable, str(WORKER), str(engine)]
    if script is not None:  # a broken worker in place of ours
        fake = tmp_path / "fake_worker.py"
        fake.write_text(textwrap.dedent(script))
        argv = [sys.executable, str(fake)]
    config = {"weights": str(tmp_path), "options": {"start_delay": kw.pop("start_delay", 0)}, "device": "cpu"}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return WorkerSystem("fake", argv, config, env, tmp_path, options(**kw), tmp_path, tmp_path / "worker.log")


def prompts(*texts: str) -> list[Prompt]:
    return [Prompt(f"u{i}", Path("p.wav"), "prompt", t, "en") for i, t in enumerate(texts)]


def test_several_utterances_per_call_each_seeded_by_seed_and_utterance(tmp_path):
    system = make_system(tmp_path)
    batch = prompts("hello there", "second one", "third")
    out = system.synthesize(batch, seed=0)
    assert [w.shape for w in out] == [(160 * len(p.target_text),) for p in batch]
    assert all(w.dtype == np.float32 for w in out)
    alone = system.synthesize(batch[1:2], seed=0)[0]
    assert np.array_equal(alone, out[1]), "an item's audio must not depend on its batch"
    rng = np.random.RandomState(item_seed(0, "u0"))
    assert np.allclose(out[0], 0.1 * rng.standard_normal(160 * len("hello there")), atol=1e-7)
    assert not np.array_equal(system.synthesize(batch[:1], seed=1)[0], out[0])
    assert system.sample_rate == 16000 and system.describe()["worker"]["fake"] is True


def test_an_item_error_fails_that_item_only_and_keeps_the_worker(tmp_path):
    system = make_system(tmp_path)
    batch = prompts("fine", "BAD text", "also fine")
    pid = system.worker.proc.pid
    with pytest.raises(SynthesisError, match="u1: ValueError: cannot say BAD text"):
        system.synthesize(batch, seed=0)
    # the runner retries item by item: the held outcomes answer, nothing is recomputed
    assert system.synthesize(batch[:1], seed=0)[0].size == 160 * 4
    with pytest.raises(SynthesisError, match="cannot say"):
        system.synthesize(batch[1:2], seed=0)
    assert system.synthesize(batch[2:], seed=0)[0].size == 160 * 9
    assert system.worker.proc.pid == pid and system.restarts == 0


def test_a_crash_fails_the_items_it_held_with_its_last_stderr_line_and_restarts(tmp_path):
    system = make_system(tmp_path)
    batch = prompts("before", "CRASH now", "after")
    first_pid = system.worker.proc.pid
    with pytest.raises(SynthesisError) as err:
        system.synthesize(batch, seed=0)
    assert "exited with code 3" in str(err.value) and "fatal: the fake upstream crashed" in str(err.value)
    assert system.synthesize(batch[:1], seed=0)[0].size == 160 * 6  # answered before the crash
    for held in (batch[1:2], batch[2:]):                              # held when it died: both fail
        with pytest.raises(SynthesisError, match="fatal: the fake upstream crashed"):
            system.synthesize(held, seed=0)
    assert system.synthesize(prompts("the run goes on"), seed=0)[0].size == 160 * 15
    assert system.restarts == 1 and system.worker.proc.pid != first_pid
    log = (tmp_path / "worker.log").read_text()  # the upstream's own output is kept, stdout chatter too
    assert "fatal: the fake upstream crashed" in log and "upstream chatter on stdout CRASH now" in log


def test_a_hang_past_the_timeout_fails_with_the_last_stderr_line_and_restarts(tmp_path):
    system = make_system(tmp_path, timeout=1.5)
    with pytest.raises(SynthesisError, match=r"hung: nothing within 1.5 s.*stuck in the fake upstream"):
        system.synthesize(prompts("HANG here"), seed=0)
    assert system.synthesize(prompts("next"), seed=0)[0].size == 160 * 4
    assert system.restarts == 1


def test_garbage_on_the_protocol_stream_fails_the_items(tmp_path):
    script = """
    import sys, json
    sys.stdin.readline()
    print(json.dumps({"event": "ready", "sample_rate": 16000, "info": {}}), flush=True)
    sys.stdin.readline()
    print("Traceback? no: some library wrote here", flush=True)
    print("the broken worker's last words", file=sys.stderr, flush=True)
    import time; time.sleep(30)
    """
    system = make_system(tmp_path, script=script)
    with pytest.raises(SynthesisError, match=r"printed garbage 'Traceback\? no: some library wrote here'"):
        system.synthesize(prompts("a", "b"), seed=0)
    assert system.worker.proc.poll() is not None  # killed, restarted on the next call


def test_a_slow_start_is_waited_for_and_a_start_past_its_timeout_fails_every_item(tmp_path):
    slow = make_system(tmp_path, start_delay=1.0)
    assert slow.synthesize(prompts("ok"), seed=0)[0].size == 320
    with pytest.raises(SynthesisError, match="failed to start: hung: nothing within 0.3 s to start"):
        make_system(tmp_path, start_delay=5.0, start_timeout=0.3)


def test_a_worker_that_cannot_start_says_why(tmp_path):
    system = make_system(tmp_path)
    system.argv = [str(tmp_path / "no-such-python")]
    system.worker.close()
    with pytest.raises(SynthesisError, match="failed to start: cannot start .*no-such-python"):
        system.synthesize(prompts("x"), seed=0)
