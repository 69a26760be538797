"""GROW's text front end: Qwen3's byte-level BPE (151,936 ids) over prompt text + target text, joined
without a space (GROW's eval dataset: `prompt_text + gt_text`); no phonemes, no normalisation.

`QwenText` reads `tokenizer.json` of a local Qwen/Qwen3-0.6B folder with `tokenizers` (what
transformers' fast Qwen tokenizer wraps; that tokenizer adds no BOS/EOS, so the ids are the same).
`ByteText` (random weights only) uses UTF-8 bytes as ids: timing runs need sequence lengths, not meaning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ttsbench.errors import InputError, MissingDependencyError, MissingModelError


class QwenText:
    def __init__(self, folder: Path) -> None:
        path = Path(folder) / "tokenizer.json"
        if not path.is_file():
            raise MissingModelError(f"Qwen3 tokenizer not found: {path} (hub Qwen/Qwen3-0.6B, tokenizer.json)")
        try:
            # lazy: tokenizers is an optional dependency, needed only for GROW's real weights
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingDependencyError("GROW's text front end needs the 'tokenizers' package "
                                         "(pip install tokenizers)") from None
        try:
            self.tok = Tokenizer.from_file(str(path))
        except Exception as err:
            raise InputError(f"{path}: not a tokenizers JSON file ({type(err).__name__})") from None
        self.path = path
        self.vocab_size = self.tok.get_vocab_size(with_added_tokens=True)

    def encode(self, prompt_text: str, target_text: str) -> list[int]:
        return self.tok.encode(prompt_text + target_text).ids

    def describe(self) -> dict[str, Any]:
        return {"name": "qwen3-bpe", "file": str(self.path), "vocab_size": self.vocab_size,
                "join": "prompt_text + target_text (no space)"}


class ByteText:
    vocab_size = 256

    def encode(self, prompt_text: str, target_text: str) -> list[int]:
        return list((prompt_text + target_text).encode())

    def describe(self) -> dict[str, Any]:
        return {"name": "utf8-bytes (random weights only)", "join": "prompt_text + target_text (no space)"}
