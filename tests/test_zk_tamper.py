"""Existing tamper tests rerun with zero knowledge on (issue 15, acceptance 3): the
tests are imported from their modules and run here inside a `zk.session()` (prover
and verifier both masked; module-scoped fixtures such as the segmented step's proof
are made inside it too)."""

from __future__ import annotations

import pytest

from zklora.zkcore import zk

from .test_elementwise_ops import (
    test_tamper_proof_bytes_and_statement,  # noqa: F401
    test_tamper_witness,  # noqa: F401
)
from .test_graph import (
    test_dangling_claim_rejected_by_kernel,  # noqa: F401
    test_matmul_rejects_stream_flips,  # noqa: F401
    test_matmul_rejects_tampered_output,  # noqa: F401
)
from .test_logup_batched import (
    test_one_gkr_message_element_changed,  # noqa: F401
    test_proof_bytes_flipped_everywhere_in_lookups,  # noqa: F401
    test_tables_order_swapped,  # noqa: F401
)
from .test_segments import (  # noqa: F401
    be,
    proof,
    step,
    test_segment_boundary_witness_tamper_rejected,  # noqa: F401
    test_segment_dropped_rejected,  # noqa: F401
    test_segment_presented_for_another_rejected,  # noqa: F401
    test_segments_reordered_rejected,  # noqa: F401
)
from .test_softmax_op import (
    test_attention_tampered_rejected,  # noqa: F401
    test_softmax_proof_bytes_tampered,  # noqa: F401
    test_softmax_tampered_advice_rejected,  # noqa: F401
)


@pytest.fixture(scope="module", autouse=True)
def _zero_knowledge():
    with zk.session():
        yield


def test_session_is_on():
    assert zk.enabled()


# -- the same LogUp-GKR tamper tests with the lookups hidden (docs/zero-knowledge.md §5.1) --


@pytest.fixture
def _hidden_lookups():
    from unittest import mock

    from zklora.zkcore import graph as graphlib

    with mock.patch.object(graphlib, "HIDE_LOOKUPS", True):
        yield


@pytest.mark.parametrize("where", ["/zk/roots", "/root/", "/l0/", "/l3/round1",
                                   "/l5/finals", "/l7/round6", "/l8/finals"])
def test_hidden_gkr_message_element_changed(_hidden_lookups, where):
    """`test_one_gkr_message_element_changed` with hidden lookups: the layer-top
    identity's messages and the hidden layers' (the test hook sees them all)."""
    test_one_gkr_message_element_changed(where)


def test_hidden_lookup_proof_bytes_flipped(_hidden_lookups):
    test_proof_bytes_flipped_everywhere_in_lookups()
