"""BaselineSystem: a published checkpoint run under its own evaluation protocol.

Subclasses declare the upstream they run (`upstream`, a pinned version or commit), the weight files
(`weights`, checked before the upstream is imported), their native sample rate and `protocol`:
the published settings their defaults reproduce, recorded by `describe()` with the options.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from ttsbench.systems.base import TTSSystem
from ttsbench.systems.baselines.common import HubFiles, require_weights, weights_dir
from ttsbench.types import LoadContext, SystemSpec


class BaselineSystem(TTSSystem):
    """Shared declarations of the baseline adapters (not registered itself)."""

    upstream: ClassVar[str] = ""                      # e.g. "PyPI f5-tts==1.1.22"
    weights: ClassVar[tuple[HubFiles, ...]] = ()
    protocol: ClassVar[dict[str, Any]] = {}           # the published settings behind the defaults
    licence: ClassVar[str] = ""

    @classmethod
    def locate_weights(cls, spec: SystemSpec, ctx: LoadContext) -> Path:
        """The weights directory with every declared file present, or one MissingModelError line."""
        return require_weights(spec.name, weights_dir(spec.name, spec, ctx), cls.weights,
                               allow_download=ctx.allow_download)

    def baseline_info(self, options: Any, root: Path) -> dict[str, Any]:
        """What describe() records for every baseline."""
        return {"upstream": self.upstream, "licence": self.licence, "weights_dir": str(root),
                "hub": sorted({g.repo for g in self.weights}),
                "protocol": dict(self.protocol), "options": asdict(options)}
