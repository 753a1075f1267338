"""cProfile of one bench-shape prove (ZK off, WHIR; `h3_prove_shape.py`), then where the
WHIR commitments' time goes: the streamed encoding (`Whir._encode_streamed`) split into
its kernels (Reed-Solomon column NTTs, the twist + row DFTs, Merkle hashing) and its
scratch-file I/O (pwrite / pread / hole punching), with the callers (the commitments
phase's `_commit_streamed`, the openings' `_commit_next`).  Not a test.

    flock /tmp/heavy.lock python tests/bench/h3_commit_profile.py 25m /tmp/x [--dump F]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

KEYS = {
    "encode_streamed": ("plugins/commitments/whir.py", "_encode_streamed"),
    "commit_streamed": ("plugins/commitments/whir.py", "_commit_streamed"),
    "commit_next": ("plugins/commitments/whir.py", "_commit_next"),
    "merkle_streamed": ("plugins/commitments/whir.py", "_merkle_streamed"),
    "pwrite (whir._pwrite)": ("plugins/commitments/whir.py", "_pwrite"),
    "pread (whir._pread)": ("plugins/commitments/whir.py", "_pread"),
    "punch (whir._punch)": ("plugins/commitments/whir.py", "_punch"),
    "rs_encode (ntt)": ("kernels/ntt.py", "rs_encode"),
    "twist_dft_block (kernels.whir)": ("kernels/whir.py", "twist_dft_block"),
    "mobius_low (kernels.whir)": ("kernels/whir.py", "mobius_low"),
    "hash_leaves (merkle)": ("kernels/merkle.py", "hash_leaves"),
    "merkle.build": ("kernels/merkle.py", "build"),
    "horner_tiles": ("plugins/commitments/whir.py", "_horner_tiles"),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("outdir")
    ap.add_argument("--dump", help="write the pstats file here")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import h3_prove_shape

    out = Path(a.outdir)
    out.mkdir(parents=True, exist_ok=True)
    prof = cProfile.Profile()
    prof.runcall(h3_prove_shape.main, a.size, str(out / f"{a.size}.zkp"))
    if a.dump:
        prof.dump_stats(a.dump)
    st = pstats.Stats(prof).stats
    print(f"{'function':34s} {'calls':>7s} {'own s':>7s} {'cum s':>7s}  callers (calls, cum s)")
    for label, (path, name) in KEYS.items():
        for (fn, _line, fname), (_cc, nc, tt, ct, callers) in st.items():
            if fname == name and fn.endswith(path):
                who = ", ".join(f"{c[2]} ({v[1]}, {v[3]:.2f})" for c, v in
                                sorted(callers.items(), key=lambda kv: -kv[1][3]))
                print(f"{label:34s} {nc:7d} {tt:7.2f} {ct:7.2f}  {who}")
    for (_fn, _line, fname), (_cc, nc, tt, ct, _callers) in st.items():
        if fname in ("<built-in method posix.pwrite>", "<built-in method posix.pread>"):
            print(f"{fname:34s} {nc:7d} {tt:7.2f} {ct:7.2f}")


if __name__ == "__main__":
    main()
