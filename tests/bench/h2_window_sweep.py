"""Sweep of the LogUp-GKR window planner's knobs on the 25m step's lookup composition
(not a test).  Each child proves the composition (``COMP``: a pickle of
``[(label, table, [(nv, pad), ...]), ...]``, full size) once with ``STREAM_BYTES`` /
``KEEP_LAYERS`` at the 25m default budget (128 MiB, 19) and the planner's knobs from
``CFG`` (``WINDOW,COST_LEAF,COST_ENTRY,COST_PRODUCT``) and prints its CPU time, the
leaves summed, the proof's sha256 and the max RSS.  Configurations alternate, K rounds.

    .venv/bin/python tests/bench/h2_window_sweep.py COMP K CFG [CFG ...]
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
L.STREAM_BYTES = int(os.environ.get("SB", 128 << 20))
L.KEEP_LAYERS = int(os.environ.get("KL", 19))
w, cl, ce, cp = os.environ["CFG"].split(",")
L.WINDOW = int(w)
L._COST_LEAF, L._COST_ENTRY, L._COST_PRODUCT = float(cl), float(ce), float(cp)
comp = pickle.load(open(os.environ["COMP"], "rb"))
rng = np.random.default_rng(7)
lk = []
for label, table, blks in comp:
    reqs = [S.random_rows(table, 1 << nv, rng) for nv, pad in blks if not pad]
    lk.append((table, reqs))
T = []
orig = LogUpGKR.prove_many
def pm(self, ctx, cs):
    t0 = time.process_time(); orig(self, ctx, cs); T.append(time.process_time() - t0)
LogUpGKR.prove_many = pm
g, be, proof, sec = S.prove_tables(LogUpGKR(), "goldilocks", lk)
print("RUN", T[-1], L._LEAVES[0], hashlib.sha256(proof).hexdigest(),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
'''


def main(comp: str, K: int, cfgs: list[str]) -> None:
    res: dict = {c: [] for c in cfgs}
    hashes = set()
    for _ in range(K):
        for c in cfgs:
            env = dict(os.environ, COMP=comp, CFG=c)
            out = subprocess.run([sys.executable, "-c", CHILD], check=True,
                                 capture_output=True, text=True, env=env).stdout
            for ln in out.splitlines():
                if ln.startswith("RUN"):
                    _, t, leaves, h, rss = ln.split()
                    res[c].append(float(t))
                    hashes.add(h)
                    print(f"{c}: cpu {float(t):.2f} s leaves {int(leaves)/1e6:.0f}M "
                          f"maxrss {int(rss)/1024:.0f} MiB", flush=True)
    base = statistics.median(res[cfgs[0]])
    for c in cfgs:
        m = statistics.median(res[c])
        print(f"{c}: median {m:.2f} s  ratio {m / base:.3f}")
    print("same proof:", len(hashes) == 1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
