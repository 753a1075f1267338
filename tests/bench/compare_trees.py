"""Compare the tiny training step across source trees (e.g. two commits) in one run.

    git worktree add /tmp/old <commit>
    .venv/bin/python tests/bench/compare_trees.py /tmp/old . --rounds 2 --reps 2

Each (tree, repetition) runs in a fresh process with the tree first on ``sys.path``, in
interleaved order (old, new, old, new, …) so that machine noise hits every tree alike.
In each process: one warm-up proof (numba compilation, caches), then ``rounds`` timed
prove + verify of the setup of ``tests/bench/test_bench_train.py`` (`_setup`: tiny
LLaMA, batch 4 × 32, one AdamW step, fast profile).  Prints one JSON line per process
and, at the end, the medians per tree and the ratios against the first tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from tests.bench.test_bench_train import _setup
from zklora.zkcore import graph as graphlib
from zklora.zkcore.config import PROFILES, resolve
from zklora.zkcore.plugins import registry
be = resolve(PROFILES["fast"], registry())
spec, ck, ad, ids, g, inputs, statement = _setup()
graphlib.prove(g, inputs, be, statement)
pt, vt = [], []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    stream, sections = graphlib.prove(g, inputs, be, statement)
    pt.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    graphlib.verify(g, stream, be, statement, sections)
    vt.append(time.perf_counter() - t0)
print(json.dumps({"tree": sys.argv[1], "prove": pt, "verify": vt, "proof": len(stream),
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    trees = [os.path.abspath(t) for t in a.trees]
    runs: dict[str, list[dict]] = {t: [] for t in trees}
    for _ in range(a.reps):
        for t in trees:
            env = dict(os.environ, PYTHONPATH=t)
            out = subprocess.run([sys.executable, "-c", _CHILD, t, str(a.rounds)], cwd=t,
                                 env=env, capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(row), flush=True)
            runs[t].append(row)
    base = None
    for t in trees:
        rs = runs[t]
        med = {"prove": statistics.median([x for r in rs for x in r["prove"]]),
               "verify": statistics.median([x for r in rs for x in r["verify"]]),
               "proof": rs[-1]["proof"], "rss_mib": max(r["rss_mib"] for r in rs)}
        base = base or med
        ratio = {k: med[k] / base[k] for k in ("prove", "verify", "proof", "rss_mib")}
        print(f"{t}: prove {med['prove']:.2f} s, verify {med['verify']:.3f} s, proof "
              f"{med['proof']:,} B, peak RSS {med['rss_mib']:.0f} MiB; ratios against "
              f"the first tree: " + ", ".join(f"{k} ×{v:.2f}" for k, v in ratio.items()))


if __name__ == "__main__":
    main()
