"""Micro A/B of `scratch.Spilled.read_range` (not a test): whole-tensor reads of many
small spilled witness tensors (what `graph.Witness.__getitem__` does), the old module
(tree argv[1]) against this one, interleaved; process CPU (user+sys).

    python tests/bench/s20h4_read_ab.py /tmp/s20h4old [ROUNDS]
"""

from __future__ import annotations

import importlib.util
import resource
import statistics
import sys
from pathlib import Path

import numpy as np


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load(tree: str, name: str):
    spec = importlib.util.spec_from_file_location(
        f"zklora.zkcore.{name}", Path(tree) / "zklora/zkcore/scratch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(mod, reads: int = 5000) -> float:
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 1 << 20, 256 * (1 + i % 16), dtype=np.int64)
              for i in range(64)]
    with mod.session() as st:
        hs = st.save(arrays, tag="witness")
        c0 = cpu()
        for i in range(reads):
            h = hs[i % len(hs)]
            x = h.read_range(0, h.shape[0])
        t = cpu() - c0
        assert np.array_equal(x, arrays[(reads - 1) % len(hs)])
    return t


def main() -> None:
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    mods = {"old": load(sys.argv[1], "scratch_old"),
            "new": load(str(Path(__file__).parents[2]), "scratch_new")}
    res = {k: [] for k in mods}
    for r in range(rounds):
        for k in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            res[k].append(run(mods[k]))
    o, n = statistics.median(res["old"]), statistics.median(res["new"])
    print(f"5000 reads: old {o:.3f} s new {n:.3f} s ratio {n / o:.3f} "
          f"({(o - n) / 5000 * 1e6:.1f} us a read saved)")


if __name__ == "__main__":
    main()
