"""A whole bench-shape prove, an old tree against a new one, interleaved, one fresh
process per run, each pair of runs under the heavy lock (not a test).

    python tests/bench/s20h3_prove_ab.py OLD NEW[,NEW2,...] [ROUNDS] [SIZE]

Prints per run the prove CPU (user + sys), wall, the streamed commitments'
(`Whir._commit_streamed`) and the openings' (`Whir.open`) CPU / wall, the proof's
SHA-256 (asserted equal), then medians and new/old ratios."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def one(size: str) -> None:
    import hashlib
    import resource
    import tempfile
    import time
    from pathlib import Path

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi

    times: dict[str, list[float]] = {}

    def timed(name, fn):
        def wrap(*args, **kw):
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                t = times.setdefault(name, [0.0, 0.0])
                t[0] += time.perf_counter() - w0
                t[1] += time.process_time() - c0
        return wrap

    W.Whir._commit_streamed = timed("commit", W.Whir._commit_streamed)
    W.Whir.open = timed("open", W.Whir.open)
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.perf_counter()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        out = {"wall": time.perf_counter() - w0,
               "user": r1.ru_utime - r0.ru_utime, "sys": r1.ru_stime - r0.ru_stime,
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
        out["cpu"] = out["user"] + out["sys"]
    for k, (w, c) in times.items():
        out[f"{k}_wall"], out[f"{k}_cpu"] = w, c
    print(json.dumps(out), flush=True)


def main(old: str, new: str, rounds: int, size: str) -> None:
    trees = {"old": os.path.abspath(old)}
    for i, t in enumerate(new.split(",")):
        trees[f"new{i}" if i else "new"] = os.path.abspath(t)
    names = list(trees)
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        cmd = " ; ".join(
            f"PYTHONPATH={trees[n]} {sys.executable} {os.path.abspath(__file__)} --one {size}"
            for n in order)
        p = subprocess.run(["flock", "/tmp/heavy.lock", "sh", "-c", cmd], capture_output=True,
                           text=True, cwd="/tmp", check=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        for n, ln in zip(order, lines):
            res[n].append(json.loads(ln))
            print(n, {k: (round(v, 2) if isinstance(v, float) else v)
                      for k, v in res[n][-1].items()}, flush=True)
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in res["old"][0]:
        if key == "sha":
            continue
        o = statistics.median(r[key] for r in res["old"])
        line = f"{key:12s} old {o:8.3f}"
        for n in names[1:]:
            v = statistics.median(r[key] for r in res[n])
            line += f"  {n} {v:8.3f} x{v / o:.3f}"
        print(line)
    print("sha", shas.pop())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3,
             sys.argv[4] if len(sys.argv) > 4 else "25m")
