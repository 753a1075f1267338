"""BLAKE3 lane kernels against the one-message kernels, interleaved in one process.

    python tests/bench/h3_blake3_lanes_ab.py [LOG_N] [ROUNDS]

Both kernel families live in `zklora.kernels.blake3_numba` (the one-message ones stay as
the tails' path and as twins): Merkle leaves (`_hash_rows64` vs `_hash_rows32_lanes`),
Merkle parents (`_hash_pairs` vs `_hash_tagged_lanes`) at the digest widths in use, and
WHIR's grinding (`whir._grind_blake3` vs `grind_lanes`).  Outputs are asserted equal,
then old and new alternate for ROUNDS rounds; medians of CPU ns (every thread) and wall
ns per hash, and new/old.  2^LOG_N (default 18) parents / 2^(LOG_N-1) leaves.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def cases(log_n: int):
    from zklora.kernels import blake3_numba as B
    from zklora.kernels import whir as W

    rng = np.random.default_rng(1)
    out = {}
    for nw in (16, 32):
        n = 1 << (log_n - 1)
        d = rng.integers(0, 2**63, size=(n, nw), dtype=np.uint64)
        o1, o2 = np.empty((n, 25), np.uint8), np.empty((n, 25), np.uint8)
        out[f"leaves {8 * nw} B, digest 25"] = (
            n, lambda d=d, o=o1: (B._hash_rows64(d, o), o)[1],
            lambda d=d, o=o2: (B._hash_rows32_lanes(d.view(np.uint32), o.reshape(-1), 25),
                               o)[1])
    for w in (20, 25, 32):
        n = 1 << log_n
        lvl = rng.integers(0, 256, size=(2 * n, w), dtype=np.uint8)
        o1, o2 = np.empty((n, w), np.uint8), np.empty((n, w), np.uint8)
        out[f"parents w {w} ({2 * w + 1} B)"] = (
            n, lambda lv=lvl, o=o1, n=n, w=w: (B._hash_pairs(lv.reshape(n, 2 * w), o), o)[1],
            lambda lv=lvl, o=o2, w=w: (B._hash_tagged_lanes(lv.reshape(-1), 2 * w,
                                                            o.reshape(-1), w), o)[1])
    prefixes = [bytes([i]) * (70 + 4 * i) for i in range(4)]

    def grind(fn):
        tot = 0
        for p in prefixes:
            buf = np.zeros(len(p) + 8, np.uint8)
            buf[:len(p)] = np.frombuffer(p, np.uint8)
            tot += int(fn(buf, len(p), np.uint64((1 << 16) - 1), np.uint64(0))) + 1
        return tot

    out["grind 70-82 B, 16 bits (per hash)"] = (
        None, lambda: grind(W._grind_blake3), lambda: grind(B.grind_lanes))
    return out


def main(log_n: int, rounds: int) -> None:
    print(f"{'kernel':36s} {'old CPU':>8s} {'new CPU':>8s} {'new/old':>7s} "
          f"{'old wall':>8s} {'new wall':>8s} {'new/old':>7s}")
    for name, (cnt, fo, fn) in cases(log_n).items():
        a, b = fo(), fn()
        assert np.array_equal(np.asarray(a), np.asarray(b)), name
        if cnt is None:
            cnt = int(a)
        res: dict[str, list[float]] = {k: [] for k in ("old", "new", "old w", "new w")}
        for r in range(rounds):
            for who in (("old", "new") if r % 2 == 0 else ("new", "old")):
                f = fo if who == "old" else fn
                t, c = time.perf_counter(), time.process_time()
                f()
                res[who].append((time.process_time() - c) / cnt * 1e9)
                res[who + " w"].append((time.perf_counter() - t) / cnt * 1e9)
        m = {k: statistics.median(v) for k, v in res.items()}
        print(f"{name:36s} {m['old']:8.1f} {m['new']:8.1f} {m['new'] / m['old']:7.3f} "
              f"{m['old w']:8.1f} {m['new w']:8.1f} {m['new w'] / m['old w']:7.3f}",
              flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 18,
         int(sys.argv[2]) if len(sys.argv) > 2 else 5)
