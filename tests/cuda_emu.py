"""A numpy stand-in for the small part of cupy the ``cuda`` backend uses, whose
``RawModule`` compiles the backend's CUDA source as host C++ (``-DZK_HOST_EMU``: every
``ZK_FOR`` grid-stride loop becomes a serial loop) and calls the kernels through ctypes.

With it, `zklora.plugins.backends.cuda.CudaBackend` — its Python glue and the very same
kernel text — runs the backend conformance suite on a machine without a GPU.  What it
cannot check is what only a device shows: launch limits, NVRTC specifics, atomics,
device memory; the GPU script (scripts/gpu_check.py) runs the suite on the real thing.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
import types
from pathlib import Path

import numpy as np

CXX = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
_BUILD = Path(tempfile.gettempdir()) / "zklora-cuda-emu"


def compile_host(code: str) -> ctypes.CDLL:
    """The kernels of ``code`` compiled for the host (cached by content)."""
    if CXX is None:
        raise RuntimeError("no C++ compiler (g++/clang++) for the CUDA host emulation")
    _BUILD.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(code.encode()).hexdigest()[:16]
    lib = _BUILD / f"zk_emu_{tag}.so"
    if not lib.exists():
        src = _BUILD / f"zk_emu_{tag}.cpp"
        src.write_text(code, encoding="utf-8")
        tmp = lib.with_suffix(f".{np.random.randint(1 << 30)}.tmp")
        subprocess.run([CXX, "-O2", "-shared", "-fPIC", "-DZK_HOST_EMU", "-Wall", "-Werror",
                        "-o", str(tmp), str(src)], check=True, capture_output=True, text=True)
        tmp.replace(lib)
    return ctypes.CDLL(str(lib))


def _arg(a):
    if isinstance(a, np.ndarray):
        if not a.flags.c_contiguous:
            raise ValueError("emulated kernel argument is not C-contiguous")
        return ctypes.c_void_p(a.ctypes.data)
    if isinstance(a, np.uint64):
        return ctypes.c_uint64(int(a))
    if isinstance(a, np.int64):
        return ctypes.c_int64(int(a))
    raise TypeError(f"emulated kernel argument of type {type(a).__name__}: pass numpy "
                    f"arrays and np.uint64/np.int64 scalars, as cupy needs")


class _Function:
    def __init__(self, fn, name: str):
        self.fn, self.name = fn, name
        self.fn.restype = None
        self.calls = 0

    def __call__(self, grid, block, args):
        assert len(grid) == 1 and len(block) == 1 and grid[0] >= 1 and block[0] >= 1
        self.calls += 1
        self.fn(*[_arg(a) for a in args])


class RawModule:
    def __init__(self, code: str, options=(), **kw):
        self.lib = compile_host(code)

    def get_function(self, name: str) -> _Function:
        return _Function(getattr(self.lib, name), name)


def _asarray(a, dtype=None):
    return np.asarray(a, dtype=dtype)


cupy = types.SimpleNamespace(
    uint64=np.uint64, uint8=np.uint8, int64=np.int64,
    asarray=_asarray, ascontiguousarray=np.ascontiguousarray,
    asnumpy=lambda a: np.array(a, copy=True),
    empty=np.empty, zeros=np.zeros,
    RawModule=RawModule,
    cuda=types.SimpleNamespace(is_available=lambda: True),
)
