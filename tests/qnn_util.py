"""Helpers for the QNN legalization tests: run TFLM (golden) and TVM on the same model."""

from __future__ import annotations

import numpy as np
import tflite
import tvm
from tvm import relax

from byoc.frontend import from_tflite

_TFLM_ARENA = 1 << 20


def tflm_run(buf: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run the model once in TFLM (reference kernels) and return all outputs."""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(buf, arena_size=_TFLM_ARENA)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    n = tflite.Model.GetRootAsModel(buf, 0).Subgraphs(0).OutputsLength()
    return [np.array(it.get_output(i)) for i in range(n)]


def import_model(buf: bytes) -> tvm.IRModule:
    return from_tflite(buf, legalize=False)


def compile_host(mod: tvm.IRModule):
    """LegalizeOps + fusion + build for the host CPU (LLVM); returns a Relax VM."""
    seq = tvm.transform.Sequential([
        relax.transform.LegalizeOps(),
        relax.transform.AnnotateTIROpPattern(),
        relax.transform.FoldConstant(),
        relax.transform.FuseOps(),
        relax.transform.FuseTIR(),
    ])
    mod = seq(mod)
    ex = tvm.compile(mod, target="llvm")
    return relax.VirtualMachine(ex, tvm.cpu())


def vm_run(vm, inputs: list[np.ndarray]) -> list[np.ndarray]:
    args = [tvm.runtime.tensor(x) for x in inputs]
    out = vm["main"](*args)
    if isinstance(out, (list, tuple)) or type(out).__name__ in ("Array", "Tuple"):
        return [o.numpy() for o in out]
    return [out.numpy()]


def random_inputs(buf: bytes, rng: np.random.Generator) -> list[np.ndarray]:
    model = tflite.Model.GetRootAsModel(buf, 0)
    sg = model.Subgraphs(0)
    xs = []
    for i in range(sg.InputsLength()):
        t = sg.Tensors(sg.Inputs(i))
        shape = tuple(t.ShapeAsNumpy())
        xs.append(rng.integers(-128, 128, size=shape).astype(np.int8))
    return xs


FLOAT_DTYPES = ("float16", "float32", "float64", "bfloat16")


def float_dtypes_in_tir(mod: tvm.IRModule) -> set[str]:
    """Float dtypes used anywhere in the module's TIR functions (buffers or expressions)."""
    found: set[str] = set()
    for _, func in mod.functions.items():
        if not isinstance(func, tvm.tirx.PrimFunc):
            continue
        text = func.script()
        for dt in FLOAT_DTYPES:
            if f'"{dt}"' in text or f"T.{dt}(" in text or f"T.{dt}" in text:
                found.add(dt)
    return found


def float_ops_in_relax(mod: tvm.IRModule) -> set[str]:
    """Names of Relax ops whose result is a float tensor (after legalize_quantized)."""
    found: set[str] = set()
    for _, func in mod.functions.items():
        if not isinstance(func, relax.Function):
            continue

        def visit(e):
            if isinstance(e, relax.Call) and isinstance(e.op, tvm.ir.Op):
                ty = e.ty
                if isinstance(ty, relax.TensorType) and str(ty.dtype).startswith(("float", "bfloat")):
                    found.add(e.op.name)

        relax.analysis.post_order_visit(func.body, visit)
    return found
