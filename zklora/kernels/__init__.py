"""zkLoRA kernels.

Importing the package makes numba's loading of cached kernels lazy about their LLVM
bitcode (`jit_util.install`: the same machine code, ~0.4 s less CPU per process)."""

from .jit_util import install as _install_lazy_bitcode

_install_lazy_bitcode()
