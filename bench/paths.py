"""Names that become path components: the one gate between a user's string and the file system.

Every name ttsbench turns into a folder or file name inside an output root (a system name, a
`--name`, a prompt-set name, a run id, an utterance id) goes through `path_component`: a plain file
name passes unchanged; anything else (a separator, `..`, an absolute path, a control character, a
leading dot, an empty or overlong name) is refused in one line, or, for names ttsbench derives
itself (a manifest's file stem), encoded into a plain one. So nothing is ever written outside the
output root, whatever a spec, a flag or a prompt set says.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path

from ttsbench.errors import InputError

# Letters, digits and . _ + - ; not starting with '.', '+' or '-'; the whole name (fullmatch: a
# trailing newline is not a name character).
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-]*")
MAX_LENGTH = 200  # bytes of one component; file systems allow 255, the rest is for suffixes (".wav.part")


def is_plain(name: str) -> bool:
    """Whether `name` is usable as one path component as it is."""
    return (isinstance(name, str) and bool(_PLAIN.fullmatch(name)) and ".." not in name
            and len(name.encode("utf-8")) <= MAX_LENGTH)


def path_component(name: str, what: str, *, encode: bool = False) -> str:
    """`name` as one path component: unchanged when plain; else refused (InputError naming `what`),
    or, with `encode`, made plain (unsafe runs of characters become '_', plus a short hash of the
    original when anything changed, so two different names never meet in one folder)."""
    if is_plain(name):
        return name
    if not encode:
        shown = name if isinstance(name, str) else type(name).__name__
        raise InputError(f"{what} {shown!r} cannot name a file or folder: use letters, digits, '.', '_', "
                         f"'+' and '-' (starting with a letter or digit, at most {MAX_LENGTH} bytes, no '..')")
    text = str(name)
    plain = re.sub(r"[^A-Za-z0-9._+\-]+", "_", text).replace("..", "_").lstrip("._+-")[:MAX_LENGTH - 9]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{plain or 'x'}-{digest}"


def temp_path(path: Path) -> Path:
    """A temporary name beside `path` that no other process or thread uses (`<name>.<pid>.<random>.part`),
    for write-then-rename: two writers of one file never share a half-written temp file."""
    return path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
