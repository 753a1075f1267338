"""pluggy hook specifications of zkLoRA.

Every capability the kernel does not hard-code — fields, commitment schemes, lookup
arguments, lookup tables, ops, models, the models' options and compute backends — is
contributed by a plugin implementing one of these hooks.  Built-in plugins register
through the ``zklora`` entry-point group exactly like third-party ones.  All hooks carry
the ``zk_`` prefix; the plugin manager rejects unknown ``zk_`` hooks at start (``check_pending``).
"""

from __future__ import annotations

import pluggy

PROJECT = "zklora"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------
# math layers
# ---------------------------------------------------------------------------


@hookspec
def zk_fields():
    """Contribute finite fields.

    :returns: a list of `zklora.zkcore.field.Field` instances, each with a unique ``name``.
    """


@hookspec
def zk_commitment_schemes():
    """Contribute polynomial commitment schemes.

    :returns: a list of classes implementing `zklora.zkcore.commit.CommitmentScheme`
        (each with a unique ``name``); the kernel instantiates them per field.
    """


@hookspec
def zk_lookup_arguments():
    """Contribute lookup arguments.

    :returns: a list of classes implementing `zklora.zkcore.lookup.LookupArgument`.
    """


@hookspec
def zk_tables():
    """Contribute named public lookup tables.

    :returns: a list of `zklora.zkcore.lookup.TableSpec` describing how to build and
        evaluate each table deterministically.
    """


# ---------------------------------------------------------------------------
# computation
# ---------------------------------------------------------------------------


@hookspec
def zk_ops():
    """Contribute operations of the tensor graph.

    :returns: a list of `zklora.zkcore.op.Op` instances (unique ``name`` each).
    """


@hookspec
def zk_builders():
    """Contribute named graph builders (and builder-side helpers) of op families, so that
    other plugins — models, backward ops — call them by name
    (`zklora.zkcore.build.builder`) instead of importing the plugin's module.

    :returns: a list of `zklora.zkcore.build.Builder` (unique ``name`` each).
    """


@hookspec
def zk_models():
    """Contribute model builders.

    :returns: a list of objects with a ``name`` and a ``build(config)`` method that
        returns a `zklora.zkcore.graph.Graph`.
    """


@hookspec
def zk_model_options():
    """Contribute the options of models (in the style of pytest's ``pytest_addoption``):
    the flags ``zklora prove`` adds, the keywords ``zklora.prove`` accepts, the ``[model]``
    keys they set, and the ``--task`` alias that names a model.  The kernel names no
    model and no model option: it builds its flags and keywords from these.

    :returns: a list of `zklora.zkcore.model.ModelOptions`, each naming a registered
        model; several plugins may add options to one model.
    """


# ---------------------------------------------------------------------------
# compute backends
# ---------------------------------------------------------------------------


@hookspec
def zk_backends():
    """Contribute compute backends (where the prover's field kernels run).

    :returns: a list of `zklora.zkcore.backend.ComputeBackend` subclasses (not
        instances), each with a unique ``name`` and a class method ``available()`` that
        says, without starting anything, whether it can run on this machine and why not.
        The kernel instantiates the one a config selects (`zklora.zkcore.backend.select`).
    """


# ---------------------------------------------------------------------------
# prover state stores
# ---------------------------------------------------------------------------


@hookspec
def zk_state_stores():
    """Contribute state stores of commitment schemes, which write a scheme's prover state
    to a prover-cache directory and map it back (`zklora.zkcore.provercache`).

    :returns: a list of objects with ``name`` (the scheme's name), ``version`` (an int
        that changes with the stored format) and the methods ``save(table, state, dir)``
        (write the stacked table and the state into the existing empty directory
        ``dir``, linking scratch files where possible, never changing them) and
        ``load(dir, scheme, num_vars) -> (table, state)`` (map them back read-only;
        `zklora.zkcore.errors.ProverError` when the files do not fit).  A scheme
        without a store gets no cache.
    """
