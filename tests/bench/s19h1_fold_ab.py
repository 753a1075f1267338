"""`Whir._fold_streamed` on captured inputs, an old tree against this one (not a test).

    python tests/bench/s19h1_fold_ab.py OLD_TREE CAPDIR [ROUNDS] [FOLDS]

CAPDIR from `s19h1_capture.py`.  One process per tree (``PYTHONPATH`` = the tree),
alternating old/new ROUNDS times; each replays the captured folds FOLDS (comma list of
indices, default all) once inside a scratch session with a fresh transcript and prints
per fold the process CPU and wall and a digest of the proof bytes and the outputs
(alphas, folded f and W), which must agree between the trees."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def serve(cap: str, folds: list[int]) -> None:
    import hashlib
    import pickle
    import time

    import numpy as np

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    res = {}
    for i in folds:
        with open(Path(cap) / f"fold{i}.pkl", "rb") as f:
            d = pickle.load(f)
        tabs = [np.load(Path(cap) / f"fold{i}_t{j}.npy", mmap_mode="r")
                for j in range(d["ntab"])]
        with scratch.session():
            if d["given"]:
                t = tabs[0]
                tab = scratch.Spilled(t.filename, t.offset, t.shape, t.dtype.str)
                wm = np.load(Path(cap) / f"fold{i}_w.npy", mmap_mode="r")
                wsp = scratch.Spilled(wm.filename, wm.offset, wm.shape, wm.dtype.str)
                st = W._Stream(tab, None, None, wsp)
            elif d["mu"] is not None:
                st = W._Stream(tuple(tabs), d["points"], d["coefs"], mu=d["mu"])
            else:
                st = W._Stream(tabs[0], d["points"], d["coefs"])
            ch = ProverChannel(Transcript(b"s19h1_fold_ab"))
            w0, c0 = time.perf_counter(), time.process_time()
            alphas, fo, wo = s._fold_streamed(ch, d["rd"], st)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        h = hashlib.sha256(bytes(ch.proof_bytes()))
        for x in (alphas, fo, wo):
            h.update(np.ascontiguousarray(x).tobytes())
        res[i] = {"cpu": cpu, "wall": wall, "sha": h.hexdigest()[:20]}
    print(json.dumps(res))


def main(old: str, cap: str, rounds: int, folds: str) -> None:
    res: dict = {}
    for _ in range(rounds):
        for name, tree in [("old", old), ("new", str(HERE))]:
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
            out = subprocess.run([sys.executable, __file__, "--serve", cap, folds],
                                 env=env, capture_output=True, text=True, cwd="/tmp")
            if out.returncode:
                print(out.stderr[-3000:])
                raise SystemExit(1)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            for i, v in r.items():
                e = res.setdefault(i, {}).setdefault(name, {"cpu": [], "wall": [], "sha": v["sha"]})
                assert e["sha"] == v["sha"]
                e["cpu"].append(v["cpu"])
                e["wall"].append(v["wall"])
            print(name, {i: (round(v["cpu"], 2), round(v["wall"], 2)) for i, v in r.items()},
                  flush=True)
    tot = {"old": [0.0, 0.0], "new": [0.0, 0.0]}
    for i, r in res.items():
        same = r["old"]["sha"] == r["new"]["sha"]
        line = [f"fold{i}: same={same} {r['new']['sha']}"]
        for k in ("cpu", "wall"):
            mo, mn = statistics.median(r["old"][k]), statistics.median(r["new"][k])
            tot["old"][k == "wall"] += mo
            tot["new"][k == "wall"] += mn
            line.append(f"{k} {mo:.3f} -> {mn:.3f} (x{mn / mo:.3f})")
        print("  ".join(line))
        assert same, "outputs differ"
    print(f"total: cpu {tot['old'][0]:.3f} -> {tot['new'][0]:.3f} "
          f"(x{tot['new'][0] / tot['old'][0]:.3f}); wall {tot['old'][1]:.3f} -> "
          f"{tot['new'][1]:.3f} (x{tot['new'][1] / tot['old'][1]:.3f})")


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(sys.argv[2], [int(x) for x in sys.argv[3].split(",")])
    else:
        caps = sys.argv[2]
        n = len(list(Path(caps).glob("fold*.pkl")))
        main(sys.argv[1], caps, int(sys.argv[3]) if len(sys.argv) > 3 else 3,
             sys.argv[4] if len(sys.argv) > 4 else ",".join(map(str, range(n))))
