"""zkLoRA: zero-knowledge proofs of LoRA fine-tuning for LLaMA-family models.

The Python API (``docs/python-api.md``) — loaded on first use, so ``import zklora``
stays cheap (no torch, numba or plugins until a function runs)::

    import zklora
    res = zklora.prove(model="tiny", steps=1, out="run.zkp")
    zklora.verify("run.zkp")

`commit_model`, `prove`, `verify`, `inspect` and `warmup` are
`zklora.zkcore.pyapi`'s; their errors are `zklora.zkcore.errors.ZkLoraError`s.
"""

import os as _os

# Numba's parallel kernels run on OpenMP.  With the default (active, spinning) wait
# policy, idle worker threads burn CPU between the many short parallel regions a proof
# runs, and on a shared 2-core machine a prove became 7× slower (measured: 6.1 s vs
# 0.86 s for one attention layer).  It must be set before libgomp is loaded, i.e. before
# torch or numba are imported; an explicit user setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_API = ("commit_model", "prove", "verify", "inspect", "warmup", "statement_digest",
        "CommitResult", "ProveResult", "VerifyResult", "InspectResult")
__all__ = ["__version__", "ZkLoraError", *_API]


def __getattr__(name: str):
    if name in _API:
        from .zkcore import pyapi

        return getattr(pyapi, name)
    if name == "ZkLoraError":
        from .zkcore.errors import ZkLoraError

        return ZkLoraError
    raise AttributeError(f"module 'zklora' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API, "ZkLoraError"])
