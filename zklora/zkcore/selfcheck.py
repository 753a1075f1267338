"""Prover self-checks, and the switch tamper tests use to turn them off.

An honest prover checks its own witness as it goes (sumcheck round sums, declared
bounds, lookup membership, range checks) and raises `ProverError` with a precise
message instead of emitting a proof that fails later.  Soundness tests need the
opposite: a *cheating* prover that emits a proof for a bad witness, so that the test
can show the verifier rejects it.  `disabled()` turns the self-checks off for the
current context; nothing in the CLI or the API exposes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ENABLED: ContextVar[bool] = ContextVar("zklora_prover_selfchecks", default=True)


def enabled() -> bool:
    """Whether the prover should check its own witness."""
    return _ENABLED.get()


@contextmanager
def disabled() -> Iterator[None]:
    """Run a cheating prover: witness self-checks off (tests only)."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)
