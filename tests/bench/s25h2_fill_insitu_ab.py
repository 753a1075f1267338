"""s25h2: in-situ A/B of `lookup_gkr.fill_reduce` (and optionally `fill_segments`) in a real
bench-shape prove (not a test).  Every call runs the OLD module file's kernel and this
tree's on the same arguments, into fresh copies of the outputs, order alternating; CPU
(getrusage user + sys) per kernel is summed and the outputs are asserted equal (the new
outputs go on into the prove).

    cd TREE && flock /tmp/heavy.lock env PYTHONPATH=$PWD .venv/bin/python \\
        tests/bench/s25h2_fill_insitu_ab.py OLD_lookup_gkr.py 25m [fill_reduce,fill_segments]

Run it once first if the tree's numba cache of lookup_gkr was deleted: the first call
compiles (the tiny prove does not reach e_fill_reduce)."""

from __future__ import annotations

import importlib.util
import os
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, os.getcwd())

from zklora.kernels import lookup_gkr as KL  # noqa: E402
from zklora.zkcore import bench, pyapi  # noqa: E402

#: argument positions of each wrapper's outputs
OUTS = {"fill_reduce": (5, 6), "fill_segments": (2,)}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _wrap(name: str, old, st: dict) -> None:
    newf, oldf = getattr(KL, name), getattr(old, name)
    n = [0]

    def w(*a):
        n[0] += 1
        order = [("old", oldf), ("new", newf)]
        if n[0] % 2 == 0:
            order.reverse()
        res = {}
        for tag, f in order:
            aa = list(a)
            for i in OUTS[name]:
                aa[i] = a[i].copy()
            t = _cpu()
            f(*aa)
            s = st.setdefault((name, tag), [0, 0.0])
            s[0] += 1
            s[1] += _cpu() - t
            res[tag] = [aa[i] for i in OUTS[name]]
        for x, y in zip(res["old"], res["new"], strict=True):
            assert np.array_equal(x, y), name
        for i, y in zip(OUTS[name], res["new"], strict=True):
            a[i][...] = y

    setattr(KL, name, w)


def main() -> None:
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", sys.argv[1])
    old = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old
    spec.loader.exec_module(old)
    size = sys.argv[2]
    names = sys.argv[3].split(",") if len(sys.argv) > 3 else ["fill_reduce"]
    st: dict = {}
    for name in names:
        _wrap(name, old, st)
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        m, a = bench._write_checkpoint(tmp_p, bench.SIZES[size])
        pyapi.prove(model=str(m), adapter=str(a), steps=1, profile="fast",
                    zero_knowledge=False,
                    config={"task": {"model": "llama-train"},
                            "model": {"batch": batch, "seq": seq}},
                    out=tmp_p / "p.zkp", progress=None)
    for name in names:
        o, w = st[(name, "old")], st[(name, "new")]
        print(f"{size} {name}: calls {o[0]} old {o[1]:.3f} s new {w[1]:.3f} s "
              f"x{w[1] / o[1]:.3f} (outputs equal)")


if __name__ == "__main__":
    main()
