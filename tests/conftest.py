"""Shared fixtures."""

from __future__ import annotations

import pytest

from zklora.zkcore.config import Stack, resolve
from zklora.zkcore.plugins import registry


@pytest.fixture(scope="session")
def reg():
    return registry()


def backend_for(reg, field: str, commitment: str = "plain", lookup: str = ""):
    """A proof backend for tests (lookup "" = none)."""
    return resolve(Stack(field, commitment, lookup, "blake3"), reg)


@pytest.fixture(params=["goldilocks", "bls12-381-fr"])
def plain_backend(request, reg):
    return backend_for(reg, request.param)


@pytest.fixture(params=["goldilocks", "bls12-381-fr"])
def be(request, reg):
    """Both fields with the plain commitment and logup-gkr."""
    return backend_for(reg, request.param, "plain", "logup-gkr")


@pytest.fixture(scope="session")
def gold(reg):
    """Goldilocks with the plain commitment and logup-gkr: the ops' test backend."""
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


@pytest.fixture(scope="module")
def zk_off():
    """Pin ``[proof] zero_knowledge``'s per-profile default off: for tests of paths a
    zero-knowledge proof refuses or changes (Ray executor, model-commitment files,
    adapter checks, WHIR under ``fast``), so they mean the same under either default
    (`config.ZERO_KNOWLEDGE`).  Module-scoped, so a file's ``pytestmark =
    pytest.mark.usefixtures("zk_off")`` covers its module-scoped fixtures too (set up
    after it).  Subprocesses do not see it: they pass ``--no-zk``."""
    from zklora.zkcore import config

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "ZERO_KNOWLEDGE", dict.fromkeys(config.ZERO_KNOWLEDGE, False))
        yield
