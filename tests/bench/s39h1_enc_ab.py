"""`ntt.rs_encode_cols` with the lane kernel's last six stages by `_lane_tail64` (shift
products, `ntt.LANE64`) against the old stages (`_lane_r4` / `_lane_stage` /
`_lane_tails`), in one process, interleaved, outputs compared (not a test; s39h1, from
s38h2_enc_ab.py).

    PYTHONPATH=. python tests/bench/s39h1_enc_ab.py ROUNDS K,W,NCOL,STRIDE,RATE_LOG ...

The call shapes of the 25m / 84m proves (logged from `rs_encode_cols` in a prove):
2048,512,512,1,1 (the base model's tiles), 2048,4096,512,2,1 (extension tiles, two
components interleaved), 8192,128,128,1,1 (the witness tiles).  ``out`` is a reused
4096-byte aligned array as in `Whir._encode_streamed`.  Prints per shape the median /
best wall and CPU ns per codeword point of each setting and the new/old ratio."""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

from zklora.kernels import ntt

#: the switch compared (off = old, on = new); AB_FLAG=LANE16 compares `_lane_r16`
FLAG = os.environ.get("AB_FLAG", "LANE64")


def setup(k: int, W: int, ncol: int, cs: int, rl: int):
    rng = np.random.default_rng(1)
    Y = rng.integers(0, ntt.P_INT, (k, W), dtype=np.uint64)
    if cs == 1:
        col = np.arange(ncol, dtype=np.int64)
    else:   # ncomp = cs components interleaved: message comp·cb + c is column c·cs + comp
        col = (np.arange(ncol // cs, dtype=np.int64)[None, :] * cs +
               np.arange(cs, dtype=np.int64)[:, None]).reshape(-1)
    n = (k << rl) * ncol
    raw = np.empty(n + 512, dtype=np.uint64)
    sk = (-raw.ctypes.data % 4096) // 8
    return Y, col, rl, raw[sk:sk + n].reshape(k << rl, ncol)


def main(rounds: int, shapes: list[str]) -> None:
    for sh in shapes:
        Y, col, rl, out = setup(*(int(x) for x in sh.split(",")))
        res: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        got = {}
        for nt in (False, True):
            setattr(ntt, FLAG, nt)
            got[nt] = ntt.rs_encode_cols(Y, col, rl, out=out).copy()
        assert np.array_equal(got[False], got[True])
        for r in range(rounds):
            for nt in ((False, True) if r % 2 == 0 else (True, False)):
                setattr(ntt, FLAG, nt)
                w0, c0 = time.perf_counter(), time.process_time()
                ntt.rs_encode_cols(Y, col, rl, out=out)
                res[nt].append((time.perf_counter() - w0, time.process_time() - c0))
        setattr(ntt, FLAG, True)
        npts = out.size
        med = {nt: [statistics.median(x[i] for x in res[nt]) for i in (0, 1)]
               for nt in res}
        for nt in (False, True):
            w = [x[0] for x in res[nt]]
            print(f"{sh} {'new' if nt else 'old'}: wall ms med {1e3 * med[nt][0]:.2f} "
                  f"best {1e3 * min(w):.2f}; CPU ns/pt med {1e9 * med[nt][1] / npts:.2f}")
        print(f"{sh} new/old: wall {med[True][0] / med[False][0]:.3f} "
              f"CPU {med[True][1] / med[False][1]:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
