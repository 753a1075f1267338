"""s37h3: `h1_prove_ab` (a whole proven step, an old tree against this one, interleaved;
read its docstring: ROUNDS, SIZE, SKIP, ``AB_TIME``) plus, per run, the virtual tensors
phase 1 kept for phase 2 (``kept_mib``: `graph.Witness.kept_bytes` after `forward`; 0 on
a tree without `graph.KEEP_VIRTUAL_BYTES`).  ``KEEP_MIB`` (environment) sets the budget
in the new tree's runs.

    flock /tmp/heavy.lock python tests/bench/s37h3_keep_ab.py OLD [ROUNDS] [SIZE] [SKIP]
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def one(size: str) -> None:
    import h1_prove_ab

    from zklora.zkcore import graph

    kept = [0.0]
    if hasattr(graph, "KEEP_VIRTUAL_BYTES") and os.environ.get("KEEP_MIB"):
        graph.KEEP_VIRTUAL_BYTES = int(float(os.environ["KEEP_MIB"]) * 2**20)
    real = graph.forward

    def forward(*a, **k):
        w = real(*a, **k)
        kept[0] = max(kept[0], getattr(w, "kept_bytes", 0) / 2**20)
        return w

    graph.forward = forward
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        h1_prove_ab.one(size)
    out = json.loads(buf.getvalue().strip().splitlines()[-1])
    out["kept_mib"] = kept[0]
    print(json.dumps(out), flush=True)


def main(old: str, rounds: int, size: str, skip: int = 0) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = subprocess.run([sys.executable, __file__, "--one", size],
                               env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp", check=True)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, {k: (round(v, 2) if isinstance(v, float) else v)
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in res["old"][0]:
        if key == "sha":
            continue
        mo = statistics.median(r[key] for r in res["old"][skip:])
        mn = statistics.median(r[key] for r in res["new"][skip:])
        unit = "MiB" if key.endswith("mib") else "s"
        ratio = f"{mn / mo:.3f}" if mo else "-"
        print(f"{key:24s} old {mo:8.2f} {unit}  new {mn:8.2f} {unit}  new/old {ratio}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2,
             sys.argv[3] if len(sys.argv) > 3 else "25m",
             int(sys.argv[4]) if len(sys.argv) > 4 else 0)
