"""s26h2: kernel A/B of `gkr_fold_sums` (fold + next round's sums) at the 25m / 84m
prove's shapes, old tree vs new tree (not a test).

    .venv/bin/python tests/bench/s26h2_fold_sums_ab.py OLD_TREE NEW_TREE ROUNDS [CASE...]

Each (tree, round) runs in a fresh process (PYTHONPATH = the tree) timing the wrapper on
fixed random inputs (process CPU, `time.process_time`, REPS calls after one warm call)
and printing CPU seconds per call and a hash of (folded stack, sums, E_{j+1}); the script
asserts both trees' hashes are equal and prints medians and new/old ratios.  Cases:
nu25 (W (4, 2^21, 2), one numerator tree), unit84 (W (2, 2^23, 2), one unit tree),
mix84 (W (8, 2^21, 2), two unit trees and one numerator tree), nu84 (W (16, 2^18, 2),
four numerator trees)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

CASES = {
    "nu25": (4, 21, [[0, 1, 2, 3]]),
    "unit84": (2, 23, [[-1, -1, 0, 1]]),
    "mix84": (8, 21, [[-1, -1, 0, 1], [-1, -1, 2, 3], [4, 5, 6, 7]]),
    "nu84": (16, 18, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]),
}

CHILD = r'''
import hashlib, json, sys, time
import numpy as np
from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT
CASES = json.loads(sys.argv[1])
out = {}
for name in sys.argv[2:]:
    k, lg, slots = CASES[name]
    rng = np.random.default_rng(3)
    W = rng.integers(0, P_INT, size=(k, 1 << lg, 2), dtype=np.uint64)
    m = 1 << (lg - 2)
    E = rng.integers(0, P_INT, size=(m, 2), dtype=np.uint64)
    S = np.array(slots, np.int64)
    r = tuple(int(x) for x in rng.integers(0, P_INT, size=2, dtype=np.uint64))
    res = KL.gkr_fold_sums(W, r, S, E, False)
    reps = 6
    t = time.process_time()
    for _ in range(reps):
        res = KL.gkr_fold_sums(W, r, S, E, False)
    dt = (time.process_time() - t) / reps
    h = hashlib.sha256()
    for a in res:
        h.update(np.ascontiguousarray(a).tobytes())
    out[name] = [dt, h.hexdigest()[:16]]
print("RESULT " + json.dumps(out))
'''


def child(tree: str, names: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=tree)
    p = subprocess.run([os.path.join(tree, ".venv/bin/python"), "-c", CHILD,
                        json.dumps(CASES)] + names, capture_output=True, text=True, env=env,
                       cwd=tree)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(p.stderr[-2000:])


def main() -> None:
    old, new, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    names = sys.argv[4:] or list(CASES)
    t: dict = {(w, n): [] for w in ("old", "new") for n in names}
    for r in range(rounds):
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        hs = {}
        for w, tree in order:
            res = child(tree, names)
            for n in names:
                t[(w, n)].append(res[n][0])
                hs.setdefault(n, set()).add(res[n][1])
        for n in names:
            assert len(hs[n]) == 1, f"{n}: outputs differ"
        print(f"round {r}: " + ", ".join(f"{n} {t[('old', n)][-1] * 1e3:.1f}/"
                                         f"{t[('new', n)][-1] * 1e3:.1f} ms" for n in names),
              flush=True)
    for n in names:
        o, w = statistics.median(t[("old", n)]), statistics.median(t[("new", n)])
        print(f"{n}: old {o * 1e3:.2f} ms, new {w * 1e3:.2f} ms, new/old {w / o:.3f} "
              "(process CPU per call, medians, outputs equal)")


if __name__ == "__main__":
    main()
