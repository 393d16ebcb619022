"""TFLite operator indices carried on Relax calls, as spans.

``byoc.frontend.tag_operators`` gives every call of the imported ``main`` a span naming the
TFLite operator it was converted from (line ``index + 1``, source
:data:`OPERATOR_SPAN_SOURCE`); a call standing for several operators (a byoc.qnn kernel
call, a partition) holds the range first..last. The partitions, codegens, legalization and
the float check read them back, so every call names its operators by index
(``byoc.placement``).
"""

from __future__ import annotations

import tvm
from tvm import relax


#: Source name of the spans that tie the Relax calls of one TFLite operator to its index.
OPERATOR_SPAN_SOURCE = "tflite_operator"


def with_span(e: relax.Expr, span: tvm.ir.Span) -> relax.Expr:
    """``e`` (a call) with ``span``; anything else unchanged."""
    if isinstance(e, relax.Call):
        return relax.Call(e.op, e.args, e.attrs, e.ty_args, span, ret_ty=e.ty)
    return e


def operator_index(expr: relax.Expr) -> int | None:
    """The TFLite operator index ``byoc.frontend.tag_operators`` recorded on ``expr`` (None: unknown;
    the first one for a call standing for several, see :func:`with_operator_span`)."""
    span = getattr(expr, "span", None)
    if span is None or str(span.source_name.name) != OPERATOR_SPAN_SOURCE:
        return None
    return int(span.line) - 1


def _span_indices(expr) -> list[int]:
    span = getattr(expr, "span", None)
    if span is None or str(span.source_name.name) != OPERATOR_SPAN_SOURCE:
        return []
    first, last = int(span.line) - 1, max(int(span.end_line), int(span.line)) - 1
    return list(range(first, last + 1))


def operator_indices(*exprs) -> tuple[int, ...]:
    """The sorted TFLite operator indices recorded on every call inside ``exprs`` (calls,
    functions - a partition or composite function, with its nested functions - or
    bindings' values): the operators a partition computes."""
    found: set[int] = set()

    def visit(e):
        if isinstance(e, relax.Call):
            found.update(_span_indices(e))

    for expr in exprs:
        relax.analysis.post_order_visit(expr, visit)
    return tuple(sorted(found))


def with_operator_span(call: relax.Expr, indices) -> relax.Expr:
    """``call`` tagged with the TFLite operators ``indices`` it computes (a call replacing a
    matched chain, e.g. byoc.qnn's kernel calls; the span holds the range first..last)."""
    indices = sorted(indices)
    if not indices or not isinstance(call, relax.Call):
        return call
    first, last = indices[0] + 1, indices[-1] + 1
    return with_span(call, tvm.ir.Span(tvm.ir.SourceName(OPERATOR_SPAN_SOURCE), first, last,
                                       0, 0))
