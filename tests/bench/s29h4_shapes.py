"""Call shapes and process CPU of the WHIR opening's eq / split kernels in one proven
step (not a test; s29h4).

    flock /tmp/heavy.lock python tests/bench/s29h4_shapes.py [SIZE]

Proves the `zklora bench` shape SIZE (default 25m; ZK off, profile fast = WHIR) with
wrappers around `whir_eq.pow_eq_accumulate` (m, q), `eq_combination` (m, q), `eq_rows`
(a, q, rows), `_seg_fin` (claims, run entries, j) and `whir_open._lincomb_fold`
(T·2^j, j, outputs); prints per shape the calls and their process CPU (both threads)."""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO
from zklora.zkcore import bench, pyapi

calls: collections.Counter = collections.Counter()
cpu: collections.Counter = collections.Counter()


def _wrap(mod, name: str, key) -> None:
    fn = getattr(mod, name)

    def w(*a, **k):
        c0 = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            kk = (name,) + key(*a, **k)
            calls[kk] += 1
            cpu[kk] += time.process_time() - c0
    setattr(mod, name, w)


def main(size: str) -> None:
    _wrap(QE, "pow_eq_accumulate", lambda out, zs, c: (out.shape[0].bit_length() - 1,
                                                        len(zs)))
    _wrap(QE, "eq_combination", lambda out, p, c, overwrite=False:
          (out.shape[0].bit_length() - 1, p.shape[0]))
    _wrap(QE, "eq_rows", lambda A, B, a, lo, hi, out=None: (a, A.shape[0], hi - lo))
    _wrap(QE, "_seg_fin", lambda ks, grp, gT, loff, L0, L1, aoff, A0, A1, j, X:
          (len(ks), int(A0.shape[0]), j))
    _wrap(WO, "_lincomb_fold", lambda tabs, C0, C1, j, out, L: (C0.shape[0], j,
                                                                 out.shape[0]))
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                    zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq}},
                    out=Path(tmp) / "p.zkp")
    for k in sorted(calls):
        print(k, calls[k], f"{cpu[k]:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "25m")
