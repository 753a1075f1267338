"""Commitment / opening kernels at scale: an old tree's kernels against this tree's, in
one interleaved run, ns per element against a rough single-core bound.

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/commit_kernels_ab.py /tmp/old [LOG_N] [ROUNDS]

The old tree's ``zklora/kernels`` package is imported under another name (its own numba
cache), so both run in one process on the same inputs; every kernel's outputs are
compared (equal bytes), then old and new alternate for ROUNDS rounds (medians, new/old).
LOG_N (default 20) sets the sizes: 2^LOG_N Merkle leaves / nodes / codeword points.
ns figures are wall time per element on this machine (parallel kernels use every core
numba is given: set NUMBA_NUM_THREADS=1 for single-core figures).

Figures are CPU ns per element (process time: every thread's CPU) and wall ns.
Bounds (one core of the 2.3 GHz development machine, rough): BLAKE3 one message per
lane (no SIMD across messages) ≈ 4.1 cycles/byte ⇒ 115 ns per 64-byte compression
(measured: a dependent chain of `_compress_w` calls); a Goldilocks
multiplication ≈ 3 ns (mul + reduction) and an NTT of size n ≈ n/2·log2 n butterflies
≈ 1.5·log2 n ns per point; extension multiplication ≈ 3 base products.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np


def load_old(tree: str) -> types.ModuleType:
    """The old tree's ``zklora.kernels`` as package ``oldk`` (submodules imported on use),
    from a copy of its sources under /tmp: numba's cache of the copy names module
    ``oldk``, and must not land in the old tree (whose own processes import
    ``zklora.kernels``)."""
    src = Path(tree).resolve() / "zklora" / "kernels"
    tag = hashlib.sha1(str(src).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"commit_kernels_ab_{tag}" / "oldk"
    path.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.py"):
        dst = path / f.name
        if not dst.exists() or dst.read_bytes() != f.read_bytes():
            shutil.copyfile(f, dst)
    spec = importlib.util.spec_from_file_location("oldk", path / "__init__.py",
                                                  submodule_search_locations=[str(path)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["oldk"] = mod
    spec.loader.exec_module(mod)
    return mod


def cases(log_n: int, pkg: str):
    """name -> (elements, bound ns per element, zero-argument callable) for package pkg."""
    M = importlib.import_module(f"{pkg}.merkle")
    W = importlib.import_module(f"{pkg}.whir")
    N = importlib.import_module(f"{pkg}.ntt")
    Q = importlib.import_module(f"{pkg}.whir_eq")
    S = importlib.import_module(f"{pkg}.whir_sumcheck")
    rng = np.random.default_rng(7)
    n = 1 << log_n
    P = np.uint64(0xFFFFFFFF00000001)
    out = {}
    leaves128 = rng.integers(0, 2**63, size=(n >> 2, 16), dtype=np.uint64)  # K = 16
    out["merkle leaves 128 B, digest 32"] = (
        leaves128.shape[0], 2 * 115, lambda: M.hash_leaves(leaves128, "blake3", 32))
    out["merkle leaves 128 B, digest 20"] = (
        leaves128.shape[0], 2 * 115, lambda: M.hash_leaves(leaves128, "blake3", 20))
    lvl32 = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    out["merkle nodes w 32 (65 B)"] = (n // 2, 2 * 115, lambda: M.hash_nodes(lvl32, "blake3"))
    lvl20 = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    out["merkle nodes w 20 (41 B)"] = (n // 2, 115, lambda: M.hash_nodes(lvl20, "blake3"))
    prefixes = [bytes([i]) * 70 for i in range(6)]
    bits = max(8, log_n - 6)

    def grind():
        return sum(W.grind_blake3(p, bits) + 1 for p in prefixes)

    out[f"grind 78 B, {bits} bits (per hash)"] = (None, 115, grind)  # 1 block per nonce
    m = log_n - 1
    coeffs = rng.integers(0, 2**63, size=1 << m, dtype=np.uint64) % P
    out[f"encode_leaves 2^{m} -> 2^{m + 1}, K 16 (per point)"] = (
        2 << m, 1.5 * (m + 1), lambda: W.encode_leaves(coeffs, m + 1, 4))
    ce = rng.integers(0, 2**63, size=(1 << (m - 1), 2), dtype=np.uint64) % P
    out[f"encode_leaves ext 2^{m - 1} -> 2^{m}, K 16 (per point)"] = (
        2 << (m - 1), 2 * 1.5 * m, lambda: W.encode_leaves(ce, m, 4))
    rows = rng.integers(0, 2**63, size=(1 << 10, 1 << (log_n - 11)), dtype=np.uint64) % P
    out[f"rs_encode 2^10 rows x 2^{log_n - 11}, rate 1/2 (per point)"] = (
        rows.size * 2, 1.5 * (log_n - 10), lambda: N.rs_encode(rows, 1))
    tab = rng.integers(0, 2**63, size=n, dtype=np.uint64) % P
    out[f"mobius 2^{log_n}"] = (n, log_n * 0.6, lambda: W.mobius(tab))
    z = np.array([12345, 678], dtype=np.uint64)
    out[f"horner 2^{log_n} base coeffs, ext point"] = (n, 3 * 3, lambda: W.horner(tab, z))
    pts = rng.integers(0, 2**63, size=(8, log_n, 2), dtype=np.uint64) % P
    cf = rng.integers(0, 2**63, size=(8, 2), dtype=np.uint64) % P

    def eqc():
        w = np.zeros((n, 2), dtype=np.uint64)
        Q.eq_combination(w, pts, cf, overwrite=True)
        return w

    out[f"eq_combination 8 points, 2^{log_n}"] = (n * 8, 3 * 3, eqc)
    f = rng.integers(0, 2**63, size=(n, 2), dtype=np.uint64) % P
    wv = rng.integers(0, 2**63, size=(n, 2), dtype=np.uint64) % P
    al = np.array([99, 7], dtype=np.uint64)
    out[f"whir sumcheck fold_round ext 2^{log_n}"] = (
        n, 4 * 3 * 3, lambda: S.fold_round(f, wv, al))
    fb = rng.integers(0, 2**63, size=n, dtype=np.uint64) % P
    out[f"whir sumcheck fold_round base 2^{log_n}"] = (
        n, 3 * 3 * 3, lambda: S.fold_round(fb, wv, al))
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


def main(old: str, log_n: int, rounds: int, only: str = "") -> None:
    load_old(old)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    new = cases(log_n, "zklora.kernels")
    olds = cases(log_n, "oldk")
    print(f"{'kernel':58s} {'old CPU':>9s} {'new CPU':>9s} {'new/old':>7s} "
          f"{'old wall':>8s} {'new wall':>8s} {'new/old':>7s} {'bound':>6s}")
    for name in new:
        if only and not any(o in name for o in only.split(",")):
            continue
        (cnt, bound, fn_new), fn_old = new[name], olds[name][2]
        a, b = fn_old(), fn_new()  # warm-up (compile / cache load) and equal outputs
        assert _same(a, b), name
        if cnt is None:  # grinding: a count of hashes
            cnt = int(a)
        res: dict[str, list[float]] = {"old": [], "new": [], "old wall": [], "new wall": []}
        for r in range(rounds):
            for who in ("old", "new") if r % 2 == 0 else ("new", "old"):
                fn = fn_old if who == "old" else fn_new
                t, c = time.perf_counter(), time.process_time()
                fn()
                res[who].append((time.process_time() - c) / cnt * 1e9)
                res[who + " wall"].append((time.perf_counter() - t) / cnt * 1e9)
        mo, mn = statistics.median(res["old"]), statistics.median(res["new"])
        wo, wn = statistics.median(res["old wall"]), statistics.median(res["new wall"])
        print(f"{name:58s} {mo:9.1f} {mn:9.1f} {mn / mo:7.3f} {wo:8.1f} {wn:8.1f} "
              f"{wn / wo:7.3f} {bound:6.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20,
         int(sys.argv[3]) if len(sys.argv) > 3 else 5, sys.argv[4] if len(sys.argv) > 4 else "")
