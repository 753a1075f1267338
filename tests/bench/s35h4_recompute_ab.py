"""The witness forward (`graph.forward`, phase 1) and phase 2's segment recomputes
(`graph._recompute`) of one bench-path prove, each call run REPEATS times per variant —
`graph.SERIAL_TORCH` / `SERIAL_FORWARD` (torch on one thread or the default count), and
serial without the checked ranges `Witness.spill` reuses (``Witness.note_range`` a
no-op: the min/max pass of `_narrow_type` runs) — alternating in the same process, with
its process CPU summed per variant (not a test).  The prove stops at its end (the last
result is the one used).

    flock /tmp/heavy.lock python tests/bench/s35h4_recompute_ab.py [SIZE] [REPEATS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from zklora.zkcore import graph as graphlib

VARIANTS = {"default": (False, True), "serial": (True, True), "serial-nonote": (True, False)}
_NOTE = graphlib.Witness.note_range


def _set(serial: bool, note: bool) -> None:
    graphlib.SERIAL_TORCH = graphlib.SERIAL_FORWARD = serial
    graphlib.Witness.note_range = _NOTE if note else (lambda *a: None)


def _ab(fn, tot: dict, repeats: int):
    def run(*a, **kw):
        out = None
        for r in range(repeats):
            for name in (VARIANTS if r % 2 == 0 else list(reversed(VARIANTS))):
                _set(*VARIANTS[name])
                out = None
                c0 = time.process_time()
                out = fn(*a, **kw)
                tot[name] += time.process_time() - c0
        _set(True, True)
        graphlib.SERIAL_FORWARD = False
        return out
    return run


def main(size: str, repeats: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from s34h4_witness_ab import prove_until

    fwd = dict.fromkeys(VARIANTS, 0.0)
    rec = dict.fromkeys(VARIANTS, 0.0)
    graphlib.forward = _ab(graphlib.forward, fwd, repeats)
    graphlib._recompute = _ab(graphlib._recompute, rec, repeats)
    prove_until(size, KeyboardInterrupt)
    for name, tot in (("forward", fwd), ("_recompute", rec)):
        print(size, name, {k: round(v / repeats, 3) for k, v in tot.items()},
              f"serial/default {tot['serial'] / tot['default']:.3f}",
              f"serial/serial-nonote {tot['serial'] / tot['serial-nonote']:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "25m", int(sys.argv[2]) if len(sys.argv) > 2 else 4)
