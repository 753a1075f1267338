"""s21h3: interleaved A/B of the openings' kernels, an old tree's module file against
this tree's (same process, CPU time by `time.process_time`, medians, outputs equal).

    python tests/bench/s21h3_kern_ab.py OLD_TREE ROUNDS [WHAT ...]

WHAT: split_ext (whir_open.split_round, extension blocks of the 25m fold's shapes),
split_base, fold_eq (whir_eq.fold_eq, j = 2..4), fold_pairs (whir_eq.fold_pair_sums),
combine (whir_eq.pow_eq_accumulate, 2^20 rows, q points).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

import numpy as np

import zklora.kernels.whir_eq as QE_new
import zklora.kernels.whir_open as WO_new

P = 0xFFFFFFFF00000001


def _load(tree: str, mod: str):
    spec = importlib.util.spec_from_file_location(
        f"zklora.kernels._old_{mod}", f"{tree}/zklora/kernels/{mod}.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def _rnd(rng, *shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


def cases(rng, what):
    if what in ("split_ext", "split_base"):
        for q, M in ((3, 1 << 18), (3, 1 << 17), (1, 1 << 18)):
            a = 10
            A = _rnd(rng, q, 1 << a, 2)
            B = _rnd(rng, q, 1 << 12, 2)
            f = _rnd(rng, M, 2) if what == "split_ext" else _rnd(rng, M)
            yield f"q{q} M2^{M.bit_length() - 1}", \
                (lambda m, f=f, A=A, B=B, a=a: m.split_round(f, A, B, a, 1 << 12))
    elif what == "fold_eq":
        for j in (2, 3, 4):
            s = _rnd(rng, 1 << 19)
            rs = _rnd(rng, j, 2)
            yield f"j{j}", (lambda m, s=s, rs=rs: m.fold_eq(s, rs))
    elif what == "combine":
        for q in (4, 16, 64):
            out = _rnd(rng, 1 << 20, 2)
            zs = _rnd(rng, q)
            cf = _rnd(rng, q, 2)

            def run(m, out=out, zs=zs, cf=cf):
                o = out.copy()
                m.pow_eq_accumulate(o, zs, cf)
                return o
            yield f"q{q}", run
    elif what == "fold_pairs":
        for j in (1, 2, 3):
            s = _rnd(rng, 1 << 19)
            rs = _rnd(rng, j, 2)
            w = _rnd(rng, 1 << (19 - j), 2)
            yield f"j{j}", (lambda m, s=s, rs=rs, w=w: m.fold_pair_sums(s, rs, w))


def main() -> None:
    old, rounds = sys.argv[1], int(sys.argv[2])
    whats = sys.argv[3:] or ["split_ext", "split_base", "fold_eq"]
    mods = {"split_ext": ("whir_open", WO_new), "split_base": ("whir_open", WO_new),
            "fold_eq": ("whir_eq", QE_new),
            "fold_pairs": ("whir_eq", QE_new), "combine": ("whir_eq", QE_new)}
    rng = np.random.default_rng(1)
    for what in whats:
        name, new = mods[what]
        oldm = _load(old, name)
        for label, fn in cases(rng, what):
            assert np.array_equal(fn(oldm), fn(new)), (what, label)
            t = {"old": [], "new": []}
            for r in range(rounds):
                for k, m in (("old", oldm), ("new", new)) if r % 2 else \
                        (("new", new), ("old", oldm)):
                    c = time.process_time()
                    for _ in range(4):
                        fn(m)
                    t[k].append(time.process_time() - c)
            mo, mn = statistics.median(t["old"]), statistics.median(t["new"])
            print(f"{what:10s} {label:12s} old {mo:.4f}  new {mn:.4f}  x{mn / mo:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
