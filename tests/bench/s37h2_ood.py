"""`Whir._horner_tiles`'s per-tile work, old (per point `ntt.mat_evec` + `horner`) against
`kernels.whir.TileOod` (both points in one pass, IFMA52 limbs) (not a test).

    python tests/bench/s37h2_ood.py [ROUNDS] [N ...]

At the fast profile's tile shapes (n = 20: R = 2^10, cb = 1024; 22: 2^11 × 512; 23:
2^11 × 512; 24: 2^12 × 256; 25: 2^12 × 256), two random extension points, 4 tiles a
round (each tile R × cb random entries < p); alternating order, medians (and best) of wall
and process CPU in ns per tile entry; the outputs compared every round."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

SHAPES = {20: (1024, 1024, 1024), 21: (2048, 1024, 1024), 22: (2048, 2048, 512),
          23: (4096, 2048, 512), 24: (4096, 4096, 256), 25: (8192, 4096, 256)}


def main(rounds: int, ns: list[int]) -> None:
    from zklora.kernels import ntt
    from zklora.kernels import whir as K
    from zklora.kernels.goldilocks import P_INT

    rng = np.random.default_rng(3)
    zs = rng.integers(0, P_INT, size=(2, 2), dtype=np.uint64)
    for n in ns:
        T, R, cb = SHAPES[n]
        tiles = [rng.integers(0, P_INT, size=(R, cb), dtype=np.uint64) for _ in range(4)]
        zp = [K.epowers(z, 0, cb) for z in zs]
        zT = [K.epowers(z, T, 1)[0] for z in zs]

        def old(tiles=tiles, zp=zp, zT=zT):
            out = []
            for y in tiles:
                for i in range(2):
                    out.append(K.horner(ntt.mat_evec(y, zp[i]), zT[i]))
            return out

        ood = K.TileOod(zs, T, cb, R)
        assert ood.fast

        def new(tiles=tiles, ood=ood, zp=zp, zT=zT):
            # the same per-tile values without the z^(j·cb) factor: compare sums
            out = []
            for y in tiles:
                S = K.tile_ood_sums(y, ood.Bc)
                for i in range(2):
                    u = np.stack([S[2 * i], S[2 * i + 1]], axis=1)
                    out.append(ntt._edot_ser(u, zp[i]))
            return out

        a, b = old(), new()
        assert all((x == y).all() for x, y in zip(a, b)), n
        res = {"old": [], "new": []}
        el = 4 * R * cb
        for r in range(rounds):
            for name, fn in (("old", old), ("new", new)) if r % 2 == 0 else \
                    (("new", new), ("old", old)):
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                res[name].append((time.perf_counter() - w0, time.process_time() - c0))
        med = {k: (statistics.median(w for w, _ in v) / el * 1e9,
                   statistics.median(c for _, c in v) / el * 1e9,
                   min(c for _, c in v) / el * 1e9) for k, v in res.items()}
        print(f"n={n} T={T} R={R} cb={cb}: ns/entry wall med / CPU med / CPU best  "
              f"old {med['old'][0]:.2f} / {med['old'][1]:.2f} / {med['old'][2]:.2f}  "
              f"new {med['new'][0]:.2f} / {med['new'][1]:.2f} / {med['new'][2]:.2f}  "
              f"CPU new/old x{med['new'][1] / med['old'][1]:.3f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7,
         [int(x) for x in sys.argv[2:]] or [20, 22, 23, 24, 25])
