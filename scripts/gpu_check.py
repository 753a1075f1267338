"""The GPU check of the ``cuda`` compute backend (issue 17): one command on a machine
with an NVIDIA GPU and cupy.

1. the backend conformance suite (`zklora.zkcore.testing.backend_suite`) against
   ``cuda`` — every kernel against its Python-int / blake3 reference, edge values included;
2. cross-checks at benchmark size: each benchmark's CUDA result equals the CPU's, bit
   for bit; and the tiny training step proven with the ``ligero`` commitment on ``cpu``
   and with ``cuda`` in force (sumcheck, MLE evaluations and ligero's encoding, Merkle
   tree and opening products on the GPU: docs/gpu.md "What is routed") gives the same
   proof bytes, which the CPU verifier accepts;
3. kernel throughputs, CPU (numba, all cores) vs CUDA, measured interleaved in one run
   (median of ``--reps``; device time with the data already on the device, plus the
   host→device copy of the inputs reported separately): extension multiply 2^n,
   product sumcheck over 2 tables of 2^n (all rounds), NTT 2^n, Reed–Solomon encoding
   of a ligero-shaped matrix, Merkle tree over 2^n leaves, and a ligero commitment of
   2^n elements (encoding, leaf hashing, tree; the commitment's own layout: at 2^24,
   512 rows of 2^15 at rate 1/4, leaves of 4 KiB, and the codewords and levels back on
   the host, as the prover keeps them);
4. everything into one JSON file.

Run with ``bash scripts/gpu_check.sh`` (which sets up the environment), or directly:
``python3 scripts/gpu_check.py --out gpu_check.json [--log-n 24] [--reps 3]``.
Backends are instantiated directly (not through the plugin registry), so the kernel
checks need only numpy, numba, pluggy, attrs, blake3 and cupy; the ligero commitment
benchmark and the tiny step need the prover (torch, click, rich: in the GPU image) and
report an import failure as their error.  ``--skip-step`` leaves the tiny step out,
``--step-only`` runs nothing else (on a fresh machine the tiny step first compiles the
prover's numba kernels: minutes of CPU, so the two halves may need one device call each).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def _env(cp) -> dict:
    out = {"python": sys.version.split()[0], "platform": platform.platform(),
           "cpu_count": os.cpu_count(), "numpy": np.__version__}
    try:
        import numba

        out["numba"] = numba.__version__
        out["numba_threads"] = numba.get_num_threads()
    except Exception as e:  # reported, not fatal
        out["numba"] = f"error: {e}"
    try:
        out["cupy"] = cp.__version__
        dev = cp.cuda.Device()
        props = cp.cuda.runtime.getDeviceProperties(dev.id)
        out["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) \
            else str(props["name"])
        out["cuda_runtime"] = cp.cuda.runtime.runtimeGetVersion()
        out["cuda_driver"] = cp.cuda.runtime.driverGetVersion()
        out["gpu_mem_gib"] = round(props["totalGlobalMem"] / 2**30, 1)
    except Exception as e:
        out["cupy"] = f"error: {e}"
    return out


def _timeit(fn, sync, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - t0)
    return out


def _sumcheck(be, st, r, fa, fb):
    """Every round of the product sumcheck Σ_x f0(x)·f1(x) with a fixed challenge."""
    sums = [be.p2_sums(st, fa, fb)]
    while st.shape[1] > 2:
        st, s = be.p2_fold_sums(st, r, fa, fb)
        sums.append(s)
    return be.sc_fold(st, r), sums


def benches(log_n: int):
    """(name, elements, make-inputs(rng) -> host arrays, run(be, *device arrays))."""
    from zklora.zkcore.testing.backend_suite import base, ext

    n = 1 << log_n
    fa, fb = np.array([0], np.int64), np.array([1], np.int64)
    r = np.array([123456789, 987654321], np.uint64)
    rows = 1 << max(0, log_n - 12)
    return [
        ("ext_mul", n, lambda g: (ext(g, n), ext(g, n)), lambda be, a, b: be.emul(a, b)),
        ("sumcheck_product", n, lambda g: (ext(g, 2 * n).reshape(2, n, 2),),
         lambda be, st: _sumcheck(be, st, r, fa, fb)),
        ("ntt", n, lambda g: (base(g, n).reshape(1, n),), lambda be, M: be.rs_encode(M, 0)),
        (f"rs_encode_{rows}x{1 << 10}_rate4", rows << 12,
         lambda g: (base(g, rows << 10).reshape(rows, 1 << 10),),
         lambda be, M: be.rs_encode(M, 2)),
        ("merkle_blake3", n,
         lambda g: (g.integers(0, 256, size=(n, 32), dtype=np.uint8),),
         lambda be, leaves: be.merkle_levels(be.blake3_rows(leaves))),
        (f"ligero_commit_2^{log_n}", n, lambda g: (base(g, n),), _ligero_commit(log_n)),
    ]


def _ligero_commit(log_n: int):
    """A ligero commitment of 2^log_n elements (the scheme's own layout) with ``be`` in
    force: (commitment, codewords, levels) as host arrays."""

    def run(be, table):
        from zklora.plugins.commitments.ligero import Ligero
        from zklora.plugins.fields.goldilocks import GOLDILOCKS

        s = Ligero(GOLDILOCKS)
        lay = s.layout(log_n)
        com, enc, levels = s._commit_matrix(lay, table.reshape(lay.rows, lay.cols), be)
        return [np.frombuffer(com, np.uint8), enc, *levels]

    return run


def tiny_step(cuda, size: str = "tiny") -> dict:
    """The training step of bench size ``size`` (``tiny``: the built-in tiny model; else a
    `zklora bench` shape, e.g. ``25m``, its checkpoint written to a temporary directory)
    with the ligero commitment: cpu and cuda proofs equal and verified
    (`zklora.zkcore.testing.backend_suite.same_proof`)."""
    from zklora.zkcore.testing.backend_suite import same_proof

    if size != "tiny":
        import tempfile

        from zklora.zkcore import bench

        with tempfile.TemporaryDirectory() as tmp:
            m, a = bench._write_checkpoint(Path(tmp), bench.SIZES[size])
            batch, seq = bench.batch_seq(size)
            cfg = {"task": {"model": "llama-train"},
                   "model": {"model": str(m), "adapter": str(a), "batch": batch, "seq": seq},
                   "proof": {"commitment": "ligero", "zero_knowledge": False}}
            return {"size": size, **same_proof(cuda, cfg, task="train")}

    # zero knowledge off: its masks are fresh randomness per proof (the default since
    # the thirteenth session), so only the binding proofs can be compared byte for byte
    return same_proof(cuda, {"proof": {"commitment": "ligero", "zero_knowledge": False}},
                      task="train")


def _same(cpu, cuda, res_cpu, res_cuda) -> bool:
    def flat(be, x):
        if isinstance(x, list | tuple):
            return [y for z in x for y in flat(be, z)]
        if isinstance(x, int | np.integer):
            return [np.asarray(x)]
        return [np.asarray(be.to_host(x))]

    a, b = flat(cpu, res_cpu), flat(cuda, res_cuda)
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y)
                                    for x, y in zip(a, b))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_check.json"))
    ap.add_argument("--log-n", type=int, default=24)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--skip-suite", action="store_true")
    ap.add_argument("--skip-step", action="store_true", help="leave the ligero tiny step out")
    ap.add_argument("--step-size", default="tiny",
                    help="the step's bench size (tiny, 25m, ...; default tiny)")
    ap.add_argument("--step-only", action="store_true",
                    help="only the ligero tiny step (no suite, no benchmarks)")
    args = ap.parse_args(argv)

    report: dict = {"issue": 17, "log_n": args.log_n, "reps": args.reps}
    try:
        import cupy as cp
    except Exception as e:
        report["error"] = f"cupy not importable: {e}"
        Path(args.out).write_text(json.dumps(report, indent=2))
        print(report["error"])
        return 2
    report["env"] = _env(cp)
    print(json.dumps(report["env"]), flush=True)

    from zklora.plugins.backends.cpu import CpuBackend
    from zklora.plugins.backends.cuda import CudaBackend
    from zklora.zkcore.testing.backend_suite import Harness, run_all

    report["cuda_available"] = str(CudaBackend.available())
    t0 = time.perf_counter()
    cuda = CudaBackend()
    one = np.ones(4, np.uint64)
    assert cuda.to_host(cuda.mul(one, one)).tolist() == [1, 1, 1, 1]  # compiles the module
    cp.cuda.runtime.deviceSynchronize()
    report["cuda_module_compile_s"] = round(time.perf_counter() - t0, 3)
    cpu = CpuBackend()
    ok = True

    if args.step_only:
        args.skip_suite = True
    if not args.skip_suite:
        t0 = time.perf_counter()
        suite = run_all(cuda, Harness())
        report["conformance"] = suite
        report["conformance_s"] = round(time.perf_counter() - t0, 1)
        bad = {k: v for k, v in suite.items() if v != "ok"}
        ok &= not bad
        print(f"conformance: {len(suite) - len(bad)}/{len(suite)} ok "
              f"({report['conformance_s']} s)", flush=True)
        for k, v in bad.items():
            print(f"  {k}: {v}", flush=True)
        # the reductions again with few partial rows: every partial strides, several passes
        from zklora.zkcore.testing.backend_suite import CHECKS

        small = CudaBackend(partials=1000)
        strided = {}
        for k in ("sum", "dot", "esum", "edot", "p2_sums", "p2_fold_sums", "sc_round",
                  "gkr_sums"):
            try:
                CHECKS[k](small, Harness())
                strided[k] = "ok"
            except Exception as e:
                strided[k] = f"FAIL: {type(e).__name__}: {e}"
        report["conformance_strided"] = strided
        bad = {k: v for k, v in strided.items() if v != "ok"}
        ok &= not bad
        print(f"strided reductions: {len(strided) - len(bad)}/{len(strided)} ok", flush=True)

    if not args.skip_step:
        t0 = time.perf_counter()
        try:
            step = tiny_step(cuda, args.step_size)
        except Exception as e:
            step = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        step["total_s"] = round(time.perf_counter() - t0, 1)
        report["ligero_tiny_step"] = step
        ok &= bool(step.get("same")) and bool(step.get("verified"))
        print("ligero tiny step: " + json.dumps({k: v for k, v in step.items()
                                                 if k != "trace"}), flush=True)
        Path(args.out).write_text(json.dumps(report, indent=2))

    def sync_cuda():
        cp.cuda.runtime.deviceSynchronize()

    def sync_cpu():
        pass

    report["bench"] = {}
    rng = np.random.default_rng(17)
    for name, n, make, run in [] if args.step_only else benches(args.log_n):
        entry: dict = {"elements": n}
        try:
            host = make(rng)
            t0 = time.perf_counter()
            # a ligero commitment starts from the prover's host table (its copy to the
            # device is part of the timing); the kernels from device-resident data
            dev = host if name.startswith("ligero_") else [cuda.to_device(x) for x in host]
            sync_cuda()
            entry["h2d_s"] = round(time.perf_counter() - t0, 4)
            # warm-up (numba compile, first launches) and the bit-for-bit cross-check
            t0 = time.perf_counter()
            res_cpu = run(cpu, *host)
            entry["cpu_first_s"] = round(time.perf_counter() - t0, 3)
            res_cuda = run(cuda, *dev)
            sync_cuda()
            entry["match"] = _same(cpu, cuda, res_cpu, res_cuda)
            ok &= entry["match"]
            res_cpu = res_cuda = None
            cpu_t, cuda_t = [], []
            for _ in range(args.reps):  # interleaved
                cpu_t += _timeit(lambda: run(cpu, *host), sync_cpu, 1)  # noqa: B023
                cuda_t += _timeit(lambda: run(cuda, *dev), sync_cuda, 1)  # noqa: B023
            entry.update(cpu_s=statistics.median(cpu_t), cuda_s=statistics.median(cuda_t),
                         cpu_runs=cpu_t, cuda_runs=cuda_t)
            entry["speedup"] = entry["cpu_s"] / entry["cuda_s"]
            entry["cuda_elems_per_s"] = n / entry["cuda_s"]
            entry["cpu_elems_per_s"] = n / entry["cpu_s"]
            dev = host = None
            cp.get_default_memory_pool().free_all_blocks()
        except Exception as e:
            entry["error"] = f"{type(e).__name__}: {e}"
            entry["trace"] = traceback.format_exc()
            ok = False
        report["bench"][name] = entry
        print(f"{name}: " + json.dumps({k: v for k, v in entry.items()
                                         if k not in ("trace", "cpu_runs", "cuda_runs")}),
              flush=True)
        Path(args.out).write_text(json.dumps(report, indent=2))

    report["ok"] = bool(ok)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"{'OK' if ok else 'FAILED'}: results in {args.out}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
