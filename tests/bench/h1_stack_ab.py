"""A captured streamed stack reduction (`stack._prove_streaming`), an old tree against
this one (not a test).

    python tests/bench/h1_capture.py 25m /tmp/cap      # (heavy) writes /tmp/cap/stack<i>.pkl
    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/h1_stack_ab.py /tmp/old /tmp/cap/stack1.pkl [ROUNDS]

One warm process per tree (``PYTHONPATH`` = the tree), the order alternating between
rounds; each round replays the captured call inside a scratch session (the stacked
table read through a `scratch.Spilled` file, as in a proof) on a fresh transcript.
Prints CPU / wall medians, new/old, and asserts equal proof bytes (SHA-256)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def serve(cap: str) -> None:
    import hashlib
    import pickle
    import time

    import numpy as np

    from zklora.zkcore import scratch, stack
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    E = registry().field("goldilocks").ext
    with open(cap, "rb") as f:
        d = pickle.load(f)
    tabs = []
    for i, t in enumerate(d["tables"]):
        path = f"{cap}.tab{i}"
        if not os.path.exists(path) or os.path.getsize(path) != t.nbytes:
            t.tofile(path + ".tmp")
            os.replace(path + ".tmp", path)
        tabs.append(scratch.Spilled(path, 0, t.shape, t.dtype.str))
    del d["tables"], t

    def once():
        with scratch.session():
            ch = ProverChannel(Transcript(b"h1_stack_ab"))
            w, c = time.perf_counter(), time.process_time()
            stack._prove_streaming(ch, E, d["label"], d["K"], tabs, d["base"], d["claims"],
                                   d["weights"])
            return {"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                    "sha": hashlib.sha256(ch.proof_bytes()).hexdigest()[:24]}

    once()
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps(once()), flush=True)
    del np


def main(old: str, cap: str, rounds: int) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    procs = {}
    for n, t in trees.items():   # one at a time ready (the pickles are large)
        procs[n] = subprocess.Popen([sys.executable, __file__, "--serve", cap],
                                    env=dict(os.environ, PYTHONPATH=t),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, cwd="/tmp")
        procs[n].stdout.readline()
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = procs[name]
            p.stdin.write("go\n")
            p.stdin.flush()
            res[name].append(json.loads(p.stdout.readline()))
            print(name, res[name][-1], flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("cpu", "wall"):
        mo = statistics.median(r[key] for r in res["old"])
        mn = statistics.median(r[key] for r in res["new"])
        print(f"{key}: old {mo:.3f} s, new {mn:.3f} s, new/old {mn / mo:.3f}")
    print(f"{cap}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3)
