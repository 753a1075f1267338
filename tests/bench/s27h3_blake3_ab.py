"""BLAKE3 lane kernels (`blake3_numba.hash_many` / `hash_pairs`: Merkle leaves and
parents) of an old tree against this one, interleaved round by round, outputs asserted
equal; medians of process CPU ns (all threads) per hash, and new/old.

    cd NEWTREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \\
        tests/bench/s27h3_blake3_ab.py OLDTREE [ROUNDS] [LOG_N]
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from commit_kernels_ab import load_old  # noqa: E402


def main(old: str, rounds: int, log_n: int) -> None:
    load_old(old)
    BO = importlib.import_module("oldk.blake3_numba")
    from zklora.kernels import blake3_numba as BN
    BO.COLD_BYTES = BN.COLD_BYTES = -1
    rng = np.random.default_rng(1)
    cases = []
    for L in (128, 256):
        d = rng.integers(0, 256, size=(1 << (log_n - 1), L), dtype=np.uint8)
        for dg in (25, 32):
            cases.append((f"leaves {L} B digest {dg}", d.shape[0],
                          lambda B, d=d, dg=dg: B.hash_many(d, dg)))
    for w in (20, 25, 32):
        lv = rng.integers(0, 256, size=(1 << (log_n + 1), w), dtype=np.uint8)
        cases.append((f"parents w {w}", lv.shape[0] // 2, lambda B, lv=lv: B.hash_pairs(lv)))
    for name, n, f in cases:
        assert np.array_equal(f(BO), f(BN)), name
        t = {0: [], 1: []}
        for _ in range(rounds):
            for i, B in ((0, BO), (1, BN)):
                c0 = time.process_time()
                f(B)
                t[i].append((time.process_time() - c0) / n * 1e9)
        a, b = statistics.median(t[0]), statistics.median(t[1])
        print(f"{name:26s} old {a:7.1f} new {b:7.1f} ns/hash  new/old {b / a:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7,
         int(sys.argv[3]) if len(sys.argv) > 3 else 17)
