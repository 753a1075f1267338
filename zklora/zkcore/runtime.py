"""The prover process's runtime settings while a proof runs (`proving`).

A proof allocates and frees millions of Python objects (arrays, transcript values,
records) on top of the hundreds of thousands the imports left behind (torch, numba,
numpy); CPython's cyclic collector walks all of them on each full collection (seven per
25m-shape proof, ≈ 0.5 s together, collecting almost nothing).  `proving` moves
everything alive when the proof starts to the collector's permanent generation
(``gc.freeze``), so the collections during the proof walk only what the proof itself
created; cyclic garbage is still collected.  Afterwards the frozen objects are moved
back (``gc.unfreeze``).  Nested use (a proof inside a proof's session) does nothing.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_DEPTH = [0]


@contextmanager
def proving() -> Iterator[None]:
    """Run the block with the objects alive at its start frozen out of the cyclic
    collector's scans (``gc.freeze``; restored on exit however the block ends).  Only the
    outermost block acts; the values computed do not depend on it."""
    with _LOCK:
        outer = _DEPTH[0] == 0
        _DEPTH[0] += 1
    if outer:
        gc.freeze()
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            last = _DEPTH[0] == 0
        if outer and last:
            gc.unfreeze()
