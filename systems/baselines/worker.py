"""The worker's side of the baseline protocol: run an engine in the user's own interpreter.

Started as `PYTHON worker.py ENGINE.py` by `ttsbench.systems.baselines.worker_client`, with the
upstream importable in PYTHON. This file and the engines import only the standard library and
numpy at module level (the upstream inside the engine), so they run in any environment that has
the upstream; nothing of ttsbench needs to be installed there.

Protocol (stdin: JSON lines; stdout: JSON lines, each audio line followed by its .npy bytes):
  in  {"weights": DIR, "options": {...}, "device": "cpu"}           once, first
  out {"event": "ready", "sample_rate": N, "info": {...}}
  in  {"id": K, "items": [{"utt_id", "prompt_wav", "prompt_text", "target_text", "lang", "seed"}]}
  out {"event": "audio", "id": K, "utt_id": U, "npy_bytes": N} + N bytes of a float32 .npy
      {"event": "error", "id": K, "utt_id": U, "error": "one line"}  (that item only)
      {"event": "done", "id": K}
Upstream code that prints to stdout cannot corrupt the stream: file descriptor 1 is pointed at
stderr before the engine loads, and the protocol writes to a private duplicate of the real stdout.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import random
import sys
from typing import Any, BinaryIO

import numpy as np


def load_engine_module(path: str) -> Any:
    """Import an engine file by path (the worker environment has no ttsbench package)."""
    spec = importlib.util.spec_from_file_location("ttsbench_engine", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load engine {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_everything(seed: int) -> None:
    """Seed every global RNG an upstream may draw from (torch only when the engine imported it)."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)


def send(out: BinaryIO, message: dict[str, Any], payload: bytes = b"") -> None:
    out.write(json.dumps(message).encode() + b"\n" + payload)
    out.flush()


def npy_bytes(wav: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(np.asarray(wav, dtype=np.float32).reshape(-1)), allow_pickle=False)
    return buf.getvalue()


def one_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def serve(engine_path: str, stdin: BinaryIO, out: BinaryIO) -> None:
    """Load the engine from the first line's config, then answer requests until stdin closes."""
    config = json.loads(stdin.readline())
    module = load_engine_module(engine_path)
    engine = module.Engine(config["weights"], config.get("options", {}), config.get("device", "cpu"))
    send(out, {"event": "ready", "sample_rate": int(engine.sample_rate), "info": engine.info()})
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        for item in request["items"]:
            head = {"id": request["id"], "utt_id": item["utt_id"]}
            try:
                seed_everything(int(item["seed"]))
                payload = npy_bytes(engine.synthesize(item))
            except Exception as err:  # one item's failure is reported; the worker goes on
                print(f"{item['utt_id']}: {one_line(err)}", file=sys.stderr, flush=True)
                send(out, {**head, "event": "error", "error": one_line(err)})
                continue
            send(out, {**head, "event": "audio", "npy_bytes": len(payload)}, payload)
        send(out, {"event": "done", "id": request["id"]})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: worker.py ENGINE.py", file=sys.stderr)
        return 2
    out = os.fdopen(os.dup(1), "wb")  # the protocol's private stdout
    os.dup2(2, 1)                     # anything else printed (Python or C) goes to stderr
    sys.stdout = sys.stderr
    serve(argv[0], sys.stdin.buffer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
