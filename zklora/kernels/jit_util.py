"""Cheaper loading of numba's on-disk kernel caches (``cache=True``).

A cached kernel is stored by numba as its machine code (an ELF object) plus the LLVM
bitcode of its whole module, kept only so that a kernel compiled *later* can link it in
(and inline it).  Loading one (``numba.core.codegen.CPUCodeLibrary._unserialize``)
parses that bitcode into an LLVM module and walks it for the names of the symbols it
defines (what ``get_pointer_to_function`` may look up).  A prove loads ~120 cached
kernels and compiles none, so that parsing is ~0.4 s of CPU per process, about two
thirds of the cache loading, for modules nobody links.

`install` makes the load lazy: the defined symbols come from the object's ELF symbol
table (the same names: every cached kernel of this project checked, 688 of 688), and
the bitcode is parsed only when another library is linked against it
(``_get_module_for_linking``, i.e. a kernel compiled in this process calls it).  The
machine code that runs is the cached object either way, so the results (and proofs)
are byte for byte the same.  The patch applies only to the numba versions it was
checked against (`SUPPORTED`) and an object that is not a little-endian ELF64 file
falls back to numba's own path; ``ZKLORA_NUMBA_LAZY_BITCODE=0`` turns it off."""

from __future__ import annotations

import os
import struct

from numba.core import types
from numba.extending import intrinsic

#: numba major.minor versions whose ``CPUCodeLibrary._unserialize`` this mirrors
SUPPORTED = ((0, 68),)
ENV = "ZKLORA_NUMBA_LAZY_BITCODE"

_SHT_SYMTAB = 2
_STT_SECTION, _STT_FILE = 3, 4
_installed = False


def elf_defined_symbols(obj: bytes) -> set[str] | None:
    """Names of the symbols an ELF64 little-endian object defines (symbol-table entries
    with a section, other than section and file symbols); None for anything else or a
    malformed object (the caller then takes numba's own path)."""
    try:
        if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
            return None
        (shoff,) = struct.unpack_from("<Q", obj, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
        if shentsize < 64 or shnum == 0:
            return None
        secs = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize)
                for i in range(shnum)]
        names: set[str] = set()
        found = False
        for s in secs:
            if s[1] != _SHT_SYMTAB:
                continue
            found = True
            off, size, link = s[4], s[5], s[6]
            stroff = secs[link][4]
            if off + size > len(obj):
                return None
            for name, info, _, shndx, _, _ in struct.iter_unpack(
                    "<IBBHQQ", memoryview(obj)[off:off + size - size % 24]):
                if shndx == 0 or name == 0 or (info & 0xF) in (_STT_SECTION, _STT_FILE):
                    continue
                start = stroff + name
                end = obj.index(b"\0", start)
                names.add(obj[start:end].decode())
        return names if found else None
    except (struct.error, ValueError, IndexError, UnicodeDecodeError):
        return None


def _supported(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) in SUPPORTED


def install() -> bool:
    """Patch numba's cached-library loading (module doc) once; True when active."""
    global _installed
    if _installed:
        return True
    if os.environ.get(ENV, "1").strip() in ("0", "false", "no", "off"):
        return False
    import numba
    from numba.core import codegen

    lib_cls = getattr(codegen, "JITCodeLibrary", None)
    engine_cls = getattr(codegen, "JitEngine", None)
    if (not _supported(numba.__version__) or lib_cls is None or engine_cls is None
            or not all(hasattr(lib_cls, a) for a in (
                "_unserialize", "_get_module_for_linking", "enable_object_caching",
                "_set_compiled_object", "_finalize_final_module"))):
        return False
    ll = codegen.ll
    orig_unserialize = lib_cls._unserialize.__func__
    orig_linking = codegen.CPUCodeLibrary._get_module_for_linking

    def _unserialize(cls, cg, state):
        name, kind, data = state
        if kind != "object":
            return orig_unserialize(cls, cg, state)
        object_code, shared_bitcode = data
        defined = elf_defined_symbols(object_code)
        if defined is None:
            return orig_unserialize(cls, cg, state)
        self = cg.create_library(name)
        assert isinstance(self, cls)
        self.enable_object_caching()
        self._set_compiled_object(object_code)
        self._zk_shared_bitcode = shared_bitcode
        self._finalize_final_module()
        self._codegen._engine._defined_symbols |= defined
        return self

    def _get_module_for_linking(self):
        bc = self.__dict__.pop("_zk_shared_bitcode", None)
        if bc is not None and self._shared_module is None:
            self._shared_module = ll.parse_bitcode(bc)
            self._codegen._engine._load_defined_symbols(self._shared_module)
        return orig_linking(self)

    lib_cls._unserialize = classmethod(_unserialize)
    lib_cls._get_module_for_linking = _get_module_for_linking
    _installed = True
    return True


# -- 512-bit vectors for autovectorised loops (s37h2; shared here by s37h5) ----------------


def _wide_codegen(context, builder, sig, args):
    """Marks the LLVM function being built (a parallel region's body or a plain njit
    function, numba's ``inline="always"`` helpers inlined into it) "prefer-vector-width"=
    "512": LLVM's x86 tuning of this host (AVX-512, prefer-256-bit) otherwise has the loop
    vectoriser emit ymm code only (`whir._twist_dft_tiles`: 0 zmm / 3770 ymm instructions
    before; ×0.93 CPU after, the same values).  A no-op where the host has no 512-bit
    vectors.  llvmlite's attribute set takes known keywords only: the string attributes go
    in as raw text.  Callees that LLVM does not inline keep their own attributes (mark
    them too)."""
    fa = builder.function.attributes
    set.add(fa, '"prefer-vector-width"="512"')
    set.add(fa, '"min-legal-vector-width"="512"')
    return context.get_dummy_value()


@intrinsic
def _wide512(typingctx):
    """Call first thing in a kernel (or prange body): its function prefers 512-bit vectors
    (`_wide_codegen`)."""
    return types.void(), _wide_codegen
