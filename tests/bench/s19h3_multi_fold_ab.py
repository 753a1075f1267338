"""A/B (not a test): `multi_fold` of an old copy of lookup_gkr.py (argv[1]) vs this tree,
8 tables x 2^19, j = 1, 3, 6 folds, 7 reps interleaved (s19 h3).

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/s19h3_multi_fold_ab.py /tmp/old_lookup_gkr.py
"""
# ruff: noqa
import importlib.util, sys, time, numpy as np
sys.path.insert(0, ".")
from zklora.kernels import lookup_gkr as NEW
spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_v1", sys.argv[1])
V1 = importlib.util.module_from_spec(spec); sys.modules[spec.name] = V1; spec.loader.exec_module(V1)
P = 0xFFFFFFFF00000001
rng = np.random.default_rng(2)
W = rng.integers(0, P, (8, 1 << 19, 2), dtype=np.uint64)
res = {}
for j in (1, 3, 6):
    rh = [rng.integers(0, P, 2, dtype=np.uint64) for _ in range(j)]
    o1 = NEW.multi_fold(W, rh); o2 = V1.multi_fold(W, rh); assert (o1 == o2).all()
    t = {"v1": [], "new": []}
    for it in range(7):
        for n, M in (("v1", V1), ("new", NEW)) if it % 2 == 0 else (("new", NEW), ("v1", V1)):
            s = time.perf_counter(); M.multi_fold(W, rh); t[n].append(time.perf_counter() - s)
    a, b = np.median(t["v1"]), np.median(t["new"])
    print(f"j {j}: v1 {a*1e3:.1f} ms new {b*1e3:.1f} ms new/v1 {b/a:.3f}", flush=True)
