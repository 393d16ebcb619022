"""Scaffolding shared by the backends' partition passes (``byoc.cmsisnn.partition``,
``byoc.ethosu.partition``).

A backend partition runs ``relax.transform.FuseOpsByPattern`` with the byoc.qnn patterns of
the operators it takes (the operator spec, :mod:`byoc.qnn.ops`), registered again under its
own prefix, each with a check that extracts the match into the byoc.qnn dataclass, asks the
backend whether it computes it and records a :class:`Decision` (the reason when not) in the
run's :class:`Session`.

Session state is bound, not global: the pattern table of one run is built with the run's
session captured in its check closures (:func:`make_check`), so two runs (two threads, a
nested compile) never see each other's decisions. The table registered in TVM's pattern
registry (for ``get_patterns_with_prefix``) is built without a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import tvm
from tvm import relax
from tvm.relax.backend.pattern_registry import get_patterns_with_prefix, register_patterns

from .qnn import ops
from .qnn import patterns as P

#: A partition check as FuseOpsByPattern calls it: the match context -> keep the match.
Check = Callable[[Any], bool]


@dataclass
class Decision:
    """One checked candidate chain: offloaded (``reason`` None) or left for the next target.
    ``kind`` is the byoc.qnn kind (see :mod:`byoc.qnn.ops`)."""

    kind: str
    description: str
    reason: str | None
    pad: "tuple | None" = None        # cmsis-nn: (input shape, paddings, value) of a fused PAD
    operators: tuple = ()             # TFLite operator indices of the chain (byoc.placement)


@dataclass
class Session:
    """The state of one partitioning run: the decisions taken, in check order."""

    decisions: list[Decision] = field(default_factory=list)

    def record(self, d: Decision) -> None:
        self.decisions.append(d)


class MatchChain(P._Chain):
    """byoc.qnn's chain walker over a pattern match (check time): matched bindings instead
    of a function; free variables become the parameters in order of appearance."""

    def __init__(self, ctx):  # noqa: D107 - P._Chain.__init__ expects a function
        self.func = None
        self.binds = dict(ctx.matched_bindings.items())
        self.params: list = []
        self.root = ctx.matched_expr

    def operand(self, e, scale, zp):
        if isinstance(e, relax.Var) and e not in self.binds \
                and not any(e.same_as(p) for p in self.params):
            self.params.append(e)
        return super().operand(e, scale, zp)


def internal_uses_only(ctx, allowed=None) -> bool:
    """No value inside the match is used outside it (else FuseOpsByPattern would return
    intermediate tensors from the partition), except values for which ``allowed(value)``
    holds (a backend whose call returns them too)."""
    bound = {v for v, _ in ctx.matched_bindings.items()}
    root = ctx.matched_expr
    for var, value in ctx.matched_bindings.items():
        if value.same_as(root) or (allowed is not None and allowed(value)):
            continue
        if any(u not in bound for u in ctx.var_usages.get(var, [])):
            return False
    return True


def find_call(ctx, op_name: str):
    """The first matched call of the Relax operator ``op_name`` (None if absent)."""
    for value in ctx.matched_bindings.values():
        if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op) \
                and value.op.name == op_name:
            return value
    return None


def make_check(qnn_check: Check | None, decide: Callable[[Any], Decision],
               session: Session | None) -> Check:
    """A FuseOpsByPattern check: byoc.qnn's own check of the chain, then the backend's
    ``decide(ctx)``, recorded in ``session`` (when there is one); keeps the match when the
    decision has no reason."""
    def check(ctx) -> bool:
        if qnn_check is not None and not qnn_check(ctx):
            return False
        decision = decide(ctx)
        if session is not None:
            session.record(decision)
        return decision.reason is None
    return check


class PatternSet:
    """A backend's patterns under ``prefix``: ``table(session)`` builds the (name, pattern,
    annotations, check) list, highest priority first, with checks bound to ``session``."""

    def __init__(self, prefix: str, table: Callable[[Session | None], list[tuple]]):
        self.prefix = prefix
        self.table = table
        self._registered = False

    def register(self) -> None:
        """Register the session-less table in TVM's pattern registry (idempotent; the
        registry gives later entries priority, hence the reversal)."""
        if not self._registered:
            register_patterns(list(reversed(self.table(None))))
            self._registered = True

    def registered(self):
        self.register()
        return get_patterns_with_prefix(self.prefix)

    def fuse(self, mod: tvm.IRModule, session: Session, annotate_codegen: bool) -> tvm.IRModule:
        """``FuseOpsByPattern`` of ``mod`` with the table bound to ``session``."""
        return relax.transform.FuseOpsByPattern(self.table(session), bind_constants=True,
                                                annotate_codegen=annotate_codegen)(mod)


def qnn_patterns(kinds: list[str]) -> dict[str, list[tuple]]:
    """byoc.qnn's (pattern, check) pairs of ``kinds``, by kind, priority order kept."""
    out: dict[str, list[tuple]] = {}
    for kind in kinds:
        s = ops.spec(kind)
        out[kind] = [(p, s.check) for p in s.patterns()]
    return out
