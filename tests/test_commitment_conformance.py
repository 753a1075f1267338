"""The commitment conformance suite (`zklora.zkcore.testing.commitment_suite`) against
every registered commitment scheme × every prime field it supports.

Parametrised from the registry at collection time, so a newly registered scheme (a
colleague's or a third party's plugin) is checked without editing this file.
"""

from __future__ import annotations

import pytest

from zklora.zkcore.plugins import registry
from zklora.zkcore.testing.commitment_suite import CHECKS, Harness

#: fields with Python-int arithmetic get a smaller "large" size to keep the suite fast
_LARGE = {"bls12-381-fr": 8}


def _cases():
    reg = registry()
    out = []
    for scheme_name in reg.names("commitment"):
        cls = reg.commitment(scheme_name)
        for field_name in reg.names("field"):
            F = reg.field(field_name)
            if F.degree == 1 and cls.supports(F):  # tensors live in prime fields
                out.append((scheme_name, field_name))
    return out


CASES = _cases()


def test_every_scheme_has_a_case():
    reg = registry()
    assert {s for s, _ in CASES} == set(reg.names("commitment"))
    assert ("ligero", "goldilocks") in CASES and ("plain", "goldilocks") in CASES
    assert ("ligero", "bls12-381-fr") not in CASES
    assert ("whir", "goldilocks") in CASES and ("whir", "bls12-381-fr") not in CASES


@pytest.mark.parametrize("check", list(CHECKS), ids=list(CHECKS))
@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_conformance(case, check):
    scheme_name, field_name = case
    reg = registry()
    h = Harness(reg.commitment(scheme_name), reg.field(field_name),
                large=_LARGE.get(field_name, 13))
    CHECKS[check](h)
