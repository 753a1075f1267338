"""A/B (not a test): `gkr_sums` / `gkr_fold_sums` of an old copy of lookup_gkr.py
(argv[1]) vs this tree, interleaved, outputs asserted equal (s19 h7).  Shapes: round 0
of one tree (full numerators / unit numerators, m = 2^17 pairs), and the fused
fold + sums over 4 trees (2 full, 2 unit; m = 2^15 and 2^13), want1 False and True.

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/s19h7_gkr_sums_ab.py /tmp/old_lookup_gkr.py [REPS]
"""
# ruff: noqa
import importlib.util, sys, time, numpy as np
sys.path.insert(0, ".")
from zklora.kernels import lookup_gkr as NEW
spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_v1", sys.argv[1])
V1 = importlib.util.module_from_spec(spec); sys.modules[spec.name] = V1; spec.loader.exec_module(V1)
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 9
P = 0xFFFFFFFF00000001
rng = np.random.default_rng(3)


def R(*s):
    return rng.integers(0, P, s, dtype=np.uint64)


full = np.array([[0, 1, 2, 3]], np.int64)
unit = np.array([[-1, -1, 0, 1]], np.int64)
four = np.array([[0, 1, 2, 3], [-1, -1, 4, 5], [6, 7, 8, 9], [-1, -1, 10, 11]], np.int64)
m0 = 1 << 17
Wf = R(4, 2 * m0, 2); Wu = R(2, 2 * m0, 2); E0 = R(m0, 2)
cases = []
for w1 in (False, True):
    cases.append((f"sums full m=2^17 w1={int(w1)}", lambda M, w1=w1: M.gkr_sums(Wf, Wf, full, E0, w1)))
    cases.append((f"sums unit m=2^17 w1={int(w1)}", lambda M, w1=w1: M.gkr_sums(Wu, Wu, unit, E0, w1)))
for lg in (15, 13):
    m = 1 << lg
    W4 = R(12, 4 * m, 2); E4 = R(m, 2); rho = R(2)
    for w1 in (False, True):
        cases.append((f"fold_sums 4 trees m=2^{lg} w1={int(w1)}",
                      lambda M, W4=W4, E4=E4, rho=rho, w1=w1: M.gkr_fold_sums(W4, rho, four, E4, w1)))
tot = {"v1": 0.0, "new": 0.0}
for name, f in cases:
    a_, b_ = f(V1), f(NEW)
    for x, y in zip(a_, b_):
        assert np.array_equal(x, y), name
    t = {"v1": [], "new": []}
    c = {"v1": [], "new": []}
    for it in range(REPS):
        for n, M in (("v1", V1), ("new", NEW)) if it % 2 == 0 else (("new", NEW), ("v1", V1)):
            s = time.perf_counter(); s2 = time.process_time(); f(M)
            t[n].append(time.perf_counter() - s); c[n].append(time.process_time() - s2)
    a, b = np.median(t["v1"]), np.median(t["new"])
    ca, cb = np.median(c["v1"]), np.median(c["new"])
    tot["v1"] += ca; tot["new"] += cb
    print(f"{name}: wall v1 {a*1e3:.2f} new {b*1e3:.2f} ms new/v1 {b/a:.3f} | "
          f"cpu v1 {ca*1e3:.2f} new {cb*1e3:.2f} ms new/v1 {cb/ca:.3f}", flush=True)
print(f"sum of cpu medians: v1 {tot['v1']*1e3:.1f} new {tot['new']*1e3:.1f} ms new/v1 {tot['new']/tot['v1']:.3f}")
