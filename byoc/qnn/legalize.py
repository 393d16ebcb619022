"""Replace the frontend's quantized QDQ chains with integer ``call_tir`` kernels.

``legalize_quantized(mod)``:

1. ``FuseOpsByPattern`` with the ``byoc.qnn.*`` patterns (constants bound into the
   composite functions, no codegen annotation);
2. every call of a ``byoc.qnn.*`` composite function becomes ``R.call_tir`` of the
   kernel its operator spec names (:mod:`byoc.qnn.ops`; the kernels are
   :mod:`byoc.qnn.kernels_te`). Weights stay int8 constants, biases int32 (int64 for
   int16 "16x8" layers) and per-channel multipliers/shifts int32 constants, the int16
   SOFTMAX tables int16 constants, all passed as call arguments;
3. the composite functions are dropped.

Each kernel PrimFunc is named ``<spec.c_name>_<n>`` (``qconv2d_0``, ``qadd_1``...) and carries the
attributes ``op_pattern = 8`` (kOpaque, so ``FuseOps`` leaves it alone), ``byoc.op`` (a
short description such as ``"CONV_2D 3x3 s1"``) and ``byoc.kind`` (the pattern kind).
Unmatched operators are left untouched for ``relax.transform.LegalizeOps``. A matched chain
whose parameters the kernels do not support (``ExtractError``, e.g. per-axis activation
quantization) is inlined back as its original ops and reported.
"""

from __future__ import annotations

import tvm
from tvm import relax

from ..spans import operator_indices, with_operator_span
from . import ops
from . import patterns as P

OPAQUE = 8  # relay/relax OpPatternKind::kOpaque

def partition(mod: tvm.IRModule) -> tvm.IRModule:
    """Step 1 only: group every recognised chain into a ``byoc.qnn.*`` composite function."""
    return relax.transform.FuseOpsByPattern(
        ops.patterns(), bind_constants=True, annotate_codegen=False)(mod)


@relax.expr_functor.mutator
class _Rewriter(relax.PyExprMutator):
    def __init__(self, mod: tvm.IRModule):
        super().__init__(mod)
        self.mod_ = mod
        self.count = 0
        self.skipped: list[str] = []
        self.kernels: list[tuple[str, P.QOp]] = []

    def visit_call_(self, call):  # noqa: N802 (TVM visitor naming)
        call = self.visit_expr_post_order(call)
        if not isinstance(call.op, relax.GlobalVar):
            return call
        func = self.mod_[call.op]
        kind = ops.composite_kind(func) if isinstance(func, relax.Function) else None
        if kind is None:
            return call
        try:
            op = ops.extract(func)
            kernel = ops.build_kernel(kind, op)
        except P.ExtractError as err:
            self.skipped.append(f"{kind}: {err}")
            return call
        name = f"{ops.spec(kind).c_name}_{self.count}"
        self.count += 1
        prim = kernel.func.with_attrs({
            "op_pattern": OPAQUE,
            "byoc.op": ops.describe(op),
            "byoc.kind": kind,
        })
        gv = self.builder_.add_func(prim, name)
        args = [call.args[a] if isinstance(a, int) else relax.const(a, str(a.dtype))
                for a in kernel.args]
        self.kernels.append((gv.name_hint, op))
        out_ty = relax.TensorType(kernel.out_shape, kernel.out_dtype)
        # the kernel call names the TFLite operator(s) of its chain (byoc.placement)
        return with_operator_span(relax.call_tir(gv, relax.Tuple(args), out_ty),
                                  operator_indices(func))


def legalize_quantized(mod: tvm.IRModule, *, report: list | None = None) -> tvm.IRModule:
    """Fuse the quantized chains and replace them with integer ``call_tir`` kernels.

    ``report``, when given, receives ``(kernel name, dataclass)`` for every replacement and
    ``("skipped", message)`` for a chain left in float."""
    mod = partition(mod)
    rewriter = _Rewriter(mod)
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function) and ops.composite_kind(func) is None:
            new_func = rewriter.visit_expr(func)
            rewriter.builder_.update_func(gv, new_func)
    out = rewriter.builder_.get()
    # Composite functions no longer called are dropped; those kept (skipped chains) are
    # inlined so that LegalizeOps sees plain ops again.
    out = _drop_or_inline_composites(out)
    if report is not None:
        report.extend(rewriter.kernels)
        report.extend(("skipped", s) for s in rewriter.skipped)
    return out


def _drop_or_inline_composites(mod: tvm.IRModule) -> tvm.IRModule:
    used = set()
    for _, func in mod.functions.items():
        if isinstance(func, relax.Function) and ops.composite_kind(func) is None:
            relax.analysis.post_order_visit(
                func, lambda e: used.add(e.op.name_hint)
                if isinstance(e, relax.Call) and isinstance(e.op, relax.GlobalVar) else None)
    for gv in list(mod.get_global_vars()):
        func = mod[gv]
        if isinstance(func, relax.Function) and ops.composite_kind(func) is not None \
                and gv.name_hint not in used:
            del mod[gv]
    if any(isinstance(f, relax.Function) and ops.composite_kind(f) is not None
           for _, f in mod.functions.items()):
        # Skipped chains: strip the composite/primitive attributes and inline them.
        for gv in list(mod.get_global_vars()):
            func = mod[gv]
            if isinstance(func, relax.Function) and ops.composite_kind(func) is not None:
                mod[gv] = func.without_attr("Composite").without_attr("Primitive")
        mod = relax.transform.InlinePrivateFunctions()(mod) \
            if hasattr(relax.transform, "InlinePrivateFunctions") else mod
    return mod


def kernel_report(mod: tvm.IRModule) -> list[tuple[str, str]]:
    """(PrimFunc name, ``byoc.op`` description) of every quantized kernel in ``mod``."""
    out = []
    for gv, func in mod.functions.items():
        if isinstance(func, tvm.tirx.PrimFunc) and func.attrs is not None \
                and "byoc.op" in func.attrs:
            out.append((gv.name_hint, str(func.attrs["byoc.op"])))
    return sorted(out)
