"""`ntt.rs_encode` at the streamed WHIR commit's shapes: an old tree's kernel against this
tree's, in one process, interleaved (outputs asserted equal), CPU and wall medians.

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/h3_ntt_ab.py /tmp/old [ROUNDS]

Shapes: the tiles of `Whir._encode_streamed` at 2^26 (128 rows of 2^13, rate 1/2) and
2^22 (512 rows of 2^11), and 2^12 rows of 2^11; then `kernels.whir.twist_dft_block`
(which runs `ntt._dif_inplace` on every row) on one block of the 2^26 commit's rows
(256 rows of 2^13, domain 2^27, leaves of 16)."""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from commit_kernels_ab import load_old  # noqa: E402

SHAPES = ((128, 13, 1), (512, 11, 1), (4096, 11, 1))


def main(old: str, rounds: int) -> None:
    load_old(old)
    NO = importlib.import_module("oldk.ntt")
    from zklora.kernels import ntt as NN

    rng = np.random.default_rng(3)
    P = np.uint64(0xFFFFFFFF00000001)
    print(f"{'rows':>5s} {'log k':>5s} {'rate':>4s} {'old CPU ns/pt':>14s} {'new':>8s} "
          f"{'ratio':>6s} {'wall ratio':>10s}")
    for rows, logk, rate in SHAPES:
        M = rng.integers(0, 2**63, size=(rows, 1 << logk), dtype=np.uint64) % P
        a, b = NO.rs_encode(M, rate), NN.rs_encode(M, rate)
        assert np.array_equal(a, b), (rows, logk, rate)
        co, cn, wo, wn = [], [], [], []
        for _ in range(rounds):
            for mod, out, cl, wl in ((NO, a, co, wo), (NN, b, cn, wn)):
                c0, w0 = time.process_time(), time.perf_counter()
                for _ in range(4):
                    mod.rs_encode(M, rate, out=out)
                cl.append((time.process_time() - c0) / 4)
                wl.append((time.perf_counter() - w0) / 4)
        mo, mn = statistics.median(co), statistics.median(cn)
        print(f"{rows:5d} {logk:5d} {rate:4d} {mo / a.size * 1e9:14.2f} "
              f"{mn / a.size * 1e9:8.2f} {mn / mo:6.3f} "
              f"{statistics.median(wn) / statistics.median(wo):10.3f}", flush=True)

    # twist_dft_block: one row block of the streamed 2^26 commit
    WO, WN = importlib.import_module("oldk.whir"), importlib.import_module("zklora.kernels.whir")
    d, k, lt, rows = 27, 4, 13, 256
    T, S, Kl = 1 << lt, (1 << d) >> lt, 1 << k
    blk = rng.integers(0, 2**63, size=(rows, T), dtype=np.uint64) % P
    wa = NN.powers(NN.root_of_unity(d), S)
    a, b = (np.empty(((T // Kl) * rows, Kl), dtype=np.uint64) for _ in range(2))
    WO.twist_dft_block(blk, 512, d, k, lt, wa, a, local=True)
    WN.twist_dft_block(blk, 512, d, k, lt, wa, b, local=True)
    assert np.array_equal(a, b)
    co, cn, wo, wn = [], [], [], []
    for _ in range(rounds):
        for mod, out, cl, wl in ((WO, a, co, wo), (WN, b, cn, wn)):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(4):
                mod.twist_dft_block(blk, 512, d, k, lt, wa, out, local=True)
            cl.append((time.process_time() - c0) / 4)
            wl.append((time.perf_counter() - w0) / 4)
    mo, mn = statistics.median(co), statistics.median(cn)
    print(f"twist_dft_block {rows} x 2^{lt}: old {mo / a.size * 1e9:.2f} new "
          f"{mn / a.size * 1e9:.2f} CPU ns/pt, ratio {mn / mo:.3f}, wall ratio "
          f"{statistics.median(wn) / statistics.median(wo):.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7)
