"""The project's exception hierarchy.

Every failure a user can provoke (bad config, bad proof file, a proof that does not
verify, an unknown plugin, a value out of range) raises a subclass of `ZkLoraError`
with a message naming the cause.  The CLI turns these into an error line and a
non-zero exit code; any other exception escaping is a bug.
"""

from __future__ import annotations


class ZkLoraError(Exception):
    """Base class of every error zkLoRA raises on purpose."""


class ProofFormatError(ZkLoraError):
    """A proof file (or part of one) is malformed: truncated, oversized, non-canonical."""


class VerificationError(ZkLoraError):
    """A well-formed proof does not verify against its statement."""


class ConfigError(ZkLoraError):
    """A configuration file or option is invalid; the message names key and allowed values."""


class PluginError(ZkLoraError):
    """A plugin is unknown, duplicated or incompatible with the selected profile."""


class ProverError(ZkLoraError):
    """The prover cannot produce a proof for this witness (e.g. a value outside a table)."""
