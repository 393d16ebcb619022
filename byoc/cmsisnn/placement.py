"""Where each operator went (CMSIS-NN or the generic C path) and why.

Built from the module after the CMSIS-NN partitions were generated and the rest was
legalized by byoc.qnn: main's calls in order are CMSIS-NN partitions (``call_dps_packed``)
and byoc.qnn kernels (``call_tir`` of a PrimFunc with attribute ``byoc.kind``). Each call is
attributed to the TFLite operator it comes from: the frontend converts operators in model
order, so the k-th call of a kind is the k-th TFLite operator of the matching type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tvm
from tvm import relax, tirx

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


@dataclass
class OperatorPlacement:
    """One TFLite operator."""

    index: int
    type: str
    backend: str                # "cmsis-nn", "generic", or "none" (no code: a view)
    reason: str
    callees: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"index": self.index, "type": self.type, "backend": self.backend,
                "reason": self.reason}


#: TFLite operators that become views of their input (no code at all).
VIEW_TYPES = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


def _pad_note(op: "P.QPad", decisions: list) -> str:
    sig = (tuple(op.input.shape), tuple(tuple(p) for p in op.paddings), float(op.pad_value))
    reasons = []
    for d in decisions:
        if d.pad is not None and d.reason is not None and \
                (d.pad[0], tuple(tuple(p) for p in d.pad[1]), d.pad[2]) == sig \
                and d.reason not in reasons:
            reasons.append(d.reason)
    if reasons:
        return "no CMSIS-NN kernel for PAD; not fused into the convolution: " + "; ".join(reasons)
    return "no CMSIS-NN kernel for PAD (not followed by a convolution it can be fused into)"


def generic_reason(kind: str, op, decisions: list) -> str:
    """Why a byoc.qnn kernel of ``kind`` (dataclass ``op``) stays on the generic path."""
    if kind == "pad":
        return _pad_note(op, decisions)
    reason = part.offload_reason(kind, op)
    if reason is None:
        return "not matched by the CMSIS-NN patterns"
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
                    out.append(Entry(c.function.name, kinds, CMSIS, c.kernel, c.label, shape))
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
                                     str(attrs.get("byoc.op", kind)), shape))
    return out


def per_operator(operators: list[tuple], calls: list[Entry],
                 decisions: list) -> list[OperatorPlacement]:
    """Attribute calls to the TFLite operators ``(index, type[, output shape])`` of the
    model: the next call of the operator's kind, with the same output shape when known
    (the shape check keeps a chain the frontend left in float from shifting the others)."""
    queues: dict[str, list[Entry]] = {}
    for e in calls:
        for k in e.kinds:
            queues.setdefault(part.TFLITE_TYPES.get(k, k), []).append(e)
    rejected: dict[str, list[str]] = {}
    for d in decisions:
        if d.reason is not None and d.pad is None:
            rejected.setdefault(part.TFLITE_TYPES[d.kind], []).append(d.reason)
    out = []
    for index, typ, *rest in operators:
        key = "PAD" if typ == "PADV2" else typ
        shape = tuple(rest[0]) if rest and rest[0] is not None else None
        pick = queue = None
        # A one-channel DEPTHWISE_CONV_2D is imported as (and computed by) a plain
        # convolution: its call may be in the CONV_2D queue.
        for k in [key] + (["CONV_2D"] if key == "DEPTHWISE_CONV_2D" else []):
            queue = queues.get(k) or []
            for i, e in enumerate(queue):
                # a PAD fused into a convolution has the convolution's output shape
                fused_pad = key == "PAD" and e.backend == CMSIS
                if (shape is None and k == key) or fused_pad or not e.shape or e.shape == shape:
                    pick = i
                    break
            if pick is not None:
                break
        if pick is not None:
            e = queue.pop(pick)
            if key == "PAD" and e.backend == CMSIS:
                reason = f"fused into the padding of the following {e.label.split('+', 1)[-1]}"
            else:
                reason = e.reason
            out.append(OperatorPlacement(index, typ, e.backend, reason, [e.callee]))
        elif typ in VIEW_TYPES:
            out.append(OperatorPlacement(index, typ, "none", "view of its input (no code)"))
        elif key in part.KERNELS_BY_TYPE and rejected.get(key):
            out.append(OperatorPlacement(index, typ, GENERIC, rejected[key][0]))
        elif key in part.KERNELS_BY_TYPE:
            out.append(OperatorPlacement(index, typ, GENERIC,
                                         "not matched by the CMSIS-NN patterns"))
        else:
            out.append(OperatorPlacement(index, typ, GENERIC, f"no CMSIS-NN kernel for {typ}"))
    return out


def format_table(rows: list[OperatorPlacement], target: str) -> str:
    """The placement table ``byoc info --target`` prints."""
    n_cmsis = sum(r.backend == CMSIS for r in rows)
    lines = [f"Placement for --target {target} ({n_cmsis} of {len(rows)} operators on CMSIS-NN):",
             f"  {'#':>3}  {'operator':<18} {'backend':<9} detail"]
    for r in rows:
        lines.append(f"  {r.index:>3}  {r.type:<18} {r.backend:<9} {r.reason}")
    return "\n".join(lines)
