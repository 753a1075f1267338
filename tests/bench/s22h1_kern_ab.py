"""s22h1: kernel A/B of the LogUp-GKR lookup kernels, old tree vs new tree, interleaved.

    .venv/bin/python tests/bench/s22h1_kern_ab.py OLD_TREE NEW_TREE ROUNDS [KERNEL...]

Each (tree, round) runs in a fresh process (PYTHONPATH=tree) that times the kernels on
fixed random inputs (process CPU, `time.process_time`, REPS calls) and prints the CPU
seconds and a hash of the outputs; the script asserts both trees' hashes are equal and
prints the medians and new/old ratios.  Kernels: window (`gkr_window_sums`, m = 3),
window4 (m = 4, want1), sums (`gkr_sums`), fold (`gkr_fold_sums`), fill
(`fill_reduce` on a synthetic plan)."""

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
SLOTS = np.array([[0, 1, 2, 3], [-1, -1, 4, 5], [-1, -1, 6, 7]], np.int64)
rng = np.random.default_rng(5)
def ext(n):
    return rng.integers(0, P_INT, size=(n, 2), dtype=np.uint64)
W = rng.integers(0, P_INT, size=(8, 1 << 17, 2), dtype=np.uint64)
out = {}
for name in names:
    h = hashlib.sha256()
    if name in ("window", "window4"):
        m = 3 if name == "window" else 4
        Es = [ext(W.shape[1] >> (i + 1)) for i in range(m)]
        want = [False] * m if m == 3 else [False, True, False, False]
        def run():
            acc = np.zeros((3, 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
            KL.gkr_window_sums(W, SLOTS, Es, want, acc)
            return acc
        reps = 20
    elif name == "sums":
        E = ext(W.shape[1] // 2)
        def run():
            return KL.gkr_sums(W, W, SLOTS, E, True)[0]
        reps = 40
    elif name == "fold":
        E = ext(W.shape[1] // 4)
        def run():
            return KL.gkr_fold_sums(W, (123456789, 987654321), SLOTS, E, False)[0]
        reps = 40
    run()
    t = time.process_time()
    for _ in range(reps):
        r = run()
    dt = time.process_time() - t
    h.update(np.ascontiguousarray(r).tobytes())
    out[name] = [dt, h.hexdigest()[:16]]
print("RESULT " + json.dumps(out))
'''


def child(tree: str, names: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="2")
    py = os.path.join(tree, ".venv/bin/python")
    if not os.path.exists(py):
        py = sys.executable
    r = subprocess.run([py, "-c", CHILD, *names], env=env, cwd=tree, capture_output=True,
                       text=True, check=True)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def main() -> None:
    old, new, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = sys.argv[4:] or ["window", "window4", "sums", "fold"]
    t = {"old": {n: [] for n in names}, "new": {n: [] for n in names}}
    hs = {}
    for i in range(rounds):
        order = (("old", old), ("new", new))
        for tag, tree in order if i % 2 == 0 else order[::-1]:
            res = child(tree, names)
            for n in names:
                t[tag][n].append(res[n][0])
                hs.setdefault(n, res[n][1])
                assert hs[n] == res[n][1], f"{n}: outputs differ ({tag})"
    for n in names:
        mo = statistics.median(t["old"][n])
        mn = statistics.median(t["new"][n])
        ro = [round(x, 3) for x in t["old"][n]]
        rn = [round(x, 3) for x in t["new"][n]]
        print(f"{n:8s} old {mo:.3f} s  new {mn:.3f} s  new/old {mn / mo:.3f}  "
              f"(old {ro}, new {rn})")


if __name__ == "__main__":
    main()
