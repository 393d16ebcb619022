"""Where each TFLite operator went, for every target, and why.

Every backend contributes rows, exact by TFLite operator index (each call carries the
indices of the operators it computes, see ``byoc.frontend.operator_indices``): a row either
claims an operator (``claims``: the backend computes it) or says why the backend did not
take it (``refusals``). The target's backends are asked in order (NPU, CMSIS-NN); the first
claim wins, an unclaimed operator is computed by the generic C path (or by no code at all,
a view), with the refusals of every backend as its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GENERIC = "generic"
NONE = "none"

#: TFLite operators that become views of their input (no code at all).
VIEW_TYPES = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}
#: reason of a generic operator when no kernel library is in the target
NO_LIBRARY = "generic C (no kernel library in --target)"


@dataclass
class OperatorPlacement:
    """One TFLite operator."""

    index: int
    type: str
    backend: str                # "ethos-u", "cmsis-nn", "generic", or "none" (a view)
    reason: str
    callees: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"index": self.index, "type": self.type, "backend": self.backend,
                "reason": self.reason}


@dataclass
class Claim:
    """A backend computes TFLite operator ``index``."""

    backend: str
    reason: str
    callee: str = ""


@dataclass
class BackendRows:
    """One backend's placement rows: what it computes and why it refused the rest.

    ``refusal(index, type)`` says why the backend did not take an operator; ``base``
    backends (a CPU kernel library) give the generic operator's reason, the others add
    ``(not on the <label>: why)``."""

    label: str
    claims: dict[int, Claim]
    refusal: object              # callable (index, type) -> str
    base: bool = False


def per_operator(operators: list[tuple[int, str]], backends: list[BackendRows]
                 ) -> list[OperatorPlacement]:
    """The placement of every TFLite operator ``(index, type)``, in model order."""
    out = []
    for index, typ in operators:
        claim = next((b.claims[index] for b in backends if index in b.claims), None)
        if claim is not None:
            out.append(OperatorPlacement(index, typ, claim.backend, claim.reason,
                                         [claim.callee] if claim.callee else []))
            continue
        if typ in VIEW_TYPES:
            out.append(OperatorPlacement(index, typ, NONE, "view of its input (no code)"))
            continue
        base = next((b.refusal(index, typ) for b in backends if b.base), NO_LIBRARY)
        notes = "".join(f" (not on the {b.label}: {b.refusal(index, typ)})"
                        for b in backends if not b.base)
        out.append(OperatorPlacement(index, typ, GENERIC, base + notes))
    return out


def format_table(rows: list[OperatorPlacement], target: str) -> str:
    """The placement table ``byoc info --target`` prints."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.backend] = counts.get(r.backend, 0) + 1
    on = ", ".join(f"{counts[b]} on {b}" for b in counts if b != NONE)
    lines = [f"Placement for --target {target} ({len(rows)} operators: {on}):",
             f"  {'#':>3}  {'operator':<18} {'backend':<9} detail"]
    for r in rows:
        lines.append(f"  {r.index:>3}  {r.type:<18} {r.backend:<9} {r.reason}")
    return "\n".join(lines)
