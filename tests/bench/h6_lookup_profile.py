"""Profile of the 25m step's lookup composition (not a test): `h3_fill_reduce_ab.py`'s
set-up (``COMP`` pickle, blocks 2^SHIFT times smaller, ``SB`` / ``KL`` = the 25m bench's
64 MiB / 18 at SHIFT 0), RUNS proves; prints each prove's user / sys CPU
(`resource.getrusage`), wall and proof sha; with PROF=FILE the last prove runs under
cProfile (stats written to FILE, top 30 by own time printed).

    .venv/bin/python tests/bench/h6_lookup_profile.py [SHIFT]
"""

from __future__ import annotations

import cProfile
import hashlib
import os
import pickle
import pstats
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())

from zklora.plugins.lookups import logup_gkr as L  # noqa: E402
from zklora.plugins.lookups.logup_gkr import LogUpGKR  # noqa: E402
from zklora.zkcore.testing import lookup_suite as S  # noqa: E402


def main(shift: int) -> None:
    L.STREAM_BYTES = int(os.environ.get("SB", (64 << 20) >> shift))
    L.KEEP_LAYERS = int(os.environ.get("KL", 18 - shift))
    comp = pickle.load(open(os.environ.get("COMP", "/tmp/h2/comp25.pkl"), "rb"))
    rng = np.random.default_rng(7)
    lk = []
    for _label, table, blks in comp:
        reqs = [S.random_rows(table, max(1, (1 << nv) >> shift), rng)
                for nv, pad in blks if not pad]
        lk.append((table, reqs))
    T = []
    orig = LogUpGKR.prove_many

    def pm(self, ctx, cs):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        orig(self, ctx, cs)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        T.append((r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime,
                  time.perf_counter() - t0, r1.ru_minflt - r0.ru_minflt))

    LogUpGKR.prove_many = pm
    runs = int(os.environ.get("RUNS", 2))
    prof = os.environ.get("PROF")
    for it in range(runs):
        pr = cProfile.Profile() if prof and it == runs - 1 else None
        if pr:
            pr.enable()
        g, be, proof, sec = S.prove_tables(LogUpGKR(), "goldilocks", lk)
        if pr:
            pr.disable()
            pr.dump_stats(prof)
        u, s, w, f = T[-1]
        print(f"RUN user {u:.2f} sys {s:.2f} wall {w:.2f} minflt {f} "
              f"sha {hashlib.sha256(proof).hexdigest()[:16]}", flush=True)
    print("MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
