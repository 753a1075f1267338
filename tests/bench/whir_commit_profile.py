"""Time split of one WHIR commit + opening at scale (the default `fast` parameters:
regime conjectured), under cProfile.

    flock /tmp/heavy.lock python tests/bench/whir_commit_profile.py [LOG_N] [TOP]
    PYTHONPATH=/tmp/old python tests/bench/whir_commit_profile.py ...   # another tree

Commits a random base table of 2^LOG_N entries (default 22), opens it at two random
extension points, prints commit / open wall and CPU seconds (a warm-up run at 2^14
first, so numba caches are loaded), proof bytes and the TOP (default 25) functions by
own time."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import numpy as np


def run(n: int, prof: cProfile.Profile | None = None) -> dict:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import mle
    from zklora.zkcore.commit import Evaluation, OpenItem
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    E = F.ext
    rng = np.random.default_rng(n)
    s = W.Whir(F, {"regime": "conjectured"})
    t = F.random(rng, 1 << n)
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True))
           for r in (E.random(rng, n) for _ in range(2))]
    if prof:
        prof.enable()
    w0, c0 = time.perf_counter(), time.process_time()
    com, st = s.commit(t)
    w1, c1 = time.perf_counter(), time.process_time()
    ch = ProverChannel(Transcript(b"whir_commit_profile"))
    s.open(ch, [OpenItem(st, evs)])
    w2, c2 = time.perf_counter(), time.process_time()
    if prof:
        prof.disable()
    return {"commit wall": w1 - w0, "commit CPU": c1 - c0, "open wall": w2 - w1,
            "open CPU": c2 - c1, "bytes": len(ch.proof_bytes())}


def main(n: int, top: int) -> None:
    run(14)
    prof = cProfile.Profile()
    res = run(n, prof)
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()})
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 22,
         int(sys.argv[2]) if len(sys.argv) > 2 else 25)
