"""C code generation for the Ethos-U regions (``relax.ext.ethos-u``).

``relax.transform.RunCodegen`` hands the ``Codegen="ethos-u"`` region functions to the Python
codegen registered as ``relax.ext.ethos-u``; it records them and main then calls each region as
``call_dps_packed(<symbol>, ...)``. :func:`generate` turns each region into:

1. a TFLite model written with byoc's TFLite writer (``byoc.tflite.qnn_writer``): one
   operator per composite chain, with the original weights, biases, per-channel
   quantization and operator options (padding type, strides, dilation, fused activation,
   ...) recovered from the byoc.qnn dataclasses; the region's parameters are the model inputs, its results the outputs;
2. Vela's compilation of it (in-process, ``byoc.ethosu.vela.compile_vela``): command stream,
   read-only blob, scratch size, IFM/OFM offsets inside the scratch area, cycle estimate;
3. a C function::

       int32_t <prefix>_ethosu_<n>(const int8_t* input_0, ..., int8_t* output_0, ...,
                                   uint8_t* scratch)

   whose scratch (Vela's scratch area, region 1 = region 2 in Shared_Sram mode) is placed in
   the planned arena. Each IO parameter declares Vela's offset of its tensor inside the
   scratch area (``CParam.scratch_offset``); the arena planner places the region's arena
   IO tensors there (the scratch area's lifetime then covers theirs), so nothing is
   copied. A tensor the planner could not place there (a model input or output, an IO of
   another region, an input still used after the region...) is copied in before / out
   after the command stream runs with ``ethosu_invoke_v3`` (base addresses: read-only
   blob, scratch, scratch). The command stream and the read-only blob are 16-byte aligned
   const arrays in section ``BYOC_NPU_SECTION`` (default: the constants' section).

The driver handle: ``<prefix>_set_npu(struct ethosu_driver*)`` (declared in the model header)
selects the NPU; without it each region reserves a driver with ``ethosu_reserve_driver()``
like TFLM's Ethos-U operator does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tvm
from tvm import relax

from ..codegen.external import ExternalCodegen
from ..codegen.tir_to_c import CFunction, CParam, c_type
from ..errors import ByocError
from ..spans import operator_indices
from ..qnn import patterns as P
from ..qnn import quant_math as qm
from ..tflite.builder import Quant
from ..tflite.qnn_writer import QnnModelWriter, operands
from . import partition as part

NPU_CONST = "BYOC_NPU_CONST"


# ---------------------------------------------------------------------------------------
# Regions -> TFLite
# ---------------------------------------------------------------------------------------

@dataclass
class RegionOp:
    kind: str
    op: object
    description: str


@dataclass
class Region:
    """One NPU region: its TFLite model, Vela's result and the generated C function."""

    symbol: str
    ops: list[RegionOp]
    tflite: bytes
    vela: object                     # byoc.ethosu.vela.VelaResult
    function: CFunction | None = None
    label: str = ""
    input_offsets: list[int] = field(default_factory=list)
    output_offsets: list[int] = field(default_factory=list)
    operators: tuple = ()            # TFLite operator indices it computes (byoc.placement)

    @property
    def npu_cycles(self) -> int:
        return int(self.vela.npu_cycles)

    @property
    def scratch_bytes(self) -> int:
        return int(self.vela.calls[0].scratch_size)

    @property
    def flash_bytes(self) -> int:
        c = self.vela.calls[0]
        return len(c.command_stream) + len(c.read_only)

    def to_json(self) -> dict:
        c = self.vela.calls[0]
        return {"function": self.function.name if self.function else self.symbol,
                "operators": [o.description for o in self.ops],
                "npu_cycles": self.npu_cycles, "scratch_bytes": self.scratch_bytes,
                "command_stream_bytes": len(c.command_stream),
                "read_only_bytes": len(c.read_only), "flash_bytes": self.flash_bytes}


def _resolve_function(e, local: dict, mod=None):
    if isinstance(e, relax.Function):
        return e
    if isinstance(e, relax.Var) and e in local:
        return _resolve_function(local[e], local, mod)
    if isinstance(e, tvm.ir.GlobalVar) and mod is not None:
        return mod[e]
    return None


