"""The WHIR encoding kernels at the 25m / 84m streamed commit's shapes: an old tree's
kernels (``ntt.rs_encode``, ``whir.twist_dft_block``) against this tree's in one process,
interleaved round by round on the same inputs (outputs asserted equal), CPU and wall
medians per output point.

    git worktree add /tmp/s20h2old <rev>
    flock /tmp/heavy.lock python tests/bench/s20h2_enc_ab.py /tmp/s20h2old [ROUNDS] [only]

Shapes: `Whir._encode_streamed`'s tiles (rows of 2^11 / 2^13 columns at rate 1/2: the
2^22 / 2^26 tables; 2-component rows of the openings' folded tables) and one block of
`twist_dft_block` rows (1024 rows of 2^11, 256 of 2^13; leaves of 16)."""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from commit_kernels_ab import load_old  # noqa: E402

P = np.uint64(0xFFFFFFFF00000001)
RS = ((512, 11, 1), (128, 13, 1), (1024, 10, 1), (256, 12, 1))
TW = ((23, 4, 11, 1024, 1), (27, 4, 13, 256, 1), (21, 4, 10, 1024, 2))


def _edge(rng, shape):
    x = rng.integers(0, 2**63, size=shape, dtype=np.uint64) % P
    f = x.reshape(-1)
    f[:6] = [0, 1, int(P) - 1, int(P) - 2, 0, int(P) - 1]
    return x


def _time(fn, rounds, reps=3):
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.process_time() - c0) / reps, (time.perf_counter() - w0) / reps


def _ab(name, npts, fo, fn, rounds):
    co, cn, wo, wn = [], [], [], []
    for _ in range(rounds):
        c, w = _time(fo, rounds)
        co.append(c)
        wo.append(w)
        c, w = _time(fn, rounds)
        cn.append(c)
        wn.append(w)
    mo, mn = statistics.median(co), statistics.median(cn)
    print(f"{name:32s} old {mo / npts * 1e9:7.2f} new {mn / npts * 1e9:7.2f} CPU ns/pt  "
          f"ratio {mn / mo:6.3f}  wall ratio {statistics.median(wn) / statistics.median(wo):6.3f}"
          f"  (old {mo * 1e3:.1f} ms)", flush=True)


def main(old: str, rounds: int, only: str) -> None:
    load_old(old)
    NO = importlib.import_module("oldk.ntt")
    WO = importlib.import_module("oldk.whir")
    from zklora.kernels import ntt as NN
    from zklora.kernels import whir as WN

    rng = np.random.default_rng(3)
    if only in ("", "rs"):
        for rows, logk, rate in RS:
            M = _edge(rng, (rows, 1 << logk))
            a, b = NO.rs_encode(M, rate), NN.rs_encode(M, rate)
            assert np.array_equal(a, b), (rows, logk, rate)
            _ab(f"rs_encode {rows} x 2^{logk} r{rate}", a.size,
                lambda: NO.rs_encode(M, rate, out=a), lambda: NN.rs_encode(M, rate, out=b),  # noqa: B023
                rounds)
    if only in ("", "tw"):
        for d, k, lt, rows, ncomp in TW:
            T, S, Kl = 1 << lt, (1 << d) >> lt, 1 << k
            blk = _edge(rng, (rows, ncomp * T))
            wa = NN.powers(NN.root_of_unity(d), S)
            a0 = S // 2 - rows // 2 - 3
            a, b = (np.empty(((T // Kl) * rows, Kl * ncomp), dtype=np.uint64) for _ in range(2))
            WO.twist_dft_block(blk, a0, d, k, lt, wa, a, local=True)
            WN.twist_dft_block(blk, a0, d, k, lt, wa, b, local=True)
            assert np.array_equal(a, b), (d, k, lt, rows, ncomp)
            _ab(f"twist_dft_block {rows} x 2^{lt} c{ncomp}", a.size,
                lambda: WO.twist_dft_block(blk, a0, d, k, lt, wa, a, local=True),  # noqa: B023
                lambda: WN.twist_dft_block(blk, a0, d, k, lt, wa, b, local=True),  # noqa: B023
                rounds)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7,
         sys.argv[3] if len(sys.argv) > 3 else "")
