"""`Whir._fold_streamed` on a captured fold (`s19h1_capture.py`) in ONE process, the
openings' budget 384 MiB (passes as before `held_f`: at 2^26 only pass 3's pairs kept)
against 512 MiB (pass 2 also keeps its folded f, ``held_f``), interleaved (not a test).

    python tests/bench/s19h8_held_f_ab.py CAPDIR [ROUNDS] [FOLD]

Prints the medians of the process CPU and wall of each budget and whether their proof
bytes and outputs agree."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path


def main(cap: str, rounds: int, fold: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from s19h5_view_ab import run

    from zklora.zkcore import scratch

    res: dict = {384: [], 512: []}
    for _ in range(rounds):
        for mib in (384, 512):
            scratch.open_bytes = lambda default, b=mib << 20: b
            res[mib].append(run(Path(cap), fold))
    shas = {r[2] for v in res.values() for r in v}
    m0 = [statistics.median(r[k] for r in res[384]) for k in (0, 1)]
    m1 = [statistics.median(r[k] for r in res[512]) for k in (0, 1)]
    print(f"fold{fold}: same={len(shas) == 1} {sorted(shas)}  cpu {m0[0]:.3f} -> {m1[0]:.3f} "
          f"(x{m1[0] / m0[0]:.3f})  wall {m0[1]:.3f} -> {m1[1]:.3f} (x{m1[1] / m0[1]:.3f})",
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7,
         int(sys.argv[3]) if len(sys.argv) > 3 else 1)
