"""Executors: who proves a segmented graph's segments in phase 2 (DESIGN §3.9).

An executor's `prove_segments` returns one `zklora.zkcore.graph.SegmentResult` per
segment, in segment order; the kernel writes them into the proof stream and absorbs
their final fork states in that order, so the proof's bytes do not depend on the
executor.  Registry: `EXECUTORS` (name -> factory taking the options), `make`.

- ``local``: in this process, one segment at a time; each segment's witness is
  recomputed from its committed boundary inputs and dropped when it is proven, so the
  prover holds one segment's witness at a time (plus the committed tensors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import ConfigError


class LocalExecutor:
    """Prove the segments here, sequentially."""

    name = "local"

    def prove_segments(self, ctx, graph, backend, segs: Sequence, base_state: bytes,
                       claims: Sequence[Mapping], err, clock, progress) -> list:
        from .graph import prove_segment

        out = []
        total = len(graph.nodes)
        for s in segs:
            out.append(prove_segment(True, ctx, graph, backend, s, base_state,
                                     claims[s.index], err, clock=clock, progress=progress,
                                     count=(total - s.stop, total)))
        return out


#: executor name -> factory(options) (options: the ``executor_options`` of the config)
EXECUTORS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "local": lambda opts: LocalExecutor(),
}


def names() -> list[str]:
    return sorted(EXECUTORS)


def make(name: str, options: Mapping[str, Any] | None = None):
    """The executor ``name`` with ``options``; `ConfigError` for an unknown name."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; available: {', '.join(names())}")
    return EXECUTORS[name](dict(options or {}))