def region_tflite(func: relax.Function) -> tuple[bytes, list[RegionOp]]:
    """The TFLite model of one region function (inputs: its parameters, outputs: its
    results, in order)."""
    w = QnnModelWriter()
    tensor: dict = {}        # relax var -> tflite tensor index
    quant: dict[int, tuple[float, int]] = {}
    for p in func.params:
        shape = tuple(int(d) for d in p.ty.shape)
        tensor[p] = w.tensor(shape, str(p.ty.dtype), None, name=p.name)
    local: dict = {}
    calls = []
    alias_of: dict = {}      # var bound to another var (e.g. the region's result) -> that var
    for block in func.body.blocks:
        for b in block.bindings:
            v = b.value
            if isinstance(v, relax.Function):
                local[b.var] = v
                continue
            if isinstance(v, relax.Call):
                f = _resolve_function(v.op, local)
                if f is not None and f.attrs is not None and "Composite" in f.attrs:
                    calls.append((b.var, f, list(v.args)))
                    continue
            if isinstance(v, relax.Var) and v in tensor:
                tensor[b.var] = tensor[v]
                continue
            if isinstance(v, relax.Var):   # an operator output bound again (resolved below)
                alias_of[b.var] = alias_of.get(v, v)
                continue
            raise ByocError(f"ethos-u codegen: unexpected binding {type(v).__name__} in region")
    # extract every chain and create its output tensor
    items = []
    for var, f, args in calls:
        args = [alias_of.get(a, a) for a in args]
        kind = str(f.attrs["Composite"])[len(part.PREFIX):]
        try:
            op = part.extract(kind, P._Chain(f))
        except P.ExtractError as err:
            raise ByocError(f"ethos-u codegen: {kind}: {err}") from None
        for arg in args:
            if arg not in tensor:
                raise ByocError("ethos-u codegen: region operand defined outside the region")
        ins = [tensor[a] for a in args]
        shape = tuple(int(d) for d in var.ty.shape)
        tensor[var] = w.tensor(shape, str(var.ty.dtype), None)
        if kind not in part.TRANSPARENT:
            for t in operands(op):
                if t.source is not None:
                    quant.setdefault(ins[t.source], (t.scale, t.zero_point))
            quant[tensor[var]] = (op.output.scale, op.output.zero_point)
        elif "ethosu.quant" in f.attrs:
            q = f.attrs["ethosu.quant"]
            quant.setdefault(ins[0], (float(str(q[0])), int(q[1])))
        items.append((kind, op, ins, tensor[var]))
    # transparent operators keep the quantization
    part.propagate_quant(quant, [(ins[0], out) for kind, _, ins, out in items
                                 if kind in part.TRANSPARENT])
    ops = []
    for kind, op, ins, out in items:
        if kind in part.TRANSPARENT:
            # unknown only around model inputs/outputs: a nominal quantization is exact
            # (these operators keep it; PAD pads with its value as the zero point)
            part.set_transparent_quant(kind, op, quant.get(ins[0]))
            quant.setdefault(ins[0], (op.input.scale, op.input.zero_point))
            quant.setdefault(out, (op.output.scale, op.output.zero_point))
        try:
            w.add(kind, op, ins, [out])
        except P.ExtractError as err:
            raise ByocError(f"ethos-u codegen: {kind}: {err}") from None
        ops.append(RegionOp(kind, op, part.describe(op)))
    for idx, q in quant.items():
        w.mb.tensors[idx].quant = Quant.per_tensor(q[0], q[1])
    body = func.body.body
    results = list(body.fields) if isinstance(body, relax.Tuple) else [body]
    outs = []
    for var, target in alias_of.items():
        if target in tensor:
            tensor[var] = tensor[target]
    for r in results:
        if r not in tensor:
            raise ByocError("ethos-u codegen: region result is not an operator output")
        outs.append(tensor[r])
    w.mb.set_io([tensor[p] for p in func.params], outs)
    return w.build(), ops


# ---------------------------------------------------------------------------------------
# C
# ---------------------------------------------------------------------------------------

def _nbytes(ty) -> int:
    return int(np.prod([int(d) for d in ty.shape], dtype=np.int64)) * \
        np.dtype(str(ty.dtype)).itemsize


