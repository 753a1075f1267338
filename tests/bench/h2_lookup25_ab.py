"""Interleaved A/B of the LogUp-GKR prover on the 25m step's lookup composition (not a
test): the tables and request block sizes of the real 25m training step (a pickle
written by a run of ``/tmp/h2/prof25.py`` with ``DUMP=FILE``, or `COMPOSITION`'s copy
below), every block 2^SHIFT times smaller, random rows, proven by
`zklora.zkcore.testing.lookup_suite.prove_tables` with ``STREAM_BYTES`` and
``KEEP_LAYERS`` scaled the same way (defaults 512 MiB and 21 at SHIFT 0), so the trees
stream and re-sum their layers as at 25m.

    .venv/bin/python tests/bench/h2_lookup25_ab.py OLD_TREE NEW_TREE [K] [SHIFT]

One process per measurement, alternating old/new, K pairs; each process proves 3 times
and its last two `LogUpGKR.prove_many` CPU times count.  Prints every run, the medians,
new/old, and whether every proof had the same sha256.  ``ZKLORA_LOOKUP_TRACE=1`` in the
environment prints the per-layer trace of each child on stderr.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

CHILD = r'''
import hashlib, os, pickle, sys, time, resource
sys.path.insert(0, os.getcwd())
import numpy as np
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.zkcore.testing import lookup_suite as S
shift = int(os.environ.get("SHIFT", 3))
L.STREAM_BYTES = (512 << 20) >> shift
L.KEEP_LAYERS = 21 - shift
comp = pickle.load(open(os.environ["COMP"], "rb"))
rng = np.random.default_rng(7)
lk = []
for label, table, blks in comp:
    reqs = [S.random_rows(table, max(1, (1 << nv) >> shift), rng) for nv, pad in blks if not pad]
    lk.append((table, reqs))
T = []
orig = LogUpGKR.prove_many
def pm(self, ctx, cs):
    t0 = time.process_time(); orig(self, ctx, cs); T.append(time.process_time() - t0)
LogUpGKR.prove_many = pm
for it in range(int(os.environ.get("RUNS", 3))):
    g, be, proof, sec = S.prove_tables(LogUpGKR(), "goldilocks", lk)
    print("RUN", T[-1], hashlib.sha256(proof).hexdigest(), flush=True)
print("MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
'''


def main(old: str, new: str, K: int, shift: int, comp: str) -> None:
    res: dict = {"old": [], "new": []}
    hashes = set()
    env = dict(os.environ, SHIFT=str(shift), COMP=comp)
    for _ in range(K):
        for name, tree in (("old", old), ("new", new)):
            out = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, check=True,
                                 capture_output=True, text=True, env=env).stdout
            runs = [ln.split() for ln in out.splitlines() if ln.startswith("RUN")]
            for _, cpu, h in runs[1:]:
                res[name].append(float(cpu))
                hashes.add(h)
            rss = [ln for ln in out.splitlines() if ln.startswith("MAXRSS")]
            print(name, [round(float(r[1]), 3) for r in runs], rss, flush=True)
    mo, mn = statistics.median(res["old"]), statistics.median(res["new"])
    print(f"median lookups CPU old {mo:.3f} s, new {mn:.3f} s, old/new {mo / mn:.2f}; "
          f"same proof in every run: {len(hashes) == 1}")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
         int(sys.argv[3]) if len(sys.argv) > 3 else 4,
         int(sys.argv[4]) if len(sys.argv) > 4 else 3,
         os.path.abspath(os.environ.get("COMP", "/tmp/h2/comp25.pkl")))
