"""WHIR commits + one batched opening on the streamed (scratch-file) paths, an old tree
against this one (not a test).

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/whir_stream_ab.py /tmp/old [ROUNDS] [SIZES] [BYTES]

One warm process per tree (``PYTHONPATH`` = the tree), both alive, the order alternating
between rounds; each round commits the tables of SIZES (comma-separated log sizes,
default 20,20,20,20,18,18) inside a scratch session with spill threshold 0 and opens
them with ``ZKLORA_OPEN_BYTES`` = BYTES (default 4 MiB, so the same-size batch
takes `_reduce_streamed` and the combination `_fold_streamed`), as
`whir_stream_profile.py` does.  Prints per-round commit / open CPU and wall, the
medians and the new/old ratios, and asserts the two trees' proofs are equal
(SHA-256)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def serve(sizes: list[int]) -> None:
    sys.path.insert(0, str(HERE / "tests" / "bench"))
    from whir_stream_profile import run

    run([14, 14, 13])
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps(run(sizes)), flush=True)


def main(old: str, rounds: int, sizes: str, open_bytes: str) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    procs = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=tree, ZKLORA_OPEN_BYTES=open_bytes)
        procs[name] = subprocess.Popen([sys.executable, __file__, "--serve", sizes],
                                       env=env, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, cwd="/tmp")
    for p in procs.values():
        p.stdout.readline()
    res: dict[str, list[dict]] = {n: [] for n in procs}
    for r in range(rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for name in order:
            p = procs[name]
            p.stdin.write("go\n")
            p.stdin.flush()
            out = json.loads(p.stdout.readline())
            res[name].append(out)
            print(name, {k: round(v, 3) if isinstance(v, float) else v
                         for k, v in out.items()}, flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("commit CPU", "commit wall", "open CPU", "open wall"):
        mo = statistics.median(r[key] for r in res["old"])
        mn = statistics.median(r[key] for r in res["new"])
        print(f"{key}: old {mo:.3f} s, new {mn:.3f} s, new/old {mn / mo:.3f}")
    print(f"sizes {sizes}, OPEN_BYTES {open_bytes}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve([int(x) for x in sys.argv[2].split(",")])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3,
             sys.argv[3] if len(sys.argv) > 3 else "20,20,20,20,18,18",
             sys.argv[4] if len(sys.argv) > 4 else str(4 << 20))
