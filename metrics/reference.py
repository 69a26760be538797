"""The reference model of a recipe: the weights its published numbers were computed with, and the check.

A comparable recipe is comparable only when it runs *the* model the published numbers used. Each
one declares a `ReferenceModel`: the hub id, the **architecture signature** the files must show
(read from the model's own config or tensor shapes, before any weights load) and the SHA-256 of the
released weight files where a source lists them (empty rather than guessed).

On setup, `check_model` compares what the files on disk show with that declaration:

  - a different signature stops the run with one line naming what was expected and what was
    found ("f5-en expects Whisper large-v3 (128 mels, multilingual); DIR holds an English-only
    80-mel model (tiny.en?)"), unless the recipe option `allow_other_model=true` is given: then
    the run goes on, recorded and shown as **not comparable** ("other model");
  - the same signature and every weight file's hash a known reference hash: "verified";
  - the same signature and a hash that differs from, or has no, known reference: "unverified"
    (comparable, weights unverified).

The verdict and the weights' hash enter the recipe's fingerprint (`ModelCheck.fingerprint`), so two
runs on different weights never share a fingerprint or a comparability claim.

Signature readers for each on-disk layout live here too: transformers `config.json`, the CTranslate2
`model.bin` header (variable names and shapes, no tensor data read), funasr's `config.yaml`.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ttsbench.errors import MissingModelError

VERIFIED = "verified"
UNVERIFIED = "unverified"
OTHER_MODEL = "other model"


@dataclass(frozen=True)
class KnownHash:
    """A published SHA-256 of one reference weight file, and where the value was read."""

    file: str  # path relative to the model directory (or the file name of a single-file model)
    sha256: str
    source: str


@dataclass(frozen=True)
class ReferenceModel:
    """The model a recipe's published numbers used.

    Attributes:
        hub_id: where it is published (e.g. "openai/whisper-large-v3").
        name: how messages call it, with the traits that tell it apart ("Whisper large-v3 (128
            mels, multilingual)").
        signature: architecture values the files must show (keys of the recipe's signature reader).
        known_hashes: published SHA-256 of its weight files; empty where no source lists them.
        hash_source: where a user finds the published hashes when `known_hashes` is empty.
    """

    hub_id: str
    name: str
    signature: Mapping[str, Any]
    known_hashes: tuple[KnownHash, ...] = ()
    hash_source: str = ""

    def describe(self) -> dict[str, Any]:
        """The declaration as docs and `list metrics` show it."""
        return {"hub_id": self.hub_id, "name": self.name, "signature": dict(self.signature),
                "known_hashes": [h.__dict__ for h in self.known_hashes], "hash_source": self.hash_source}


@dataclass(frozen=True)
class ModelCheck:
    """The verdict on the model a recipe loaded.

    Attributes:
        verdict: "verified", "unverified" or "other model".
        sha256: the weights' digest (the recipe's `weights_sha256`).
        found: the signature read from the files (kept in the fingerprint for "other model").
        differences: "key FOUND, not EXPECTED" lines (empty unless "other model").
        files: SHA-256 of each weight file, by relative name (what known hashes are compared with).
        reference: the reference model's hub id.
    """

    verdict: str
    sha256: str
    found: Mapping[str, Any] = field(default_factory=dict)
    differences: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""

    @property
    def comparable(self) -> bool:
        return self.verdict != OTHER_MODEL

    def fingerprint(self) -> dict[str, Any]:
        """What the recipe fingerprint records: the verdict, the hash, and what another model is."""
        out: dict[str, Any] = {"verdict": self.verdict, "reference": self.reference, "weights_sha256": self.sha256}
        if self.verdict == OTHER_MODEL:
            out["found"] = dict(self.found)
        return out


def compare_signature(expected: Mapping[str, Any], found: Mapping[str, Any]) -> tuple[str, ...]:
    """'key FOUND, not EXPECTED' for every declared key whose value differs (a missing key differs)."""
    return tuple(f"{k} {found.get(k, 'absent')!r}, not {v!r}" for k, v in expected.items() if found.get(k) != v)


def check_model(recipe: str, ref: ReferenceModel | None, found: Mapping[str, Any], path: Path, sha256: str,
                files: Mapping[str, str], *, allow_other: bool) -> ModelCheck | None:
    """The verdict on the model at `path`; raises one MissingModelError line for another model unless
    `allow_other`. Returns None for a recipe that declares no reference model."""
    if ref is None:
        return None
    diffs = compare_signature(ref.signature, found)
    if diffs:
        if not allow_other:
            raise MissingModelError(
                f"{recipe} expects {ref.name}; {path} holds {guess_name(found)}: {diffs[0]}"
                f"{f' and {len(diffs) - 1} more difference(s)' if len(diffs) > 1 else ''}; "
                f"pass {recipe}:allow_other_model=true to score it anyway, recorded as not comparable")
        return ModelCheck(OTHER_MODEL, sha256, found, diffs, dict(files), ref.hub_id)
    known = {(h.file, h.sha256.lower()) for h in ref.known_hashes}
    verified = bool(files) and all((name, digest.lower()) in known for name, digest in files.items())
    return ModelCheck(VERIFIED if verified else UNVERIFIED, sha256, found, (), dict(files), ref.hub_id)


# -- signature readers -----------------------------------------------------------------------------

WHISPER_SIZES = {  # (n_mels, encoder layers, d_model) -> size name, for messages only
    (80, 4, 384): "tiny", (80, 6, 512): "base", (80, 12, 768): "small", (80, 24, 1024): "medium",
    (80, 32, 1280): "large-v1/v2", (128, 32, 1280): "large-v3",
}


def whisper_traits(n_mels: int, vocab: int) -> dict[str, Any]:
    """Whisper's English-only vocabularies have 51864 tokens; multilingual ones 51865 (v1/v2) or 51866 (v3)."""
    return {"n_mels": int(n_mels), "vocab_size": int(vocab), "multilingual": int(vocab) >= 51865}


