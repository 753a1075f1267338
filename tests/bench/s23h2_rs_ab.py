"""`ntt.rs_encode_cols` of an old tree against this one at given shapes
(k,W,rows,rate_log), interleaved round by round, outputs asserted equal, median process
CPU ns per output point.

    flock /tmp/heavy.lock .venv/bin/python tests/bench/s23h2_rs_ab.py /tmp/s23h2old 7 \\
        128,8192,512,5 256,8192,512,5 128,8192,512,4
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


def main(old: str, rounds: int, shapes: list[str]) -> None:
    load_old(old)
    NO = importlib.import_module("oldk.ntt")
    from zklora.kernels import ntt as NN

    rng = np.random.default_rng(5)
    for k, W, rows, rl in (tuple(int(x) for x in s.split(",")) for s in shapes):
        Y = rng.integers(0, P, size=(k, W), dtype=np.uint64)
        Y.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
        col = np.arange(rows, dtype=np.int64)
        a, b = NO.rs_encode_cols(Y, col, rl), NN.rs_encode_cols(Y, col, rl)
        assert np.array_equal(a, b)
        co, cn = [], []
        for _ in range(rounds):
            for fn, o, acc in ((NO.rs_encode_cols, a, co), (NN.rs_encode_cols, b, cn)):
                c0 = time.process_time()
                for _ in range(3):
                    fn(Y, col, rl, out=o)
                acc.append((time.process_time() - c0) / 3)
        assert np.array_equal(a, b)
        mo, mn = statistics.median(co), statistics.median(cn)
        print(f"k={k} W={W} rows={rows} r{rl}: old {mo / a.size * 1e9:6.2f} "
              f"new {mn / a.size * 1e9:6.2f} ns/pt ratio {mn / mo:6.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
