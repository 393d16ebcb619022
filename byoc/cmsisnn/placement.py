"""CMSIS-NN's placement rows: which operator it computes, and why the others stay generic.

Built from the module after the CMSIS-NN partitions were generated and the rest was
legalized by byoc.qnn: main's calls in order are CMSIS-NN partitions (``call_dps_packed``)
and byoc.qnn kernels (``call_tir`` of a PrimFunc with attribute ``byoc.kind``). Each call
names the TFLite operators it computes by index (``CmsisCall.operators``, the kernel call's
span); ``byoc.placement`` combines these rows with the other backends'.
"""

from __future__ import annotations

from dataclasses import dataclass

import tvm
from tvm import relax, tirx

from ..spans import operator_indices
from ..qnn import patterns as P
from . import partition as part

CMSIS = "cmsis-nn"
GENERIC = "generic"


@dataclass
class Entry:
    """One call of main after partitioning and legalization."""

    callee: str                 # external symbol or PrimFunc name
    kinds: list[str]            # byoc.qnn kinds covered ("pad" + "conv2d" when fused)
    backend: str
    reason: str                 # CMSIS-NN function, or why the generic path computes it
    label: str = ""
    shape: tuple = ()           # output shape
    operators: tuple = ()       # TFLite operator indices the call computes
    pad_fused: bool = False     # a CMSIS-NN call whose first operator is a fused PAD


def _pad_note(op: "P.QPad", decisions: list, reason: str) -> str:
    sig = (tuple(op.input.shape), tuple(tuple(p) for p in op.paddings), float(op.pad_value))
    reasons = []
    for d in decisions:
        if d.pad is not None and d.reason is not None and \
                (d.pad[0], tuple(tuple(p) for p in d.pad[1]), d.pad[2]) == sig \
                and d.reason not in reasons:
            reasons.append(d.reason)
    if reasons:
        return f"{reason}; not fused into the convolution: " + "; ".join(reasons)
    return reason


def generic_reason(kind: str, op, decisions: list) -> str:
    """Why a byoc.qnn kernel of ``kind`` (dataclass ``op``) stays on the generic path (a
    PAD: also why it was not fused into the following convolution)."""
    reason = part.offload_reason(kind, op)
    if reason is None:
        reason = "not matched by the CMSIS-NN patterns"
    if kind == "pad":
        return _pad_note(op, decisions, reason)
    return reason


def entries(mod: tvm.IRModule, cmsis_calls: dict, qnn_report: list,
            decisions: list) -> list[Entry]:
    """Main's operator calls in order with their placement."""
    ops = {name: op for name, op in qnn_report if name != "skipped"}
    call_tir = tvm.ir.Op.get("relax.call_tir")
    dps = tvm.ir.Op.get("relax.call_dps_packed")
    out = []
    for block in mod["main"].body.blocks:
        for b in block.bindings:
            v = b.value
            if not isinstance(v, relax.Call):
                continue
            ty = b.var.ty
            shape = tuple(int(d) for d in ty.shape.values) \
                if isinstance(ty, relax.TensorType) and ty.shape is not None else ()
            if v.op.same_as(dps) and isinstance(v.args[0], relax.ExternFunc):
                c = cmsis_calls.get(str(v.args[0].global_symbol))
                if c is not None:
                    kinds = ["pad", c.kind] if c.pad_fused else [c.kind]
                    reason = _pad_note(c.op, decisions, c.kernel) if c.kind == "pad" \
                        else c.kernel
                    out.append(Entry(c.function.name, kinds, CMSIS, reason, c.label, shape,
                                     tuple(c.operators), c.pad_fused))
            elif v.op.same_as(call_tir):
                gv = v.args[0]
                func = mod[gv]
                attrs = func.attrs if isinstance(func, tirx.PrimFunc) else None
                if attrs is not None and "byoc.kind" in attrs:
                    kind = str(attrs["byoc.kind"])
                    op = ops.get(gv.name_hint)
                    reason = generic_reason(kind, op, decisions) if op is not None \
                        else f"no CMSIS-NN kernel for {part.TFLITE_TYPES.get(kind, kind)}"
                    out.append(Entry(gv.name_hint, [kind], GENERIC, reason,
                                     str(attrs.get("byoc.op", kind)), shape,
                                     operator_indices(v)))
    return out


def rows(calls: list[Entry], decisions: list) -> "BackendRows":
    """CMSIS-NN's placement rows (byoc.placement), exact by TFLite operator index: the
    operators its partitions compute, and for the others why (the generic kernel's reason,
    or the partition decision that refused the operator's chain)."""
    from ..placement import BackendRows, Claim
    claims: dict[int, Claim] = {}
    generic: dict[int, Entry] = {}
    for e in calls:
        for i in e.operators:
            if e.backend != CMSIS:
                generic.setdefault(i, e)
            elif e.pad_fused and i == e.operators[0]:
                reason = f"fused into the padding of the following {e.label.split('+', 1)[-1]}"
                claims[i] = Claim(CMSIS, reason, e.callee)
            else:
                claims[i] = Claim(CMSIS, e.reason, e.callee)
    rejected: dict[int, str] = {}
    for d in decisions:
        if d.reason is not None and d.pad is None:
            for i in d.operators:
                rejected.setdefault(i, d.reason)

    def refusal(index: int, typ: str) -> str:
        key = "PAD" if typ == "PADV2" else typ
        if index in generic:
            return generic[index].reason
        if key in part.KERNELS_BY_TYPE:
            return rejected.get(index, "not matched by the CMSIS-NN patterns")
        return f"no CMSIS-NN kernel for {typ}"

    return BackendRows("CMSIS-NN", claims, refusal, base=True)
