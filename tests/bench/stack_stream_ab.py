"""The streamed stack-claim reduction (`stack._prove_streaming`), an old tree against this
one (not a test).

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/stack_stream_ab.py /tmp/old [ROUNDS] [LOG_K]

One warm process per tree (``PYTHONPATH`` = the tree), the order alternating between
rounds; each round reduces the claims (two per item) on two stacks of 2^LOG_K entries
(default 22; items of 2^(K−1), 2^(K−2), … 2^(K−6) and small ones of 2^3, 2^1, 2^0)
inside a scratch session, with `ProverContext` over a fresh transcript.  Prints CPU /
wall medians, new/old, and asserts equal proof bytes (SHA-256)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def _setup(K: int):
    import numpy as np

    from zklora.zkcore import mle, stack
    from zklora.zkcore.plugins import registry

    F = registry().field("goldilocks")
    E = F.ext
    stacks = []
    for seed in (1, 2):
        sizes = [1 << (K - i) for i in range(1, 7)] + [8, 2, 1]
        lay = stack.StackLayout(sizes)
        rng = np.random.default_rng(seed)
        tables = [F.from_ints(rng.integers(0, 1 << 40, s)) for s in sizes]
        S = lay.stack(F, tables)
        S.flags.writeable = False
        claims = []
        for i, t in enumerate(tables):
            for _ in range(2):
                r = E.random(rng, lay.block(i).num_vars)
                claims.append(lay.claim(E, i, r, mle.evaluate(E, t, r, base=True)))
        stacks.append((lay.num_vars, claims, S))
    return F, stacks


def serve(K: int) -> None:
    import hashlib
    import time

    from zklora.zkcore import scratch, stack
    from zklora.zkcore.op import ProverContext
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F, stacks = _setup(K)

    def once():
        with scratch.session(threshold=0):
            ch = ProverChannel(Transcript(b"stack_stream_ab"))
            w, c = time.perf_counter(), time.process_time()
            stack.reduce_many(ProverContext(F, ch, {}, {}, {}, None), stacks, label="x")
            return {"wall": time.perf_counter() - w, "cpu": time.process_time() - c,
                    "sha": hashlib.sha256(ch.proof_bytes()).hexdigest()[:24]}

    once()
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps(once()), flush=True)


def main(old: str, rounds: int, K: int) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    procs = {n: subprocess.Popen([sys.executable, __file__, "--serve", str(K)],
                                 env=dict(os.environ, PYTHONPATH=t), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, cwd="/tmp")
             for n, t in trees.items()}
    for p in procs.values():
        p.stdout.readline()
    res: dict[str, list[dict]] = {n: [] for n in procs}
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
    print(f"2 stacks of 2^{K}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3,
             int(sys.argv[3]) if len(sys.argv) > 3 else 22)
