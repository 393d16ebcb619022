"""The generic C path: whatever no accelerator or kernel library took becomes TIR, then C.

``lower_generic`` is the reusable Relax step (LegalizeOps -> FuseOps -> FuseTIR) that turns
every remaining Relax operator into ``call_tir`` of a PrimFunc. Reshape-like operators are
kept as ``relax.reshape`` so that the AOT assembler can alias them instead of copying.
``emit_generic_functions`` prints each PrimFunc as a plain C function. ``GenericBackend``
is the target ``c`` of ``byoc.compile`` (``byoc.backend``): it legalizes the quantized
chains no other backend took into byoc.qnn's integer kernels, then lowers them.
"""

from __future__ import annotations

import tvm
from tvm import relax, tirx

from .backend import BackendCall, BackendDefaults, CompileContext
from .codegen.tir_to_c import CFunction, emit_c_function

# Operators that only reinterpret the shape of contiguous NHWC data: no code, no copy.
VIEW_OPS = ["relax.reshape", "relax.squeeze", "relax.expand_dims", "relax.flatten"]


def lower_generic(mod: tvm.IRModule) -> tvm.IRModule:
    """Legalize all remaining Relax operators to TIR and fuse elementwise chains.

    Keeps ``VIEW_OPS`` as Relax ops (they become aliases in the AOT plan) and leaves
    PrimFuncs that earlier stages marked opaque (``op_pattern`` 8) unfused.
    """
    seq = tvm.transform.Sequential([
        relax.transform.LegalizeOps(skip_ops=VIEW_OPS),
        relax.transform.AnnotateTIROpPattern(),
        # FuseOps warns on stderr ("There are dead codes...") when an unused binding is
        # left, e.g. a model operator whose output nothing reads.
        relax.transform.DeadCodeElimination(),
        relax.transform.FuseOps(),
        relax.transform.FuseTIR(),
        relax.transform.DeadCodeElimination(),
    ])
    return seq(mod)


def primfuncs(mod: tvm.IRModule) -> dict[str, tirx.PrimFunc]:
    return {gv.name_hint: f for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)}


def emit_generic_functions(mod: tvm.IRModule, prefix: str,
                           num_outputs: dict[str, int] | None = None) -> dict[str, CFunction]:
    """Print every PrimFunc of ``mod`` as ``int32_t <prefix>_<name>(...)``.

    ``num_outputs`` gives, per PrimFunc name, how many trailing parameters are outputs
    (default: as ``main`` calls it, e.g. the parts of a SPLIT; 1 when not called).
    """
    out = {}
    if num_outputs is None:
        num_outputs = call_tir_output_counts(mod)
    for name, func in sorted(primfuncs(mod).items()):
        n_out = num_outputs.get(name, 1)
        out[name] = emit_c_function(f"{prefix}_{name}", func, n_out,
                                    inplace=inplace_candidates(func, n_out))
    return out


def call_tir_output_counts(mod: tvm.IRModule) -> dict[str, int]:
    """{PrimFunc name: number of outputs} of every ``call_tir`` in ``main`` (a tuple
    ``out_ty`` means several)."""
    call_tir = tvm.ir.Op.get("relax.call_tir")
    counts: dict[str, int] = {}
    main = mod["main"]
    for block in main.body.blocks:
        for b in block.bindings:
            v = b.value
            if isinstance(v, relax.Call) and v.op.same_as(call_tir):
                ty = b.var.ty
                counts[v.args[0].name_hint] = (len(ty.fields) if isinstance(ty, relax.TupleType)
                                               else 1)
    return counts


# byoc.qnn kernels that compute out[i] from in[i] (and broadcast operands) only.
_ELEMENTWISE_KINDS = {"add", "mul", "requantize"}
_K_ELEMWISE = 0  # TVM's OpPatternKind for pure elementwise functions


def inplace_candidates(func: tirx.PrimFunc, num_outputs: int = 1) -> dict[int, list[int]]:
    """For an elementwise PrimFunc with one output: the inputs of the output's shape and
    dtype, whose memory the output may reuse (each element is read before it is written)."""
    attrs = func.attrs or {}
    elementwise = (str(attrs.get("byoc.kind", "")) in _ELEMENTWISE_KINDS
                   or int(attrs.get("op_pattern", -1)) == _K_ELEMWISE)
    if not elementwise or num_outputs != 1:
        return {}

    def signature(p):
        return tuple(int(d) for d in p.ty.shape), str(p.ty.dtype)

    params = list(func.params)
    out_index = len(params) - 1
    out_sig = signature(params[out_index])
    cands = [i for i, p in enumerate(params[:out_index]) if signature(p) == out_sig]
    return {out_index: cands} if cands else {}


class GenericBackend(BackendDefaults):
    """Target ``c``, always the last backend: takes everything the others left (what no
    backend claims is generic in ``byoc.placement``, so it adds no rows of its own)."""

    name = "generic"

    def partition(self, mod: tvm.IRModule, ctx: CompileContext) -> tvm.IRModule:
        """byoc.qnn's integer legalization of the quantized chains left (its report goes to
        ``ctx.qnn_report``); skipped for an already legalized Relax input."""
        if not ctx.legalize:
            return mod
        from .qnn.legalize import legalize_quantized
        return legalize_quantized(mod, report=ctx.qnn_report)

    def codegen(self, mod: tvm.IRModule, ctx: CompileContext
                ) -> tuple[tvm.IRModule, dict[str, BackendCall]]:
        """Lower what is left to TIR and C: one C function per PrimFunc, labelled with its
        TFLite operator (PrimFunc attribute ``byoc.op``)."""
        lowered = lower_generic(mod)
        prims = primfuncs(lowered)
        calls = {}
        for name, cfunc in emit_generic_functions(lowered, ctx.prefix).items():
            attrs = prims[name].attrs or {}
            label = str(attrs["byoc.op"]) if "byoc.op" in attrs else name
            calls[name] = BackendCall(cfunc, label)
        return lowered, calls
