"""Where sys CPU and minor page faults go in the WHIR commitments / openings of a whole
bench-shape prove (not a test): wraps `Whir` methods and `_Tiled.tile` and records per
function (inclusive) calls, wall, process user/sys CPU (getrusage SELF: includes helper
threads) and minor faults; prints them with the whole prove's figures.

    flock /tmp/heavy.lock python tests/bench/h5_sys_probe.py 25m /tmp/h5/p.zkp
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(size: str, out: str) -> None:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi

    stats: dict[str, list[float]] = {}

    def wrap(name, fn):
        def inner(*a, **kw):
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            w0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                s = stats.setdefault(name, [0, 0.0, 0.0, 0.0, 0])
                s[0] += 1
                s[1] += time.perf_counter() - w0
                s[2] += r1.ru_utime - r0.ru_utime
                s[3] += r1.ru_stime - r0.ru_stime
                s[4] += r1.ru_minflt - r0.ru_minflt
        return inner

    for nm in ("commit", "open", "_commit_streamed", "_encode_streamed", "_horner_tiles",
               "_commit_next", "_fold_streamed", "_prove_merged", "_reduce_streamed",
               "_reduce_stack", "_prove_chain"):
        if hasattr(W.Whir, nm):
            setattr(W.Whir, nm, wrap(nm, getattr(W.Whir, nm)))
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
        "minflt": r1.ru_minflt - r0.ru_minflt,
        "rss_gib": round(r1.ru_maxrss / 2**20, 2),
        "timings": {k: round(v, 2) for k, v in res.timings.items()},
        "calls": {k: {"n": v[0], "wall": round(v[1], 2), "user": round(v[2], 2),
                      "sys": round(v[3], 2), "minflt": v[4]} for k, v in stats.items()}},
        indent=1), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
