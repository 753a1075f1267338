"""The WHIR encoder kernels of an old tree against this one, interleaved round by round,
outputs asserted equal, median process CPU ns per output point:
`ntt.rs_encode_cols` (shapes ``rs:k,W,rows,rate_log``) and `whir.twist_dft_tiles`
(``tw:log_T,cb,ncomp,log_domain,per``, all tiles in RAM, K = 16 leaves).

    cd NEWTREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \\
        tests/bench/s24h1_enc_ab.py /tmp/s24h1old 7 rs:2048,512,512,1 rs:4096,256,256,1 \\
        rs:1024,8192,8192,2 tw:11,512,2,20,64 tw:13,256,2,22,16
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

P = 0xFFFFFFFF00000001


def _rs_case(mod, rng, k: int, W: int, rows: int, rl: int):
    Y = rng.integers(0, P, size=(k, W), dtype=np.uint64)
    Y.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
    col = np.arange(rows, dtype=np.int64)
    out = np.empty((k << rl, rows), dtype=np.uint64)
    return (lambda N: (lambda: N.rs_encode_cols(Y, col, rl, out=out))), out


def _tw_case(rng, lt: int, cb: int, ncomp: int, d: int, per: int):
    T = 1 << lt
    S = (1 << d) >> lt
    nt = T // cb
    ram = rng.integers(0, P, size=(nt, S, ncomp * cb), dtype=np.uint64)
    ram.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
    piece = np.empty((0, per, ncomp * cb), dtype=np.uint64)
    out = np.empty(((T // 16) * per, 16 * ncomp), dtype=np.uint64)

    def make(N, W):
        wa = N.powers(N.root_of_unity(d), S)
        return lambda: W.twist_dft_tiles(ram, piece, 0, per, d, 4, lt, cb, wa, out)
    return make, out


def main(old: str, rounds: int, shapes: list[str]) -> None:
    load_old(old)
    NO = importlib.import_module("oldk.ntt")
    WO = importlib.import_module("oldk.whir")
    from zklora.kernels import ntt as NN
    from zklora.kernels import whir as WN

    rng = np.random.default_rng(5)
    for spec in shapes:
        kind, args = spec.split(":")
        a = tuple(int(x) for x in args.split(","))
        if kind == "rs":
            make, out = _rs_case(None, rng, *a)
            fo, fn = make(NO), make(NN)
        else:
            make, out = _tw_case(rng, *a)
            fo, fn = make(NO, WO), make(NN, WN)
        fo()
        ro = out.copy()
        fn()
        assert np.array_equal(ro, out), spec
        co, cn = [], []
        for _ in range(rounds):
            for f, acc in ((fo, co), (fn, cn)):
                c0 = time.process_time()
                for _ in range(3):
                    f()
                acc.append((time.process_time() - c0) / 3)
        fn()
        assert np.array_equal(ro, out), spec
        mo, mn = statistics.median(co), statistics.median(cn)
        print(f"{spec}: old {mo / out.size * 1e9:6.2f} new {mn / out.size * 1e9:6.2f} "
              f"ns/pt ratio {mn / mo:6.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
