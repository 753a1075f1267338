"""The WHIR encoder's kernels at the prove's shapes against a butterfly floor (not a test).

    cd TREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \
        tests/bench/s28h3_enc_mb.py [REPS] [SHAPE ...]

SHAPE: ``rs:k,W,rate_log`` (`ntt.rs_encode_cols` of W columns of a (k, W) matrix) or
``tw:log_split,cb,log_domain,rows`` (`kernels.whir.twist_dft_tiles`, every tile in RAM,
leaves of 16) or ``floor`` (`ntt._bfly_run` on an L1-resident run, the general-product
butterfly as numba vectorises it).  Prints the median process CPU per codeword point and
per radix-2 butterfly (log2(n)/2 a point; the threads' CPU summed).
"""

from __future__ import annotations

import resource
import statistics
import sys

import numpy as np
from numba import njit

P = (1 << 64) - (1 << 32) + 1


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rand(shape, seed=1) -> np.ndarray:
    g = np.random.default_rng(seed)
    return (g.integers(0, 1 << 63, size=shape, dtype=np.uint64) * 2 % np.uint64(P)
            ).astype(np.uint64)


def _time(fn, reps: int) -> float:
    fn()
    ts = []
    for _ in range(reps):
        c0 = _cpu()
        fn()
        ts.append(_cpu() - c0)
    return statistics.median(ts)


def _floor_loop(lo, hi, tw, n, reps):
    from zklora.kernels.ntt import _bfly_run

    @njit(cache=False)
    def loop(lo, hi, tw, n, reps):
        for _ in range(reps):
            _bfly_run(lo, hi, tw, n)
    loop(lo, hi, tw, n, 1)
    return lambda: loop(lo, hi, tw, n, reps)


def _rs_case(v: list[int], reps: int) -> tuple[float, int, int]:
    from zklora.kernels import ntt

    k, W, rl = v
    Y = _rand((k, W))
    col = np.arange(W, dtype=np.int64)
    out = np.empty((k << rl, W), dtype=np.uint64)
    t = _time(lambda: ntt.rs_encode_cols(Y, col, rl, out=out), reps)
    return t, (k << rl) * W, k.bit_length() - 1


def _tw_case(v: list[int], reps: int) -> tuple[float, int, int]:
    from zklora.kernels import ntt
    from zklora.kernels import whir as K

    lt, cb, d, rows = v
    T = 1 << lt
    S = (1 << d) >> lt
    ram = _rand((T // cb, S, cb))
    piece = np.empty((0, rows, cb), dtype=np.uint64)
    wa = ntt.powers(ntt.root_of_unity(d), S)
    out = np.empty((rows * T // 16, 16), dtype=np.uint64)

    def run():
        for a0 in range(0, S, rows):
            K.twist_dft_tiles(ram, piece, a0, rows, d, 4, lt, cb, wa, out)
    return _time(run, reps), S * T, lt


def main(reps: int, shapes: list[str]) -> None:
    for sh in shapes:
        if sh == "floor":
            n, inner = 1024, 20000
            lo, hi, tw = _rand(n, 1), _rand(n, 2), _rand(n, 3)
            t = _time(_floor_loop(lo, hi, tw, n, inner), reps)
            print(f"floor _bfly_run n={n}: {t / (n * inner) * 1e9:.3f} ns/butterfly")
            continue
        kind, args = sh.split(":")
        v = [int(x) for x in args.split(",")]
        t, pts, lg = (_rs_case if kind == "rs" else _tw_case)(v, reps)
        print(f"{sh:24s} {t * 1e3:8.1f} ms  {t / pts * 1e9:6.2f} ns/pt  "
              f"{t / pts / (lg / 2) * 1e9:6.3f} ns/butterfly")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5, sys.argv[2:] or ["floor"])
