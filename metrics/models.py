"""Where a recipe's model lives, how it is pinned, and the opt-in download.

Resolution order: the recipe option (e.g. `--metrics seedtts-en:model=/path`), then the documented
location under the cache directory (`--cache-dir`, the spec's [paths] table or $TTSBENCH_CACHE).
Nothing is fetched unless `--allow-download` is given; a model that is absent is one line naming the
recipe, the path expected and where users get it.

Weights are hashed with SHA-256 (memoised per path, size and mtime under the work dir, so a 3 GB
checkpoint is read once). A recipe option `sha256=HEX` pins the hash; a mismatch stops the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ttsbench.errors import MissingDependencyError, MissingModelError
from ttsbench.paths import file_sha256
from ttsbench.store import append_jsonl
from ttsbench.types import LoadContext

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx")


@dataclass(frozen=True)
class ModelLocation:
    """What one recipe expects on disk.

    Attributes:
        recipe: the metric recipe name (for messages).
        option: the recipe option that gives an explicit path.
        cache_rel: path relative to the cache dir where it is looked for by default.
        where: where users get it (a URL and, if useful, a hint).
        kind: "dir" or "file".
        required: files that must exist inside a "dir" model.
        hf_repo: Hugging Face repo fetched with --allow-download, if any (the whole repo into
            `cache_rel`, or only `hf_file` when set).
        hf_file: one file of `hf_repo`; `cache_rel` must end with this path.
    """

    recipe: str
    option: str
    cache_rel: str
    where: str
    kind: str = "dir"
    required: tuple[str, ...] = ()
    hf_repo: str | None = None
    hf_file: str | None = None

    def expected(self, ctx: LoadContext) -> Path:
        root = ctx.cache_dir if ctx.cache_dir is not None else Path("$TTSBENCH_CACHE")
        return root / self.cache_rel

    def _missing(self, path: Path, why: str) -> MissingModelError:
        get = f"get it from {self.where}"
        if self.hf_repo:
            get += " (or pass --allow-download)"
        return MissingModelError(
            f"{self.recipe}: {why} {path} (set {self.recipe}:{self.option}=PATH, --cache-dir or "
            f"$TTSBENCH_CACHE); {get}")

    def resolve(self, explicit: Path | None, ctx: LoadContext) -> Path:
        """The model path (`explicit`: the value of the recipe's option `self.option`, if given), after
        checking it is complete; downloads only with ctx.allow_download."""
        path = Path(explicit).expanduser() if explicit else self.expected(ctx)
        if not explicit and not _complete(path, self) and ctx.allow_download and self.hf_repo \
                and ctx.cache_dir is not None:
            download_hf(self.hf_repo, path, self.hf_file)
        if not path.exists():
            raise self._missing(path, "model not found at")
        if self.kind == "file" and not path.is_file():
            raise self._missing(path, "expected a file, found a directory at")
        if self.kind == "dir":
            if not path.is_dir():
                raise self._missing(path, "expected a model directory, found a file at")
            absent = [f for f in self.required if not (path / f).is_file()]
            if absent:
                raise self._missing(path, f"incomplete model (no {', '.join(absent)}) in")
        return path


def _complete(path: Path, loc: ModelLocation) -> bool:
    if loc.kind == "file":
        return path.is_file()
    return path.is_dir() and all((path / f).is_file() for f in loc.required)


def download_hf(repo: str, dest: Path, filename: str | None = None) -> None:
    """Fetch a Hugging Face repo (or one file of it) to `dest` (only ever called under --allow-download)."""
    try:
        # lazy: an optional backend, imported only when this recipe or system runs
        import huggingface_hub
    except ImportError:
        raise MissingDependencyError("--allow-download needs huggingface_hub: pip install huggingface_hub") from None
    if filename is None:
        dest.mkdir(parents=True, exist_ok=True)
        # alternates no loader here reads (fp32 shards, other frameworks) would add gigabytes
        huggingface_hub.snapshot_download(repo_id=repo, local_dir=str(dest), ignore_patterns=[
            "*.msgpack", "*.h5", "*.ot", "*fp32*", "*.onnx", "*.onnx_data", "flax_*", "tf_*", "coreml*", "*.mlmodel*"])
        return
    if not dest.as_posix().endswith(filename):
        raise ValueError(f"download target {dest} does not end with {filename}")
    root = dest
    for _ in Path(filename).parts:
        root = root.parent
    huggingface_hub.hf_hub_download(repo_id=repo, filename=filename, local_dir=str(root))


def sha256_file(path: Path, memo_dir: Path | None = None) -> str:
    """SHA-256 of a file; memoised under memo_dir by (absolute path, size, mtime_ns)."""
    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    memo = memo_dir / "sha256-memo.jsonl" if memo_dir is not None else None
    if memo is not None and memo.is_file():
        for line in memo.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("key") == key:
                return str(row["sha256"])
    hexdigest = file_sha256(path)
    if memo is not None:

        append_jsonl(memo, [{"key": key, "sha256": hexdigest}])
    return hexdigest


#: What the loaders read, in their order of preference (transformers: safetensors, then the .bin;
#: CTranslate2: model.bin; funasr: model.pt). Other weight files in a directory are not hashed.
PRIMARY_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "model.bin", "model.pt")


def weight_files(path: Path) -> list[Path]:
    """The weight files a loader reads from a model file or directory (not configs or tokenizers)."""
    if path.is_file():
        return [path]
    for name in PRIMARY_WEIGHTS:
        if (path / name).is_file():
            if name.endswith(".index.json"):  # sharded safetensors: the shards its weight map names
                shards = set(json.loads((path / name).read_text())["weight_map"].values())
                return sorted(path / s for s in shards)
            return [path / name]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def weight_hashes(path: Path, memo_dir: Path | None = None) -> dict[str, str]:
    """SHA-256 of each weight file a loader reads, by name relative to the model directory (a single-file
    model: by its file name). These are what published per-file hashes are compared with."""
    files = weight_files(path)
    if not files:
        raise MissingModelError(f"no weight files ({', '.join(WEIGHT_SUFFIXES)}) under {path}")
    if path.is_file():
        return {path.name: sha256_file(path, memo_dir)}
    return {p.relative_to(path).as_posix(): sha256_file(p, memo_dir) for p in files}


def digest_of(path: Path, hashes: dict[str, str]) -> str:
    """One SHA-256 for a model from its `weight_hashes`: the file's own hash, or a hash over the lines
    `name:sha256` of its weight files."""
    if path.is_file():
        return next(iter(hashes.values()))
    return hashlib.sha256("\n".join(f"{name}:{digest}" for name, digest in hashes.items()).encode()).hexdigest()


def weights_digest(path: Path, memo_dir: Path | None = None) -> str:
    """One SHA-256 for a model: the file's own hash, or a hash over `name:sha256` of its weight files."""
    return digest_of(path, weight_hashes(path, memo_dir))


def check_pin(recipe: str, path: Path, actual: str, pinned: str | None) -> None:
    """Stop with one line when a pinned SHA-256 does not match the file on disk."""
    if pinned and actual.lower() != str(pinned).lower():
        raise MissingModelError(
            f"{recipe}: {path} has SHA-256 {actual[:16]}..., expected {str(pinned)[:16]}... "
            "(a different or corrupt checkpoint; get the original file, or change the pin)")


def require(module: str, recipe: str, extra: str) -> Any:
    """Import an optional dependency, or stop with the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"metric {recipe!r} needs {err.name or module}: pip install 'ttsbench[{extra}]'") from None


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of the libraries that move a recipe's numbers (metadata only, no import)."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def torch_device(device: str) -> str:
    """'cuda' / 'cuda:1' stay as they are when CUDA exists; anything else is 'cpu'."""
    if not device.startswith("cuda"):
        return "cpu"
    # lazy: torch only to ask for CUDA; a CPU scorer that needs no torch (faster-whisper) never loads it
    import torch

    return device if torch.cuda.is_available() else "cpu"


def device_kind(device: str) -> str:
    """The kind of device a model runs on, as fingerprints record it: "cpu" or "cuda".

    CPU and GPU kernels sum floats differently (and F5 runs fp16 on CUDA, fp32 on CPU), so the kind can
    move a number; the GPU's name is in run.json (`device`), not in the recipe's identity.
    """
    return "cuda" if torch_device(device).startswith("cuda") else "cpu"


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block with `n` intra-op torch threads, then restore the previous count.

    Small models (resemblyzer's 3-layer LSTM) are fastest on one thread and, on a loaded machine,
    many times slower on several (the workers spin-wait for busy cores).
    """
    # lazy: torch is not loaded by the recipes that need none (faster-whisper WER on the CPU)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
