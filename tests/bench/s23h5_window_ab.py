"""s23h5: kernel A/B of `gkr_window_sums` at the 25m prove's shapes, old tree vs new tree.

    .venv/bin/python tests/bench/s23h5_window_ab.py OLD_TREE NEW_TREE ROUNDS [CASE...]

Each (tree, round) runs in a fresh process (PYTHONPATH=tree) that times the kernel on
fixed random inputs (process CPU, `time.process_time`, REPS calls after one warm call)
and prints CPU seconds and a hash of the accumulators; the script asserts both trees'
hashes are equal and prints medians and new/old ratios.  Cases (25m shapes, W (k, 2^19,
2), one tree): nu3 (numerators, m = 3), unit3 (unit numerators, m = 3), nu2 (numerators,
m = 2), nu3w (nu3 with want1 in round 1)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

CHILD = r'''
import hashlib, json, sys, time
import numpy as np
from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT
names = sys.argv[1:]
rng = np.random.default_rng(7)
def ext(n):
    return rng.integers(0, P_INT, size=(n, 2), dtype=np.uint64)
M = 1 << 19
W4 = rng.integers(0, P_INT, size=(4, M, 2), dtype=np.uint64)
W2 = np.ascontiguousarray(W4[:2])
out = {}
for name in names:
    h = hashlib.sha256()
    unit = name.startswith("unit")
    W = W2 if unit else W4
    slots = np.array([[-1, -1, 0, 1]] if unit else [[0, 1, 2, 3]], np.int64)
    m = 2 if name == "nu2" else 3
    want = [False, True, False] if name == "nu3w" else [False] * m
    Es = [ext(M >> (i + 1)) for i in range(m)]
    def run():
        acc = np.zeros((1, 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
        KL.gkr_window_sums(W, slots, Es, want, acc)
        return acc
    reps = 8
    run()
    t = time.process_time()
    for _ in range(reps):
        r = run()
    dt = time.process_time() - t
    h.update(np.ascontiguousarray(r).tobytes())
    out[name] = [dt / reps, h.hexdigest()[:16]]
print("RESULT " + json.dumps(out))
'''


def child(tree: str, names: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=tree)
    py = os.path.join(tree, ".venv/bin/python")
    if not os.path.exists(py):
        py = sys.executable
    r = subprocess.run([py, "-c", CHILD, *names], env=env, cwd=tree, capture_output=True,
                       text=True, check=True)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def main() -> None:
    old, new, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = sys.argv[4:] or ["nu3", "unit3", "nu2"]
    t: dict = {"old": {n: [] for n in names}, "new": {n: [] for n in names}}
    for i in range(rounds):
        hs = {}
        for tag, tree in (("old", old), ("new", new)) if i % 2 == 0 else (("new", new),
                                                                          ("old", old)):
            r = child(tree, names)
            for n in names:
                t[tag][n].append(r[n][0])
                hs.setdefault(n, set()).add(r[n][1])
        for n in names:
            assert len(hs[n]) == 1, (n, hs[n])
        print(f"round {i}: " + " ".join(
            f"{n} {t['old'][n][-1]:.4f}/{t['new'][n][-1]:.4f}" for n in names), flush=True)
    for n in names:
        a, b = statistics.median(t["old"][n]), statistics.median(t["new"][n])
        print(f"{n}: old {a:.4f} s  new {b:.4f} s  x{b / a:.3f}  (CPU per call, median of "
              f"{rounds}; outputs equal)")


if __name__ == "__main__":
    main()
