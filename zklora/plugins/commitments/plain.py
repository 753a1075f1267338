"""The ``plain`` commitment scheme — a debugging scheme, sound but neither succinct nor
hiding.

Commitment: BLAKE3 of the canonical encoding of the tensor (32 bytes).  Opening: the
whole tensor.  The verifier re-hashes it and evaluates every claimed point itself, so
binding reduces to collision resistance of the hash.  Proof size is linear in the
tensor: use it to debug ops and protocols, never for real proofs.
"""

from __future__ import annotations

import blake3
import numpy as np

from zklora.zkcore import mle
from zklora.zkcore.commit import CommitmentScheme
from zklora.zkcore.errors import VerificationError
from zklora.zkcore.hookspecs import hookimpl


class PlainCommitment(CommitmentScheme):
    """Hash commitment opened by revealing the tensor (trivial scheme)."""

    name = "plain"

    def _digest(self, values: np.ndarray) -> bytes:
        h = blake3.blake3(b"zklora/plain/v1")
        h.update(self.field.name.encode())
        h.update(self.field.encode(values))
        return h.digest()

    def commitment_size(self, num_vars: int) -> int:
        return 32

    def soundness(self, challenge_field, elements=None):
        """Binding by sending the tensor: the verifier re-hashes and evaluates itself, so
        the only term is BLAKE3's collision resistance (no challenge is drawn)."""
        from zklora.zkcore import security

        return [security.hash_term("blake3", "plain commitment")]

    def commit(self, values):
        values = np.asarray(values).reshape(-1)
        return self._digest(values), values

    def open(self, ch, items):
        for item in items:
            ch.send_field("plain/tensor", self.field, item.state)

    def verify(self, ch, items):
        F = self.field
        for k, item in enumerate(items):
            values = ch.recv_field("plain/tensor", F, 1 << item.num_vars)
            if self._digest(values) != item.commitment:
                raise VerificationError(f"plain: opened tensor {k} does not match its commitment")
            table = mle.lift(F.ext, values, base=True)
            eqs = [mle.eq_table(F.ext, ev.point) for ev in item.evals]
            for ev, eq in zip(item.evals, eqs):
                if F.ext.shape(ev.point) != (item.num_vars,):
                    raise VerificationError("plain: evaluation point of the wrong dimension")
                if not F.ext.equal(F.ext.dot(table, eq), ev.value):
                    raise VerificationError(f"plain: wrong evaluation claimed for tensor {k}")


@hookimpl
def zk_commitment_schemes():
    return [PlainCommitment]
