"""CUDA C sources of the ``cuda`` compute backend (`zklora.plugins.backends.cuda`).

The kernels are written once as loop bodies over an index (see ``zk_common.cuh``): the
same text compiles as device code (NVRTC through ``cupy.RawModule``, or ``nvcc`` in the
compile tests) and, with ``-DZK_HOST_EMU``, as plain serial C++ that the tests run on
the CPU against the Python references.  `module_source` is the one translation unit the
backend loads: the headers, then every ``.cu`` file, with the local ``#include`` lines
dropped (each file also compiles on its own with ``-I`` this directory).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: headers, in dependency order
HEADERS = ("zk_common.cuh", "zk_gl.cuh")
#: kernel sources
SOURCES = ("field.cu", "sumcheck.cu", "ntt.cu", "blake3.cu", "gkr.cu")


def source_dir() -> Path:
    """The directory holding the ``.cu``/``.cuh`` files."""
    return Path(__file__).resolve().parent


def module_source() -> str:
    """All headers and sources as one translation unit (local includes removed)."""
    parts = []
    for name in HEADERS + SOURCES:
        text = (source_dir() / name).read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if not ln.startswith('#include "')]
        parts.append(f"// ---- {name} ----\n" + "\n".join(lines) + "\n")
    return "".join(parts)


def source_digest() -> str:
    """SHA-256 of `module_source` (cache key of compiled modules)."""
    return hashlib.sha256(module_source().encode()).hexdigest()