def guess_name(found: Mapping[str, Any]) -> str:
    """A human description of a signature ("an English-only 80-mel Whisper (tiny.en?)")."""
    arch = found.get("architecture", "model")
    if arch == "whisper":
        size = WHISPER_SIZES.get((found.get("n_mels"), found.get("encoder_layers"), found.get("d_model")))
        multi = bool(found.get("multilingual"))
        guess = f" ({size}{'' if multi else '.en'}?)" if size else ""
        return (f"{'a multilingual' if multi else 'an English-only'} {found.get('n_mels')}-mel Whisper with "
                f"{found.get('encoder_layers')} layers of width {found.get('d_model')}{guess}")
    flat: dict[str, Any] = {}
    for key, value in found.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        elif key != "architecture":
            flat[key] = value
    shown = ", ".join(f"{k}={v}" for k, v in list(flat.items())[:5]) + (", ..." if len(flat) > 5 else "")
    return f"a {arch} ({shown})" if shown else f"a {arch}"


def read_json(path: Path, recipe: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise MissingModelError(f"{recipe}: cannot read {path}: {str(err).splitlines()[0][:200]}") from None
    if not isinstance(data, dict):
        raise MissingModelError(f"{recipe}: {path} is not a JSON object")
    return data


def hf_whisper_signature(model_dir: Path, recipe: str) -> dict[str, Any]:
    """A transformers Whisper directory's signature, from its config.json."""
    cfg = read_json(model_dir / "config.json", recipe)
    if cfg.get("model_type") != "whisper":
        return {"architecture": str(cfg.get("model_type", "unknown model"))}
    return {"architecture": "whisper", **whisper_traits(cfg.get("num_mel_bins", 80), cfg.get("vocab_size", 0)),
            "encoder_layers": cfg.get("encoder_layers"), "decoder_layers": cfg.get("decoder_layers"),
            "d_model": cfg.get("d_model"), "attention_heads": cfg.get("encoder_attention_heads")}


def hf_ctc_signature(model_dir: Path, recipe: str) -> dict[str, Any]:
    """A transformers CTC directory's signature (HuBERT / wav2vec 2.0), from its config.json."""
    cfg = read_json(model_dir / "config.json", recipe)
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
            "do_stable_layer_norm", "feat_extract_norm")
    archs = cfg.get("architectures") or []
    return {"architecture": str(cfg.get("model_type", "unknown model")),
            "head": "CTC" if any(str(a).endswith("ForCTC") for a in archs) else ",".join(map(str, archs)) or "none",
            **{k: cfg.get(k) for k in keys}}


