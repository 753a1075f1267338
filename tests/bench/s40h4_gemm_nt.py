"""s40h4: CPU of `int_gemm.gemm_nt` at the 84m prove's X·Wᵀ shapes (median of 15 calls,
process time; values of <= 21 bits like the bench's).  Run in two trees, interleaved:
``cd TREE && PYTHONPATH=TREE .venv/bin/python tests/bench/s40h4_gemm_nt.py``."""
import time

import numpy as np

from zklora.kernels.int_gemm import gemm_nt, gemm_nt_ref

#: (T, K, N, calls a prove) of the 84m prove from the prover cache (s40h4's log)
SHAPES = [(32, 1024, 4096, 8), (32, 1024, 1024, 16), (32, 4096, 1024, 4), (32, 1024, 8192, 1)]


def main():
    rng = np.random.default_rng(0)
    tot = 0.0
    for T, K, N, calls in SHAPES:
        x = rng.integers(-(1 << 20), 1 << 20, (T, K), dtype=np.int64)
        w = rng.integers(-(1 << 18), 1 << 18, (N, K), dtype=np.int64)
        out = np.empty((T, N), np.int64)
        gemm_nt(x, w, out)
        assert np.array_equal(out, gemm_nt_ref(x, w))
        ts = []
        for _ in range(15):
            t = time.process_time()
            gemm_nt(x, w, out)
            ts.append(time.process_time() - t)
        m = float(np.median(ts)) * 1e3
        tot += m * calls
        print(f"{T}x{K} . ({N}x{K})^T: {m:.2f} ms")
    print(f"a prove's gemm_nt calls: {tot:.0f} ms")


if __name__ == "__main__":
    main()
