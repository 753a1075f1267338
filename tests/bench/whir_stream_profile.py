"""cProfile of WHIR commits + one batched opening on the streamed (scratch-file) paths
that a real prove takes (not a test).

    flock /tmp/heavy.lock python tests/bench/whir_stream_profile.py [SIZES] [TOP] [OPEN_BYTES]
    PYTHONPATH=/tmp/old python tests/bench/whir_stream_profile.py ...   # another tree

Inside a scratch session whose spill threshold is 0 (every table of ≥ 2^12 entries is
committed with `_commit_streamed`, every large codeword with `_encode_streamed`), commits
random base tables of the comma-separated log SIZES (default 20,20,20,20,18,18), two
claims each, and opens them in one batch with ``ZKLORA_OPEN_BYTES`` = OPEN_BYTES (default
4 MiB: the streamed reduction `_reduce_streamed` / `_fold_streamed`).  A warm-up at small
sizes loads the numba caches first.  Prints commit / open wall and CPU, the proof's
SHA-256 and the TOP (default 30) functions by own time."""

from __future__ import annotations

import cProfile
import hashlib
import os
import pstats
import sys
import time

import numpy as np


def run(sizes: list[int], prof: cProfile.Profile | None = None) -> dict:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import mle, scratch
    from zklora.zkcore.commit import Evaluation, OpenItem
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    E = F.ext
    rng = np.random.default_rng(7)
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    tabs = [F.random(rng, 1 << n) for n in sizes]
    evs = [[Evaluation(r, mle.evaluate(E, t, r, base=True))
            for r in (E.random(rng, t.shape[0].bit_length() - 1) for _ in range(2))]
           for t in tabs]
    with scratch.session(threshold=0):
        if prof:
            prof.enable()
        w0, c0 = time.perf_counter(), time.process_time()
        sts = [s.commit(t)[1] for t in tabs]
        w1, c1 = time.perf_counter(), time.process_time()
        ch = ProverChannel(Transcript(b"whir_stream_profile"))
        s.open(ch, [OpenItem(st, e) for st, e in zip(sts, evs)])
        w2, c2 = time.perf_counter(), time.process_time()
        if prof:
            prof.disable()
    return {"commit wall": w1 - w0, "commit CPU": c1 - c0, "open wall": w2 - w1,
            "open CPU": c2 - c1,
            "sha": hashlib.sha256(ch.proof_bytes()).hexdigest()[:24]}


def main(sizes: list[int], top: int) -> None:
    run([14, 14, 13])
    prof = cProfile.Profile()
    res = run(sizes, prof)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()})
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    os.environ.setdefault("ZKLORA_OPEN_BYTES",
                          sys.argv[3] if len(sys.argv) > 3 else str(4 << 20))
    main([int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else
                           "20,20,20,20,18,18").split(",")],
         int(sys.argv[2]) if len(sys.argv) > 2 else 30)
