"""Where the WHIR openings' time goes in a whole bench-shape prove (not a test): wraps
`Whir` methods, `Tree.rows` / `Tree.paths` / `Tree.discard`, `_pread`, `Store.discard`
and a few kernels, recording per function (inclusive) calls, wall, process user/sys CPU
(getrusage SELF: helper threads included) and bytes where it applies.

    flock /tmp/heavy.lock python tests/bench/s19h1_probe.py 25m /tmp/s19h1/p.zkp
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(size: str, out: str) -> None:
    from zklora.kernels import whir_eq as QE
    from zklora.kernels import whir_sumcheck as SC
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi, scratch

    stats: dict[str, list[float]] = {}

    def wrap(name, fn, size=None):
        def inner(*a, **kw):
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            w0 = time.perf_counter()
            try:
                res = fn(*a, **kw)
                return res
            finally:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                s = stats.setdefault(name, [0, 0.0, 0.0, 0.0, 0, 0])
                s[0] += 1
                s[1] += time.perf_counter() - w0
                s[2] += r1.ru_utime - r0.ru_utime
                s[3] += r1.ru_stime - r0.ru_stime
                s[4] += r1.ru_majflt - r0.ru_majflt
                if size is not None:
                    s[5] += size(a, kw)
        return inner

    for nm in ("commit", "open", "_commit_streamed", "_encode_streamed", "_horner_tiles",
               "_commit_next", "_fold_streamed", "_prove_merged", "_reduce_streamed",
               "_prove_chain", "_prove_head", "_fold_coeffs"):
        setattr(W.Whir, nm, wrap(nm, getattr(W.Whir, nm)))
    W.Tree.rows = wrap("Tree.rows", W.Tree.rows, lambda a, kw: len(a[1]))
    W.Tree.paths = wrap("Tree.paths", W.Tree.paths, lambda a, kw: len(a[1]))
    W.Tree.discard = wrap("Tree.discard", W.Tree.discard)
    W._pread = wrap("_pread", W._pread, lambda a, kw: a[1].nbytes)
    W._read_base = wrap("_read_base", W._read_base, lambda a, kw: a[2] - a[1])
    scratch.Store.discard = wrap("Store.discard", scratch.Store.discard)
    scratch.Store.close = wrap("Store.close", scratch.Store.close)
    scratch.Store.save = wrap("Store.save", scratch.Store.save)
    QE.eq_rows = wrap("eq_rows", QE.eq_rows, lambda a, kw: a[4] - a[3])
    SC.round_ = wrap("SC.round_", SC.round_, lambda a, kw: a[0].shape[0])
    SC.fold_round = wrap("SC.fold_round", SC.fold_round, lambda a, kw: a[0].shape[0])
    SC.fold = wrap("SC.fold", SC.fold, lambda a, kw: a[0].shape[0])
    QE.fold_eq = wrap("fold_eq", QE.fold_eq, lambda a, kw: a[0].shape[0])
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, a = bench._write_checkpoint(Path(tmp), shape)
        extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        res = pyapi.prove(model=str(m), adapter=str(a), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq, **extra}},
                          out=Path(out), progress=None)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "prove_wall": round(wall, 2), "user": round(r1.ru_utime - r0.ru_utime, 2),
        "sys": round(r1.ru_stime - r0.ru_stime, 2),
        "rss_gib": round(r1.ru_maxrss / 2**20, 2),
        "timings": {k: round(v, 2) for k, v in res.timings.items()}}), flush=True)
    for k, v in stats.items():
        print(f"{k:22s} n={v[0]:6d} wall={v[1]:7.2f} user={v[2]:7.2f} sys={v[3]:6.2f} "
              f"majflt={v[4]:6d} size={v[5]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
