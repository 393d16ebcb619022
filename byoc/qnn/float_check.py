"""The float check: find every float computation left in a quantized graph.

After partitioning and integer legalization (``byoc.qnn.legalize``), a quantized TFLite
operator that no backend and no integer kernel took is still a QDQ chain: dequantize ->
float op(s) -> quantize. ``byoc.compile`` refuses such a model unless ``allow_float`` is
given (TFLM computes those operators with integer arithmetic, so the float result differs,
and a core without an FPU is slow).

What counts: a Relax operator call in ``main`` whose result or operand is a float tensor,
attributed to the TFLite operator it was converted from (``byoc.frontend.tag_operators``
spans), when that operator has a quantized tensor. Not counted: operators of a float part
of the model (no quantized tensor), DEQUANTIZE (its output is float by definition, computed
like TFLM: ``float(q - zp) * scale``) and a QUANTIZE of a float model input (the integer
``quantize_float`` kernel, float32 division like TFLM).
"""

from __future__ import annotations

from dataclasses import dataclass

import tvm
from tvm import relax

from ..spans import operator_index
from ..tflite.reader import TFLiteModel
from .ops import op_type

#: TFLite operators whose float side is their definition (TFLM computes it in float too).
FLOAT_BY_DEFINITION = frozenset({"DEQUANTIZE", "QUANTIZE"})
_OPAQUE_CALLS = ("relax.call_tir", "relax.call_dps_packed")
#: Why an operator has no integer kernel, when it is not just missing.
NO_KERNEL_REASONS: dict[str, str] = {}


@dataclass
class FloatComputation:
    """A TFLite operator that would be computed in float (``index`` None: unattributed)."""

    index: int | None
    type: str
    reason: str
    relax_ops: list[str]

    def message(self) -> str:
        where = f"{self.type} #{self.index}" if self.index is not None else \
            f"a float computation ({', '.join(self.relax_ops)})"
        return f"{where} would be computed in float: {self.reason}"

    def to_json(self) -> dict:
        return {"index": self.index, "type": self.type, "reason": self.reason,
                "relax_ops": self.relax_ops}


def _is_float(ty) -> bool:
    return isinstance(ty, relax.TensorType) and str(ty.dtype).startswith(("float", "bfloat"))


def _float_calls(mod: tvm.IRModule) -> list[relax.Call]:
    """Operator calls of ``main`` (and other non-composite Relax functions) touching floats."""
    found: list[relax.Call] = []
    for _, func in mod.functions.items():
        if not isinstance(func, relax.Function) or (
                func.attrs is not None and "Composite" in func.attrs):
            continue

        def visit(e):
            if not (isinstance(e, relax.Call) and isinstance(e.op, tvm.ir.Op)):
                return
            if e.op.name in _OPAQUE_CALLS:
                return
            tys = [e.ty] + [getattr(a, "ty", None) for a in e.args]
            if any(_is_float(t) for t in tys):
                found.append(e)

        relax.analysis.post_order_visit(func.body, visit)
    return found


def _quantized(model: TFLiteModel, index: int) -> bool:
    op = model.operators[index]
    return any(model.tensors[t].is_quantized for t in op.inputs + op.outputs if t >= 0)


def _skip_reasons(qnn_report: list) -> dict[str, list[str]]:
    """Why legalization left a matched chain in float, by TFLite operator type."""
    out: dict[str, list[str]] = {}
    for name, item in qnn_report:
        if name != "skipped":
            continue
        kind, _, why = str(item).partition(": ")
        out.setdefault(op_type(kind), []).append(why)
    return out


def find_float_computations(mod: tvm.IRModule, model: TFLiteModel,
                            qnn_report: list | None = None) -> list[FloatComputation]:
    """Every quantized TFLite operator of ``model`` that ``mod`` (partitioned and legalized)
    still computes in float, in model order; unattributed float calls come last, grouped.
    ``qnn_report``: the legalization report, for the reason of a skipped chain."""
    by_index: dict[int, list[str]] = {}
    loose: list[str] = []
    for call in _float_calls(mod):
        idx = operator_index(call)
        if idx is None or not 0 <= idx < len(model.operators):
            if call.op.name not in loose:
                loose.append(call.op.name)
            continue
        if model.operators[idx].type in FLOAT_BY_DEFINITION or not _quantized(model, idx):
            continue
        names = by_index.setdefault(idx, [])
        if call.op.name not in names:
            names.append(call.op.name)
    reasons = _skip_reasons(qnn_report or [])
    out = []
    for idx in sorted(by_index):
        typ = model.operators[idx].type
        pending = reasons.get(typ) or []
        reason = pending.pop(0) if pending else NO_KERNEL_REASONS.get(typ, "no integer kernel")
        out.append(FloatComputation(idx, typ, reason, by_index[idx]))
    if loose and out == [] and not model.is_float():
        out.append(FloatComputation(None, "?", "not attributed to a TFLite operator", loose))
    return out


def refusal(found: list[FloatComputation], label: str) -> str:
    """The one-line error ``byoc compile`` stops with."""
    first = found[0].message()
    more = f" (and {len(found) - 1} more operator(s))" if len(found) > 1 else ""
    return (f"{label}: {first}{more}; pass --allow-float (Python: allow_float=True) to "
            "compile it with float arithmetic anyway")
