"""`ntt.rs_encode_cols` at the 25m / 84m streamed commitments' shapes: an old tree's
kernel against this tree's in one process, interleaved round by round on the same inputs
(outputs asserted equal), median process CPU per output point.

    flock /tmp/heavy.lock python tests/bench/s22h2_enc_ab.py /tmp/s22h2old [ROUNDS]

Shapes (k, W, rows, rate_log): the base / commitments tiles (2^13 and 2^11 rows of
128 / 512 columns at rate 1/2), `_commit_next`'s interleaved two-component view
(columns 2c + comp of a 2^13-wide matrix), the small high-rate tables."""

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


def main(old: str, rounds: int) -> None:
    load_old(old)
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
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
