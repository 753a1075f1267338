"""`ntt.rs_encode_cols` and `whir.twist_dft_tiles` at the 25m / 84m streamed
commitments' shapes: an old tree's kernels against this tree's in one process, interleaved
round by round on the same inputs (outputs asserted equal), median process CPU per output
point.

    flock /tmp/heavy.lock python tests/bench/s22h2_enc_ab.py /tmp/s22h2old [ROUNDS] [rs|tw]

Shapes (k, W, rows, rate_log): the base / commitments tiles (2^13 and 2^11 rows of
128 / 512 columns at rate 1/2), `_commit_next`'s interleaved two-component view
(columns 2c + comp of a 2^13-wide matrix), the small high-rate tables; `twist_dft_tiles`
(d, lt, cb, held tiles, file tiles, block rows) as the 25m commitments call it."""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from commit_kernels_ab import load_old  # noqa: E402

P = 0xFFFFFFFF00000001
SHAPES = ((8192, 128, 128, 1), (2048, 512, 512, 1), (2048, 8192, 256, 2),
          (128, 8192, 512, 5), (16, 4096, 512, 8))
TILES = ((27, 13, 128, 4, 60, 256), (23, 11, 512, 4, 0, 1024), (25, 12, 128, 4, 28, 256))


def _ab(name, npts, fo, fn, rounds):
    co, cn = [], []
    for _ in range(rounds):
        for f, acc in ((fo, co), (fn, cn)):
            c0 = time.process_time()
            for _ in range(3):
                f()
            acc.append((time.process_time() - c0) / 3)
    mo, mn = statistics.median(co), statistics.median(cn)
    print(f"{name}: old {mo / npts * 1e9:6.2f} new {mn / npts * 1e9:6.2f} CPU ns/pt  "
          f"ratio {mn / mo:6.3f}", flush=True)


def tiles(rounds: int) -> None:
    WO = importlib.import_module("oldk.whir")
    from zklora.kernels import ntt as NN
    from zklora.kernels import whir as WN

    rng = np.random.default_rng(7)
    for d, lt, cb, held, nf, per in TILES:
        T = 1 << lt
        S = (1 << d) >> lt
        ram = rng.integers(0, P, size=(held, S, cb), dtype=np.uint64)
        piece = rng.integers(0, P, size=(nf, per, cb), dtype=np.uint64)
        wa = NN.powers(NN.root_of_unity(d), S)
        a0 = S // 2
        a = np.empty((per * T // 16, 16), dtype=np.uint64)
        b = np.empty_like(a)

        def fo():
            WO.twist_dft_tiles(ram, piece, a0, per, d, 4, lt, cb, wa, a)  # noqa: B023

        def fn():
            WN.twist_dft_tiles(ram, piece, a0, per, d, 4, lt, cb, wa, b)  # noqa: B023
        fo()
        fn()
        assert np.array_equal(a, b), (d, lt, cb)
        _ab(f"twist_dft_tiles d={d} T=2^{lt} cb={cb} rows={per}", a.size, fo, fn, rounds)
        assert np.array_equal(a, b)


def main(old: str, rounds: int, only: str = "") -> None:
    load_old(old)
    if only in ("", "tw"):
        tiles(rounds)
    if only == "tw":
        return
    NO = importlib.import_module("oldk.ntt")
    from zklora.kernels import ntt as NN

    rng = np.random.default_rng(5)
    for k, W, rows, rl in SHAPES:
        Y = rng.integers(0, P, size=(k, W), dtype=np.uint64)
        Y.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
        col = (np.arange(rows, dtype=np.int64) * 2 + 64) if W == 8192 and k == 2048 \
            else np.arange(rows, dtype=np.int64)
        a, b = NO.rs_encode_cols(Y, col, rl), NN.rs_encode_cols(Y, col, rl)
        assert np.array_equal(a, b), (k, W, rows, rl)
        co, cn = [], []
        for _ in range(rounds):
            for fn, o, acc in ((NO.rs_encode_cols, a, co), (NN.rs_encode_cols, b, cn)):
                c0 = time.process_time()
                for _ in range(3):
                    fn(Y, col, rl, out=o)
                acc.append((time.process_time() - c0) / 3)
        assert np.array_equal(a, b)
        mo, mn = statistics.median(co), statistics.median(cn)
        print(f"rs_encode_cols k={k} W={W} rows={rows} r{rl}: old {mo / a.size * 1e9:6.2f} "
              f"new {mn / a.size * 1e9:6.2f} CPU ns/pt  ratio {mn / mo:6.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5,
         sys.argv[3] if len(sys.argv) > 3 else "")
