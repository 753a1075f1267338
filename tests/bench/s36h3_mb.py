"""The streamed commitment's first step, old (copy, max, `mobius_low`, tile transpose)
against `mobius_rows_tiles` (not a test).

    flock /tmp/heavy.lock python tests/bench/s36h3_mb.py [ROUNDS]

At the 84m / 25m table shapes (n = 22: T = 2^11, cb = 512; n = 23: 2^12 / 512 in blocks
of 2^22; n = 20: 2^10, one tile), preallocated buffers as `_commit_streamed` reuses
them; alternating, medians of wall and process CPU, ns per element."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def main(rounds: int) -> None:
    from zklora.kernels import whir as K
    from zklora.kernels.goldilocks import P_INT

    rng = np.random.default_rng(1)
    for n, lt, cb, per in ((22, 11, 512, 2048), (23, 12, 512, 1024), (20, 10, 1024, 1024)):
        T = 1 << lt
        src = rng.integers(0, P_INT, size=1 << n, dtype=np.uint64)
        src.flags.writeable = False
        rows = np.empty(per * T, np.uint64)
        tiles = np.empty(per * T, np.uint64)
        nt = T // cb

        def old(src=src, lt=lt, per=per, T=T, rows=rows, tiles=tiles, nt=nt, cb=cb):
            top = 0
            for v0 in range(0, src.size >> lt, per):
                s = src[v0 * T:(v0 + per) * T]
                x = rows[:s.size]
                np.copyto(x, s)
                top = max(top, int(x.max()))
                K.mobius_low(x, lt)
                if nt > 1:
                    y = tiles[:s.size].reshape(nt, -1, cb)
                    np.copyto(y, x.reshape(-1, nt, cb).transpose(1, 0, 2))
            return top

        def new(src=src, lt=lt, per=per, T=T, rows=rows, nt=nt, cb=cb):
            top = 0
            for v0 in range(0, src.size >> lt, per):
                s = src[v0 * T:(v0 + per) * T]
                x = rows[:s.size].reshape(nt, -1, cb)
                top = max(top, K.mobius_rows_tiles(s, x, lt, cb))
            return top

        old(), new()
        res = {"old": [], "new": []}
        for r in range(rounds):
            for name, fn in (("old", old), ("new", new)) if r % 2 == 0 else \
                    (("new", new), ("old", old)):
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                res[name].append((time.perf_counter() - w0, time.process_time() - c0))
        N = 1 << n
        mo = [statistics.median(x[i] for x in res["old"]) for i in (0, 1)]
        mn = [statistics.median(x[i] for x in res["new"]) for i in (0, 1)]
        print(f"n={n} T=2^{lt} cb={cb}: old wall {mo[0] * 1e3:.1f} ms cpu {mo[1] * 1e3:.1f} ms "
              f"({mo[1] / N * 1e9:.2f} ns/el)  new wall {mn[0] * 1e3:.1f} cpu {mn[1] * 1e3:.1f} "
              f"({mn[1] / N * 1e9:.2f} ns/el)  new/old wall {mn[0] / mo[0]:.3f} cpu "
              f"{mn[1] / mo[1]:.3f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
