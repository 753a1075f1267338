"""Interleaved A/B of the lookups phase (not a test): `h6_lookup_profile.py` (the 25m
step's lookup composition, the 25m bench's 64 MiB / 18 keep-layers budget at SHIFT 0)
run in one process per measurement, OLD tree and NEW tree alternating, K pairs; each
process proves RUNS times (default 2) and its last prove counts.  Prints every run's
user / sys / wall of `LogUpGKR.prove_many`, the medians, new/old, and whether every
proof had the same sha.

    .venv/bin/python tests/bench/h6_lookup_ab.py OLD_TREE NEW_TREE [K] [SHIFT]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys


def main(old: str, new: str, K: int, shift: int) -> None:
    res: dict = {n: {"user": [], "sys": [], "wall": [], "cpu": []} for n in ("old", "new")}
    shas = set()
    script = os.path.join(new, "tests/bench/h6_lookup_profile.py")
    for it in range(K):
        order = (("old", old), ("new", new)) if it % 2 == 0 else (("new", new), ("old", old))
        for name, tree in order:
            out = subprocess.run([sys.executable, script, str(shift)], cwd=tree, check=True,
                                 capture_output=True, text=True,
                                 env=dict(os.environ, PROF="")).stdout
            runs = [ln.split() for ln in out.splitlines() if ln.startswith("RUN")]
            last = runs[-1]
            u, s, w = float(last[2]), float(last[4]), float(last[6])
            for key, v in (("user", u), ("sys", s), ("wall", w), ("cpu", u + s)):
                res[name][key].append(v)
            shas.update(r[-1] for r in runs)
            print(name, " | ".join(" ".join(r[1:]) for r in runs), flush=True)
    for key in ("cpu", "user", "sys", "wall"):
        mo, mn = statistics.median(res["old"][key]), statistics.median(res["new"][key])
        print(f"median {key}: old {mo:.2f} s, new {mn:.2f} s, new/old {mn / mo:.3f}")
    print("same proof sha in every run:", len(shas) == 1, sorted(shas))


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
         int(sys.argv[3]) if len(sys.argv) > 3 else 3,
         int(sys.argv[4]) if len(sys.argv) > 4 else 0)
