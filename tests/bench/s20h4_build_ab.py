"""Micro A/B of `scratch.Store.build` (not a test): a stack built from staged tables
(maps of other scratch files, as `Committer.flush` does) and from RAM arrays, the old
module (tree given as argv[1]) against this one, interleaved; process CPU (user+sys).

    python tests/bench/s20h4_build_ab.py /tmp/s20h4old [ROUNDS] [MIB]
"""

from __future__ import annotations

import importlib.util
import resource
import statistics
import sys
import time
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


def run(mod, mib: int, chunk_kib: int = 1024) -> tuple[float, float, bytes]:
    n = (mib << 20) // 8
    per = (chunk_kib << 10) // 8
    rng = np.random.default_rng(1)
    src = rng.integers(0, 1 << 63, n, dtype=np.uint64)
    with mod.session() as st:
        staged = [st.build((per,), np.uint64, [(0, src[i:i + per])], tag="stage")
                  for i in range(0, n, per)]
        c0 = cpu()
        out = st.build((2 * n,), np.uint64, ((i * per, m) for i, m in enumerate(staged)),
                       tag="stack")
        t_map = cpu() - c0
        c0 = cpu()
        out2 = st.build((2 * n,), np.uint64,
                        ((i, src[i:i + per]) for i in range(0, n, per)), tag="stack")
        t_ram = cpu() - c0
        h = __import__("hashlib").sha256(np.asarray(out)[:n].tobytes()).digest()
        assert np.array_equal(np.asarray(out2)[:n], src) and np.array_equal(
            np.asarray(out)[:n], src)
        del out, out2, staged
    return t_map, t_ram, h


def main() -> None:
    old = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    mib = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    mods = {"old": load(old, "scratch_old"), "new": load(str(Path(__file__).parents[2]),
                                                           "scratch_new")}
    res = {k: ([], []) for k in mods}
    for r in range(rounds):
        for k in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            a, b, h = run(mods[k], mib)
            res[k][0].append(a)
            res[k][1].append(b)
            print(k, f"from maps {a:.3f} s  from RAM {b:.3f} s", flush=True)
    for i, what in enumerate(("from maps", "from RAM")):
        o, nw = statistics.median(res["old"][i]), statistics.median(res["new"][i])
        print(f"{what}: old {o:.3f} new {nw:.3f} ratio {nw / o:.3f}")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"wall {time.perf_counter() - t:.1f} s")
