"""Compute backends (`zklora.zkcore.backend`): registry, selection, and the conformance
suite (`zklora.zkcore.testing.backend_suite`) against every backend.

Rows: every registered backend that is available here (``cpu`` always; ``cuda`` on a
machine with cupy and a GPU, skipped with the reason otherwise), plus ``cuda-emu``: the
``cuda`` backend's glue and kernel source compiled for the host (tests/cuda_emu.py), so
the CUDA code is checked on every machine with a C++ compiler.
"""

from __future__ import annotations

import pytest

from zklora.zkcore import backend as B
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.plugins import registry
from zklora.zkcore.testing.backend_suite import CHECKS, Harness

from . import cuda_emu

ROWS = ["cpu", "cuda", "cuda-emu"]


@pytest.fixture(scope="module", params=ROWS)
def backend(request):
    name = request.param
    if name == "cuda-emu":
        if cuda_emu.CXX is None:
            pytest.skip("no C++ compiler for the CUDA host emulation")
        cls = registry().backend("cuda")
        return cls(cp=cuda_emu.cupy, partials=1000)  # sizes cross the strided partials
    av = registry().backend(name).available()
    if not av.ok:
        pytest.skip(f"backend {name} unavailable here: {av.reason}")
    return B.select(name)


@pytest.mark.parametrize("check", list(CHECKS.values()), ids=list(CHECKS))
def test_conformance(backend, check):
    check(backend, Harness())


def test_every_kernel_is_checked():
    abstract = {n for n in dir(B.ComputeBackend)
                if getattr(getattr(B.ComputeBackend, n), "__isabstractmethod__", False)}
    routed = {"borrow", "pair_sums", "fold_tables", "fetch"}  # defaults backends override
    untested = (abstract | routed) - {"available", "to_device", "to_host"} - set(CHECKS) \
        - {"merkle_parents"}  # checked by "merkle" (every level)
    assert not untested, f"kernels without a conformance check: {sorted(untested)}"


def test_both_backends_registered():
    reg = registry()
    assert {"cpu", "cuda"} <= set(reg.names("backend"))
    assert "zklora.plugins.backends.cuda" in reg.entries[("backend", "cuda")].origin
    assert reg.entries[("backend", "cpu")].status == "available"


def test_select_cpu_and_auto():
    assert B.select("cpu").name == "cpu"
    cuda_ok = registry().backend("cuda").available().ok
    assert B.select("auto").name == ("cuda" if cuda_ok else "cpu")
    assert B.select("cpu") is B.select("cpu")


def test_cuda_without_gpu_is_a_clear_error():
    av = registry().backend("cuda").available()
    if av.ok:
        pytest.skip("a GPU is available here")
    with pytest.raises(ConfigError, match=r"backend 'cuda' is unavailable on this machine: .+"):
        B.select("cuda")
    assert str(av).startswith("unavailable: ")
    assert "\n" not in str(av)


def test_unknown_backend():
    with pytest.raises(ConfigError, match="unknown backend 'tpu'; registered: cpu, cuda"):
        B.select("tpu")
    with pytest.raises(ConfigError, match="backend must be one of"):
        B.select("")


def test_use_and_current():
    cpu = B.select("cpu")
    assert B.current().name == "cpu"
    with B.use("cpu") as be:
        assert be is cpu and B.current() is cpu
        with B.use(cpu):
            assert B.current() is cpu
    assert B.current().name == "cpu"
    with pytest.raises(TypeError):
        with B.use(object()):
            pass


def test_emulation_runs_the_cuda_source():
    """The emulated rows really go through the CUDA module's kernels."""
    if cuda_emu.CXX is None:
        pytest.skip("no C++ compiler")
    be = registry().backend("cuda")(cp=cuda_emu.cupy)
    import numpy as np

    a = np.array([1, 2], np.uint64)
    assert be.to_host(be.mul(a, a)).tolist() == [1, 4]
    assert be._fns["gl_vmul"].calls == 1


def test_emulated_hashing_of_misaligned_rows():
    """The word-loading BLAKE3 kernels fall back (byte loads, or a copy) on arrays whose
    address is not 4-byte aligned."""
    if cuda_emu.CXX is None:
        pytest.skip("no C++ compiler")
    import blake3
    import numpy as np

    from zklora.plugins.backends.cuda import _address

    be = registry().backend("cuda")(cp=cuda_emu.cupy)
    buf = np.random.default_rng(1).integers(0, 256, size=1 + 64 * 8, dtype=np.uint8)
    lvl = buf[1:].reshape(16, 32)
    assert _address(lvl) % 4 == 1
    want = [blake3.blake3(b"\x01" + lvl[2 * i].tobytes() + lvl[2 * i + 1].tobytes()).digest()
            for i in range(8)]
    assert [bytes(g) for g in be.to_host(be.merkle_parents(lvl))] == want
    rows = buf[1:].reshape(8, 64)
    assert [bytes(g) for g in be.to_host(be.blake3_rows(rows))] == \
        [blake3.blake3(r.tobytes()).digest() for r in rows]


def test_emulated_hashing_of_long_rows():
    """Rows longer than one BLAKE3 chunk go through the chunk-tree kernels (chaining
    values, then parent levels with an odd node carried up), word and byte loads."""
    if cuda_emu.CXX is None:
        pytest.skip("no C++ compiler")
    import blake3
    import numpy as np

    be = registry().backend("cuda")(cp=cuda_emu.cupy)
    buf = np.random.default_rng(2).integers(0, 256, size=1 + 4 * 5121, dtype=np.uint8)
    # word loads (aligned, L % 4 == 0); byte loads (L % 4 != 0; a misaligned start)
    for rows in (buf[:4 * 5120].reshape(4, 5120), buf[:-1].reshape(4, 5121),
                 buf[1:4 * 5120 + 1].reshape(4, 5120)):
        got = [bytes(g) for g in be.to_host(be.blake3_rows(rows))]
        assert got == [blake3.blake3(r.tobytes()).digest() for r in rows]
    assert be._fns["b3_chunk_cvs"].calls == 3
    assert be._fns["b3_parent_cvs"].calls == 3 * 3   # 5 chunks: 5 -> 3 -> 2 -> 1


@pytest.mark.parametrize("check", ["pair_sums", "fold_tables", "borrow", "fetch", "merkle"])
def test_base_class_defaults(check):
    """The interface's default `pair_sums` / `fold_tables` / `borrow` / `fetch` /
    `merkle_levels` (what a third-party backend inherits) meet the same checks, built on
    the cpu backend's primitives."""
    from zklora.plugins.backends.cpu import CpuBackend

    class Defaults(CpuBackend):
        pair_sums = B.ComputeBackend.pair_sums
        fold_tables = B.ComputeBackend.fold_tables
        borrow = B.ComputeBackend.borrow
        fetch = B.ComputeBackend.fetch
        merkle_levels = B.ComputeBackend.merkle_levels

    CHECKS[check](Defaults(), Harness())
