"""Whole proves of two trees, interleaved, with the process's user / sys time and peak RSS
(not a test): tests/bench/h1_prove_ab.py's ``--one SIZE`` run under ``/usr/bin/time``.

    flock /tmp/heavy.lock python tests/bench/s21h4_ab.py OLD_TREE NEW_TREE [ROUNDS] [SIZE]

Prints each run, then medians and new/old ratios of prove CPU (process_time around
`pyapi.prove`), process user, sys, user+sys and peak RSS; asserts equal proofs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(tree: str, size: str) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        p = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%U %S %M", sys.executable,
                            str(Path(tree) / "tests/bench/h1_prove_ab.py"), "--one", size],
                           env=dict(os.environ, PYTHONPATH=tree), capture_output=True,
                           text=True, cwd="/tmp", check=True)
        u, s, m = tf.read().split()[-3:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {"prove_cpu": r["prove_cpu"], "user": float(u), "sys": float(s),
            "cpu": float(u) + float(s), "peak_mib": int(m) / 1024, "sha": r["sha"]}


def main(old: str, new: str, rounds: int, size: str) -> None:
    trees = {"old": old, "new": new}
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            res[name].append(run(trees[name], size))
            print(name, {k: round(v, 2) if isinstance(v, float) else v
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {x["sha"] for v in res.values() for x in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("prove_cpu", "user", "sys", "cpu", "peak_mib"):
        mo = statistics.median(x[key] for x in res["old"])
        mn = statistics.median(x[key] for x in res["new"])
        print(f"{key:10s} old {mo:9.2f}  new {mn:9.2f}  new/old {mn / mo:.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2,
         sys.argv[4] if len(sys.argv) > 4 else "25m")