def _ct2_string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<H", f.read(2))
    return f.read(length)[:-1].decode("utf-8")


def ct2_variables(model_bin: Path) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the variables of a CTranslate2 `model.bin`, seeking past the tensor data.

    The layout (CTranslate2's `ModelSpec._serialize`, binary versions 2 to 6): uint32 version, spec
    name, uint32 revision, uint32 count, then per variable its name, uint8 rank, uint32 dims, and
    (version >= 4) uint8 type id + uint32 byte count, else uint8 item size + uint32 item count.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    with model_bin.open("rb") as f:
        (version,) = struct.unpack("<I", f.read(4))
        if not 2 <= version <= 6:
            raise ValueError(f"CTranslate2 binary version {version} is not one this reader knows (2-6)")
        _ct2_string(f)  # spec name
        f.read(4)  # spec revision
        (count,) = struct.unpack("<I", f.read(4))
        for _ in range(count):
            name = _ct2_string(f)
            (rank,) = struct.unpack("<B", f.read(1))
            dims = struct.unpack(f"<{rank}I", f.read(4 * rank)) if rank else ()
            if version >= 4:
                _, nbytes = struct.unpack("<BI", f.read(5))
            else:
                item, items = struct.unpack("<BI", f.read(5))
                nbytes = item * items
            f.seek(nbytes, 1)
            shapes[name] = tuple(int(d) for d in dims)
    return shapes


def ct2_whisper_signature(model_dir: Path, recipe: str) -> dict[str, Any]:
    """A CTranslate2 Whisper directory's signature, from the shapes in its model.bin header."""
    try:
        shapes = ct2_variables(model_dir / "model.bin")
    except (OSError, ValueError, struct.error, UnicodeDecodeError, OverflowError) as err:
        # not comparable whatever it is; with allow_other_model, CTranslate2 itself says whether it loads
        return {"architecture": f"model.bin this reader cannot read ({str(err)[:80] or type(err).__name__})"}
    conv = shapes.get("encoder/conv1/weight")
    emb = shapes.get("decoder/embeddings/weight")
    if conv is None or emb is None:
        return {"architecture": "CTranslate2 model (not Whisper)"}

    def layers(side: str) -> int:
        return len({m.group(1) for n in shapes if (m := re.match(rf"{side}/layer_(\d+)/", n))})

    d_model, n_mels = conv[0], conv[1]
    return {"architecture": "whisper", **whisper_traits(n_mels, emb[0]), "encoder_layers": layers("encoder"),
            "decoder_layers": layers("decoder"), "d_model": d_model}


def paraformer_signature(model_dir: Path, recipe: str) -> dict[str, Any]:
    """A funasr model directory's signature, from config.yaml (and the token list's length)."""
    # lazy: PyYAML comes with funasr (the `funasr` extra); only this recipe reads YAML
    import yaml

    try:
        cfg = yaml.safe_load((model_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise MissingModelError(f"{recipe}: cannot read {model_dir / 'config.yaml'}: "
                                f"{str(err).splitlines()[0][:200]}") from None
    if not isinstance(cfg, dict):
        raise MissingModelError(f"{recipe}: {model_dir / 'config.yaml'} is not a YAML mapping")
    enc, dec, front = (cfg.get(k) if isinstance(cfg.get(k), dict) else {}
                       for k in ("encoder_conf", "decoder_conf", "frontend_conf"))
    tokens = None
    tok_file = model_dir / "tokens.json"
    if tok_file.is_file():
        try:
            tokens = len(json.loads(tok_file.read_text(encoding="utf-8")))
        except ValueError:
            tokens = None
    return {"architecture": str(cfg.get("model", "unknown model")), "encoder": cfg.get("encoder"),
            "encoder_dim": enc.get("output_size"), "encoder_blocks": enc.get("num_blocks"),
            "attention_heads": enc.get("attention_heads"), "ffn_dim": enc.get("linear_units"),
            "decoder_blocks": dec.get("num_blocks"), "n_mels": front.get("n_mels"),
            "lfr": [front.get("lfr_m"), front.get("lfr_n")], "vocab_size": tokens}
