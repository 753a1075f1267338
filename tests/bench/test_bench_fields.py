"""Field-arithmetic throughput on 2^20-element vectors (Goldilocks, its extension, Fr).

Run: ``.venv/bin/python -m pytest -m bench --benchmark-enable tests/bench/test_bench_fields.py``
Throughput (M elements/s, from the median) is in each benchmark's ``extra_info`` and
printed with ``-s``.  Target (issue 2): extension multiply ≥ 100 M/s on 2 cores.
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.bls12_381 import BLS12_381_FR
from zklora.plugins.fields.goldilocks import GOLDILOCKS

pytestmark = pytest.mark.bench

N = 1 << 20
GL = GOLDILOCKS
EXT = GOLDILOCKS.ext


def _report(benchmark, n, what):
    med, best = benchmark.stats.stats.median, benchmark.stats.stats.min
    benchmark.extra_info["M_per_s"] = n / med / 1e6
    print(f"\n{what}: {n / med / 1e6:.1f} M/s at the median ({med * 1e3:.2f} ms), "
          f"{n / best / 1e6:.1f} M/s best, n = {n}")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return dict(a=GL.random(rng, N), b=GL.random(rng, N), ea=EXT.random(rng, N),
                eb=EXT.random(rng, N), s=EXT.random(rng, 1)[0])


def test_base_mul_field(benchmark, data):
    benchmark(GL.mul, data["a"], data["b"])
    _report(benchmark, N, "goldilocks mul (Field.mul)")


def test_base_mul_kernel(benchmark, data):
    out = np.empty(N, np.uint64)
    benchmark(K.vmul, data["a"], data["b"], out)
    _report(benchmark, N, "goldilocks mul (kernel, preallocated out)")


def test_ext_mul_field(benchmark, data):
    benchmark(EXT.mul, data["ea"], data["eb"])
    _report(benchmark, N, "goldilocks-ext2 mul (Field.mul)")


def test_ext_mul_kernel(benchmark, data):
    out = np.empty_like(data["ea"])
    benchmark(K.emul, data["ea"], data["eb"], out)
    _report(benchmark, N, "goldilocks-ext2 mul (kernel, preallocated out)")


def test_ext_mul_scalar(benchmark, data):
    benchmark(EXT.mul, data["ea"], data["s"])
    _report(benchmark, N, "goldilocks-ext2 vector × scalar")


def test_ext_mul_base(benchmark, data):
    benchmark(EXT.mul_base, data["ea"], data["a"])
    _report(benchmark, N, "goldilocks-ext2 × base")


def test_ext_dot(benchmark, data):
    benchmark(EXT.dot, data["ea"], data["eb"])
    _report(benchmark, N, "goldilocks-ext2 dot")


def test_ext_scalar_mul_latency(benchmark, data):
    """One extension scalar product through Field.mul (the verifier's unit of work)."""
    s = data["s"]
    benchmark(EXT.mul, s, s)
    benchmark.extra_info["us"] = benchmark.stats.stats.median * 1e6
    print(f"\next2 scalar mul: {benchmark.stats.stats.median * 1e6:.2f} µs")


def test_fr_mul(benchmark):
    n = 1 << 16
    rng = np.random.default_rng(1)
    a, b = BLS12_381_FR.random(rng, n), BLS12_381_FR.random(rng, n)
    benchmark(BLS12_381_FR.mul, a, b)
    _report(benchmark, n, "bls12-381-fr mul (object arrays)")
