"""Whole proves of two trees (or one tree under two environments), interleaved, with the
process's user / sys time, minor faults and peak RSS (not a test): tests/bench/
h1_prove_ab.py's ``--one SIZE`` under ``/usr/bin/time``, each run holding
``/tmp/heavy.lock`` on its own (short lock holds).

    python tests/bench/s22h4_ab.py OLD_TREE NEW_TREE [ROUNDS] [SIZE] [NEW_ENV=VALUE ...]

``NEW_ENV=VALUE`` arguments are set for the new runs only.  Prints each run, then medians
and new/old ratios of prove CPU (process_time around `pyapi.prove`) and wall, process user, sys,
user+sys, minor faults and peak RSS; asserts equal proofs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(tree: str, size: str, env: dict[str, str]) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        p = subprocess.run(["flock", "/tmp/heavy.lock", "/usr/bin/time", "-o", tf.name, "-f",
                            "%U %S %M %R", sys.executable,
                            str(Path(tree) / "tests/bench/h1_prove_ab.py"), "--one", size],
                           env=dict(os.environ, PYTHONPATH=tree, **env),
                           capture_output=True, text=True, cwd="/tmp", check=True)
        u, s, m, f = tf.read().split()[-4:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {"prove_cpu": r["prove_cpu"], "prove_wall": r["prove_wall"], "user": float(u),
            "sys": float(s),
            "cpu": float(u) + float(s), "minflt_k": int(f) / 1000, "peak_mib": int(m) / 1024,
            "sha": r["sha"]}


def main(old: str, new: str, rounds: int, size: str, new_env: dict[str, str]) -> None:
    trees = {"old": (old, {}), "new": (new, new_env)}
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            res[name].append(run(trees[name][0], size, trees[name][1]))
            print(name, {k: round(v, 2) if isinstance(v, float) else v
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {x["sha"] for v in res.values() for x in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("prove_cpu", "prove_wall", "user", "sys", "cpu", "minflt_k", "peak_mib"):
        mo = statistics.median(x[key] for x in res["old"])
        mn = statistics.median(x[key] for x in res["new"])
        print(f"{key:10s} old {mo:9.2f}  new {mn:9.2f}  new/old {mn / mo:.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    a = sys.argv[1:]
    envs = dict(x.split("=", 1) for x in a[4:])
    main(a[0], a[1], int(a[2]) if len(a) > 2 else 2, a[3] if len(a) > 3 else "25m", envs)
