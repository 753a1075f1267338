"""s26h3: a streamed first WHIR round (`Whir._fold_streamed`) and a batch's streamed
reduction (`Whir._reduce_streamed`) with every message from one pass of W's row sums
(`SPLIT_MSG_TERMS` = 64) against the passes (-1), in-process, interleaved (not a test).

    python tests/bench/s26h3_split_ab.py [ROUNDS] [n]

Tables of 2^n base entries in .npy files read memory-mapped (as a prover cache's); the
transcript bytes and outputs are asserted equal; process CPU (user + sys) medians."""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
from pathlib import Path

import attrs
import numpy as np

from zklora.kernels.goldilocks import P_INT
from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@attrs.define
class _St:
    table: np.ndarray


def main(rounds: int, n: int) -> None:
    rng = np.random.default_rng(5)
    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    N = 1 << n
    rd = s.plan(n).rounds[0]
    with tempfile.TemporaryDirectory() as tmp:
        tabs = []
        for i in range(4):
            np.save(Path(tmp) / f"t{i}.npy", rng.integers(0, P_INT, N, dtype=np.uint64))
            tabs.append(np.load(Path(tmp) / f"t{i}.npy", mmap_mode="r"))
        cases = {}
        for q in (1, 3, 9):
            pts = rng.integers(0, P_INT, (q, n, 2), dtype=np.uint64)
            cf = rng.integers(0, P_INT, (q, 2), dtype=np.uint64)
            cases[f"fold q={q}"] = ("f", tabs[0], pts, cf, None)
        pts = rng.integers(0, P_INT, (1, n, 2), dtype=np.uint64)
        cases["fold T=4 mu"] = ("f", tuple(tabs), pts, np.array([[1, 0]], np.uint64),
                                rng.integers(0, P_INT, (4, 2), dtype=np.uint64))
        cons = [(rng.integers(0, P_INT, (q, n, 2), dtype=np.uint64), None)
                for q in (2, 3, 1, 4)]
        cases["reduce T=4"] = ("r", tabs, cons, None, None)

        def run(case, terms):
            kind, tab, pts, cf, mu = case
            W.SPLIT_MSG_TERMS = terms
            with scratch.session():
                ch = ProverChannel(Transcript(b"ab"))
                c0 = cpu()
                if kind == "f":
                    out = s._fold_streamed(ch, rd, W._Stream(tab, pts, cf, mu=mu))
                else:
                    out = (s._reduce_streamed(ch, n, [(_St(t), []) for t in tab], pts,
                                              np.array([3, 4], np.uint64),
                                              rng.integers(0, P_INT, (4, 2), np.uint64)),)
                t = cpu() - c0
            return t, bytes(ch.proof_bytes()), out

        for name, case in cases.items():
            res = {"old": [], "new": []}
            ref = None
            for r in range(rounds):
                for which in (("old", "new") if r % 2 == 0 else ("new", "old")):
                    rng = np.random.default_rng(9)   # the reduce case's λ
                    t, p, out = run(case, -1 if which == "old" else 64)
                    if ref is None:
                        ref = (p, out)
                    assert p == ref[0]
                    for x, y in zip(out, ref[1]):
                        assert np.array_equal(x, y)
                    res[which].append(t)
            mo, mn = statistics.median(res["old"]), statistics.median(res["new"])
            print(f"{name}: n={n} k={rd.k} old {mo:.3f} s new {mn:.3f} s x{mn / mo:.3f}",
                  flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3,
         int(sys.argv[2]) if len(sys.argv) > 2 else 22)