def emit_function(name: str, prefix: str, func: relax.Function, vela) -> CFunction:
    if len(vela.calls) != 1 or vela.cpu_operators:
        raise ByocError(f"ethos-u codegen: Vela split region {name} into {len(vela.calls)} NPU "
                        f"call(s) and {len(vela.cpu_operators)} CPU operator(s)")
    call = vela.calls[0]
    body = func.body.body
    results = list(body.fields) if isinstance(body, relax.Tuple) else [body]
    if len(vela.inputs) != len(func.params) or len(vela.outputs) != len(results):
        raise ByocError(f"ethos-u codegen: Vela's model IO does not match region {name}")
    for kind, tensors in (("input", vela.inputs), ("output", vela.outputs)):
        for i, t in enumerate(tensors):
            if t.offset is None:
                raise ByocError(f"ethos-u codegen: Vela did not place {kind} {i} of {name}")
    # Each IO tensor may live inside the scratch area at Vela's offset (the arena planner
    # puts it there when it can: CParam.scratch_offset); otherwise it is copied. The IO
    # pointers may then alias the scratch area: none of them is restrict.
    params = []
    decls = []
    for i, (p, t) in enumerate(zip(func.params, vela.inputs)):
        params.append(CParam(f"input_{i}", str(p.ty.dtype), _nbytes(p.ty), False, t.offset))
        decls.append(f"const {c_type(str(p.ty.dtype))}* input_{i}")
    for k, (r, t) in enumerate(zip(results, vela.outputs)):
        params.append(CParam(f"output_{k}", str(r.ty.dtype), _nbytes(r.ty), True, t.offset))
        decls.append(f"{c_type(str(r.ty.dtype))}* output_{k}")
    decls.append("uint8_t* scratch")
    lines = []
    for i, t in enumerate(vela.inputs):
        lines += [f"  if ((const uint8_t*)input_{i} != scratch + {t.offset}) {{",
                  f"    memcpy(scratch + {t.offset}, input_{i}, {params[i].nbytes}u);",
                  "  }"]
    scratch = max(16, (call.scratch_size + 15) // 16 * 16)
    cs = np.frombuffer(call.command_stream, np.uint8)
    ro = np.frombuffer(call.read_only or b"\0", np.uint8)
    lines += [
        "  uint64_t base_addr[3];",
        "  size_t base_addr_size[3];",
        f"  base_addr[0] = (uint64_t)(uintptr_t){name}_read_only;",
        f"  base_addr_size[0] = {len(call.read_only)}u;",
        "  base_addr[1] = (uint64_t)(uintptr_t)scratch;",
        f"  base_addr_size[1] = {call.scratch_size}u;",
        "  base_addr[2] = (uint64_t)(uintptr_t)scratch;",
        f"  base_addr_size[2] = {call.scratch_size}u;",
        f"  const int status = {prefix}_npu_invoke({name}_command_stream, {len(cs)}, "
        "base_addr, base_addr_size, 3);",
        "  if (status != 0) {",
        "    return (int32_t)(status < 0 ? status : -status);",
        "  }",
    ]
    for k, t in enumerate(vela.outputs):
        p = params[len(func.params) + k]
        lines += [f"  if ((uint8_t*)output_{k} != scratch + {t.offset}) {{",
                  f"    memcpy(output_{k}, scratch + {t.offset}, {p.nbytes}u);",
                  "  }"]
    lines.append("  return 0;")
    source = f"int32_t {name}({', '.join(decls)}) {{\n" + "\n".join(lines) + "\n}\n"
    constants = [(f"{name}_command_stream", cs.copy(), NPU_CONST),
                 (f"{name}_read_only", ro.copy(), NPU_CONST)]
    return CFunction(name, source, params, scratch, constants=constants)


def ops_preamble(prefix: str) -> str:
    """Driver handle and invoke helper atop ``<prefix>_ops.c``."""
    return f"""/* Ethos-U NPU: the driver handle set with {prefix}_set_npu(), else one reserved with
   ethosu_reserve_driver() per region call (as TFLM's Ethos-U operator does). */
static struct ethosu_driver* {prefix}_npu_driver = NULL;

void {prefix}_set_npu(struct ethosu_driver* drv) {{
  {prefix}_npu_driver = drv;
}}

static int {prefix}_npu_invoke(const uint8_t* command_stream, int size, uint64_t* base_addr,
                             const size_t* base_addr_size, int n) {{
  struct ethosu_driver* drv = {prefix}_npu_driver;
  const int reserved = drv == NULL;
  if (reserved) {{
    drv = ethosu_reserve_driver();
    if (drv == NULL) {{
      return -1;
    }}
  }}
  const int status = ethosu_invoke_v3(drv, command_stream, size, base_addr, base_addr_size, n,
                                      NULL);
  if (reserved) {{
    ethosu_release_driver(drv);
  }}
  return status;
}}
"""


# ---------------------------------------------------------------------------------------
# RunCodegen
# ---------------------------------------------------------------------------------------

_CODEGEN = ExternalCodegen("ethos-u")


def generate(mod: tvm.IRModule, prefix: str, options: "part.VelaOptions") -> \
        tuple[tvm.IRModule, dict[str, Region]]:
    """RunCodegen on a module partitioned by ``partition_for_ethosu``; per call_dps_packed
    symbol the region with its TFLite model, Vela result and C function
    (``<prefix>_ethosu_<n>`` in call order)."""
    from .vela import compile_vela
    out, partitions = _CODEGEN.run(mod)
    regions: dict[str, Region] = {}
    for symbol, func in partitions:
        model, ops = region_tflite(func)
        res = compile_vela(model, options.accelerator, **options.kwargs())
        name = f"{prefix}_ethosu_{len(regions)}"
        region = Region(symbol, ops, model, res, operators=operator_indices(func))
        region.function = emit_function(name, prefix, func, res)
        region.label = "ETHOS-U " + "+".join(part.TFLITE_TYPES[o.kind] for o in ops)
        regions[symbol] = region
    return out, regions
