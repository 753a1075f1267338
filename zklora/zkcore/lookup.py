"""Lookup argument protocol and public tables.

A lookup proves that every row of a tuple of columns (c_1(i), …, c_w(i)) lies in a
named public table T with w columns.  Columns are committed tensors (so that claims on
them produced at the end of the proof are discharged by openings); a lookup argument
commits whatever advice it needs (multiplicities, inverses) through the context.

Relation: {(c_1(i), …, c_w(i)) : i} ⊆ {(T_1(j), …, T_w(j)) : j}.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from .field import Field

if TYPE_CHECKING:
    from .op import ProverContext, VerifierContext


class Table(ABC):
    """A public table with ``width`` integer columns and 2^num_vars rows."""

    name: str
    width: int
    num_vars: int

    @abstractmethod
    def columns(self) -> list[np.ndarray]:
        """The integer columns (int64 arrays of length 2^num_vars), built deterministically."""

    def evaluate(self, F: Field, point: np.ndarray) -> list[np.ndarray]:
        """The MLE of every column at ``point`` (verifier side; O(|T|) by default)."""
        from . import mle

        return [mle.evaluate(F, F.base.from_ints(c), point, base=True) for c in self.columns()]


@attrs.frozen
class LookupRequest:
    """Rows of the committed tensors ``columns`` must lie in ``table``."""

    table: Table
    columns: tuple[str, ...]
    label: str


class LookupArgument(ABC):
    """Proves `LookupRequest`s; the kernel calls it once per table with every request
    on that table, at the end of the proof (before openings)."""

    name: str
    fields: tuple[str, ...] = ()

    @classmethod
    def supports(cls, field: Field) -> bool:
        return not cls.fields or field.name in cls.fields

    @abstractmethod
    def prove(self, ctx: ProverContext, table: Table, requests: Sequence[LookupRequest]) -> None:
        """Prove every request; add claims on the column tensors (and on advice the
        argument committed) to ``ctx``."""

    @abstractmethod
    def verify(self, ctx: VerifierContext, table: Table,
               requests: Sequence[LookupRequest]) -> None:
        """Mirror of `prove`; raise `VerificationError` on failure, add the same claims."""
