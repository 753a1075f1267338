"""Lazy bitcode when numba loads cached kernels (`zklora.kernels.jit_util`): the ELF
symbol table names the same symbols as the cached bitcode, a cached kernel loads and
runs without parsing it, and a kernel compiled later still links (and calls) a cached
one (the bitcode parsed then)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import zklora.kernels  # noqa: F401  (installs the patch)
from zklora.kernels import jit_util

ROOT = Path(__file__).resolve().parents[1]


def test_installed():
    from numba.core import codegen

    assert jit_util._installed
    assert jit_util.install() is True
    assert codegen.JITCodeLibrary._get_module_for_linking.__name__ == \
        "_get_module_for_linking"


@pytest.mark.parametrize("bad", [b"", b"nope", b"\x7fELF", b"\x7fELF\x01\x01" + bytes(60),
                                 b"\x7fELF\x02\x01" + bytes(58)])
def test_not_elf64_is_none(bad):
    assert jit_util.elf_defined_symbols(bad) is None


@njit
def _probe(a, k):
    s = np.uint64(0)
    for v in a:
        s += v * np.uint64(k)
    return s


def test_elf_symbols_equal_bitcode_symbols():
    """A fresh library's object names exactly the symbols its linking bitcode defines;
    a truncated object is None (numba's own path), never a wrong set."""
    import llvmlite.binding as ll

    _probe(np.arange(5, dtype=np.uint64), 3)
    (cres,) = _probe.overloads.values()
    name, kind, (obj, bc) = cres.library.serialize_using_object_code()
    assert kind == "object"
    mod = ll.parse_bitcode(bc)
    want = {g.name for gs in (mod.functions, mod.global_variables) for g in gs
            if not g.is_declaration}
    got = jit_util.elf_defined_symbols(obj)
    assert got == want and cres.fndesc.llvm_func_name in got
    for cut in (16, 64, len(obj) // 2, len(obj) - 8):
        r = jit_util.elf_defined_symbols(obj[:cut])
        assert r is None or r <= want


CALLEE = """
from numba import njit

@njit(cache=True)
def callee(x):
    return x * 3 + 1
"""

CALLER = """
import numpy as np
from numba import njit
from callee_mod import callee

@njit(cache=True)
def caller(a):
    s = 0
    for v in a:
        s += callee(v) + {k}
    return s
"""

PROBE = """
import json, sys
import numpy as np
import zklora.kernels
from zklora.kernels import jit_util
import callee_mod, caller_mod
r = int(caller_mod.caller(np.arange(10)))
def lazy(f):
    libs = [c.library for c in f.overloads.values()]
    return None if not libs else "_zk_shared_bitcode" in libs[0].__dict__
print(json.dumps({"r": r, "installed": jit_util._installed,
                  "callee_hits": sum(callee_mod.callee.stats.cache_hits.values()),
                  "caller_hits": sum(caller_mod.caller.stats.cache_hits.values()),
                  "caller_lazy": lazy(caller_mod.caller),
                  "callee_lazy": lazy(callee_mod.callee)}))
"""


def _probe_run(d: Path, env_extra=None) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{d}{os.pathsep}{ROOT}", **(env_extra or {}))
    p = subprocess.run([sys.executable, "-c", PROBE], cwd=d, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_cached_load_and_later_link(tmp_path):
    (tmp_path / "callee_mod.py").write_text(CALLEE)
    (tmp_path / "caller_mod.py").write_text(CALLER.format(k=0))
    want = sum(v * 3 + 1 for v in range(10))
    first = _probe_run(tmp_path)                       # compiles both, caches both
    assert first["r"] == want and first["installed"]
    second = _probe_run(tmp_path)                      # both from the cache, bitcode unparsed
    assert second["r"] == want and second["caller_hits"] == 1 and second["caller_lazy"]
    (tmp_path / "caller_mod.py").write_text(CALLER.format(k=5))
    third = _probe_run(tmp_path)                       # caller compiled, links cached callee
    assert third["r"] == want + 50 and third["callee_hits"] == 1
    assert third["caller_hits"] == 0
    assert third["callee_lazy"] is False               # its bitcode parsed to link it
    fourth = _probe_run(tmp_path, {jit_util.ENV: "0"})  # switched off: numba's own path
    assert fourth["r"] == want + 50 and not fourth["installed"]
    assert fourth["caller_hits"] == 1 and fourth["caller_lazy"] is False
