"""C code generation for the ``cmsis-nn`` partitions.

``relax.ext.cmsisnn`` is a Python codegen (registered by ``byoc.codegen.external``):
``relax.transform.RunCodegen`` hands it the partition functions, it records them and returns
no runtime module, and main then calls each partition as ``call_dps_packed(<symbol>, ...)``.
:func:`generate` runs that and turns each recorded partition into a :class:`CFunction` of
the shape the AOT assembler consumes::

    int32_t <prefix>_cmsis_<kind>_<n>(const int8_t* restrict input_0, ...,
                                      int8_t* restrict output[, uint8_t* restrict scratch])

(``int16_t`` operands for the int16-activation "16x8" kernels, ``arm_*_s16``)

whose body fills the CMSIS-NN v7 parameter structs with constants computed here the way
TFLite/TFLM compute them (byoc.qnn.quant_math via the byoc.qnn dataclasses and
byoc.cmsisnn_params) and calls the kernel. Weights, biases, per-channel multipliers and
shifts (and, for the Helium fully connected kernel, the ``arm_vector_sum_s8`` kernel sums)
are the function's own ``BYOC_CONST`` arrays (``CFunction.constants``). The scratch buffer
(``CFunction.scratch_bytes``) follows the ``*_get_buffer_size`` rules of the kernel path the
cpu compiles (Helium for cortex-m55/m85, DSP for m4/m7/m33, portable C for m0plus/m3/host);
the AOT planner places it in the arena.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax

from .. import cmsisnn_params as cp
from ..codegen.external import ExternalCodegen
from ..codegen.tir_to_c import CFunction, CParam
from ..errors import ByocError
from ..spans import operator_indices
from ..qnn import patterns as P
from ..qnn import quant_math as qm
from . import partition as part

HEADER = "arm_nnfunctions.h"


@dataclass
class CmsisCall:
    """One partition: the generated function and what it computes."""

    symbol: str                  # call_dps_packed symbol in main
    kind: str                    # byoc.qnn pattern kind ("conv2d", ...)
    op: "P.QOp"
    function: CFunction
    kernel: str                  # the CMSIS-NN function called
    label: str                   # e.g. "PAD+CONV_2D 3x3 s1"
    pad_fused: bool = False
    operators: tuple = ()        # TFLite operator indices it computes (byoc.placement)


_CODEGEN = ExternalCodegen("cmsisnn")


# ---------------------------------------------------------------------------------------
# C text helpers
# ---------------------------------------------------------------------------------------

def _dims(name: str, n: int, h: int, w: int, c: int) -> str:
    return f"  const cmsis_nn_dims {name} = {{.n = {n}, .h = {h}, .w = {w}, .c = {c}}};"


def _tile(w: int, h: int) -> str:
    return f"{{.w = {w}, .h = {h}}}"


def _act(lo: int, hi: int) -> str:
    return f"{{.min = {lo}, .max = {hi}}}"


class _Builder:
    """Accumulates the parameters, constants and body of one C function."""

    def __init__(self, name: str, n_inputs: int, out_nbytes: int, dtype: str = "int8"):
        self.name = name
        self.n_inputs = n_inputs
        self.dtype = dtype          # activation dtype: int8, or int16 for the _s16 kernels
        self.params = [CParam(f"input_{i}", dtype, 0, False) for i in range(n_inputs)]
        self.params.append(CParam("output", dtype, out_nbytes, True))
        self.constants: list[tuple[str, np.ndarray]] = []
        self.lines: list[str] = []
        self.scratch = 0

    def const(self, suffix: str, arr: np.ndarray, dtype: str) -> str:
        name = f"{self.name}_{suffix}"
        data = np.ascontiguousarray(np.asarray(arr).astype(dtype).reshape(-1))
        self.constants.append((name, data))
        return name

    def tensor(self, t: "P.QTensor", suffix: str) -> str:
        """C expression of an activation operand: a parameter or a constant of this function."""
        if t.source is not None:
            return f"input_{t.source}"
        return self.const(suffix, t.data, t.dtype)

    def set_input_size(self, index: int, nbytes: int) -> None:
        p = self.params[index]
        self.params[index] = CParam(p.name, p.dtype, nbytes, False)

    def function(self, status_expr: str | None) -> CFunction:
        decls = [f"{'' if p.is_output else 'const '}{p.dtype}_t* restrict {p.name}"
                 for p in self.params]
        if self.scratch:
            decls.append("uint8_t* restrict scratch")
        body = list(self.lines)
        if status_expr is None:
            body.append("  return 0;")
        else:
            body += [f"  const arm_cmsis_nn_status status = {status_expr};",
                     "  return status == ARM_CMSIS_NN_SUCCESS ? 0 : (int32_t)status;"]
        source = f"int32_t {self.name}({', '.join(decls)}) {{\n" + "\n".join(body) + "\n}\n"
        return CFunction(self.name, source, list(self.params), self.scratch,
                         constants=list(self.constants))


def _nbytes(t: "P.QTensor") -> int:
    return int(np.prod(t.shape, dtype=np.int64)) * np.dtype(t.dtype).itemsize


def _ctx(b: _Builder, size: int, buf: str | None = None) -> None:
    """``ctx``: the planned scratch area (``size`` bytes) or ``buf`` (a constant) or none."""
    if buf is not None:
        b.lines.append(f"  const cmsis_nn_context ctx = {{.buf = (void*){buf}, .size = {size}}};")
    elif size > 0:
        b.scratch = size
        b.lines.append(f"  const cmsis_nn_context ctx = {{.buf = scratch, .size = {size}}};")
    else:
        b.lines.append("  const cmsis_nn_context ctx = {.buf = NULL, .size = 0};")


def _per_channel(b: _Builder, op) -> None:
    mult = b.const("multiplier", op.multipliers, "int32")
    shift = b.const("shift", op.shifts, "int32")
    b.lines.append("  const cmsis_nn_per_channel_quant_params quant_params = "
                   f"{{.multiplier = (int32_t*){mult}, .shift = (int32_t*){shift}}};")


def _bias(b: _Builder, op) -> str:
    """The bias argument: an int32 array (int8 kernels) or an int64 array (_s16 kernels)."""
    if op.bias is None:
        return "NULL"
    return b.const("bias", op.bias, "int64" if b.dtype == "int16" else "int32")


def _s16(b: _Builder) -> bool:
    return b.dtype == "int16"


# ---------------------------------------------------------------------------------------
# Per kind
# ---------------------------------------------------------------------------------------

def _conv(b: _Builder, op: "P.QConv2D", path: str) -> tuple[str, str]:
    n, h, w, c = op.input.shape
    _, oh, ow, oc = op.output.shape
    _, kh, kw, _ = op.weight.shape
    top, left = op.padding[0], op.padding[1]
    sizer = cp.conv_buffer_size_s16 if _s16(b) else cp.conv_buffer_size
    size = sizer(path, (n, h, w, c), op.weight.shape, op.output.shape, (top, left),
                 op.strides, op.dilation)
    _ctx(b, size)
    b.lines += [
        "  const cmsis_nn_conv_params conv_params = {",
        f"    .input_offset = {-op.input.zero_point}, .output_offset = {op.output.zero_point},",
        f"    .stride = {_tile(op.strides[1], op.strides[0])}, "
        f".padding = {_tile(left, top)},",
        f"    .dilation = {_tile(op.dilation[1], op.dilation[0])}, "
        f".activation = {_act(op.act_min, op.act_max)}}};",
    ]
    _per_channel(b, op)
    weights = b.const("weights", op.weight, "int8")
    bias = _bias(b, op)
    b.lines += [_dims("input_dims", n, h, w, c), _dims("filter_dims", oc, kh, kw, c),
                _dims("bias_dims", 1, 1, 1, oc), _dims("output_dims", n, oh, ow, oc)]
    fn = part.kernel_name("conv2d", b.dtype)
    if _s16(b):
        # The s16 wrapper takes the bias through cmsis_nn_bias_data (int64 for TFLite 16x8).
        b.lines.append("  const cmsis_nn_bias_data bias_data = "
                       f"{{.data = {bias}, .is_int32_bias = false}};")
        bias = "&bias_data"
    call = (f"{fn}(&ctx, &conv_params, &quant_params, &input_dims, "
            f"{b.tensor(op.input, 'input')}, &filter_dims, {weights}, &bias_dims, {bias}, "
            "&output_dims, output)")
    return call, fn


def _depthwise(b: _Builder, op: "P.QDepthwise", path: str) -> tuple[str, str]:
    n, h, w, c = op.input.shape
    _, oh, ow, oc = op.output.shape
    _, kh, kw, _ = op.weight.shape
    top, left = op.padding[0], op.padding[1]
    sizer = cp.depthwise_buffer_size_s16 if _s16(b) else cp.depthwise_buffer_size
    size = sizer(path, (n, h, w, c), op.weight.shape, op.output.shape, (top, left),
                 op.strides, op.dilation, op.depth_multiplier)
    _ctx(b, size)
    b.lines += [
        "  const cmsis_nn_dw_conv_params dw_conv_params = {",
        f"    .input_offset = {-op.input.zero_point}, .output_offset = {op.output.zero_point}, "
        f".ch_mult = {op.depth_multiplier},",
        f"    .stride = {_tile(op.strides[1], op.strides[0])}, "
        f".padding = {_tile(left, top)},",
        f"    .dilation = {_tile(op.dilation[1], op.dilation[0])}, "
        f".activation = {_act(op.act_min, op.act_max)}}};",
    ]
    _per_channel(b, op)
    weights = b.const("weights", op.weight, "int8")
    bias = _bias(b, op)
    b.lines += [_dims("input_dims", n, h, w, c), _dims("filter_dims", 1, kh, kw, oc),
                _dims("bias_dims", 1, 1, 1, oc), _dims("output_dims", n, oh, ow, oc)]
    fn = part.kernel_name("depthwise_conv2d", b.dtype)
    call = (f"{fn}(&ctx, &dw_conv_params, &quant_params, &input_dims, "
            f"{b.tensor(op.input, 'input')}, &filter_dims, {weights}, &bias_dims, {bias}, "
            "&output_dims, output)")
    return call, fn


def _transpose_conv(b: _Builder, op: "P.QTransposeConv", path: str) -> tuple[str, str]:
    """TRANSPOSE_CONV int8 (``arm_transpose_conv_wrapper_s8``): one scratch area holds
    ``ctx`` and, after it, ``reverse_conv_ctx`` (Arm's flipped filter; sizes of
    cmsisnn_params.transpose_conv_buffer_sizes, the same for Arm's v7.0.0 and main)."""
    n, h, w, c = op.input.shape
    _, oh, ow, oc = op.output.shape
    _, kh, kw, _ = op.weight.shape
    (sh, sw), (top, left) = op.strides, op.padding
    size, rsize = cp.transpose_conv_buffer_sizes(path, op.input.shape, op.weight.shape,
                                                 op.output.shape, op.strides)
    b.scratch = size + rsize
    b.lines.append(f"  const cmsis_nn_context ctx = {{.buf = scratch, .size = {size}}};")
    rbuf = f"scratch + {size}" if rsize else "NULL"
    b.lines.append(f"  const cmsis_nn_context reverse_ctx = {{.buf = {rbuf}, .size = {rsize}}};")
    # padding_offsets: TFLite's odd part of the total padding (implied by the output size)
    odd_h = max((h - 1) * sh + kh - oh, 0) % 2
    odd_w = max((w - 1) * sw + kw - ow, 0) % 2
    b.lines += [
        "  const cmsis_nn_transpose_conv_params tconv_params = {",
        f"    .input_offset = {-op.input.zero_point}, .output_offset = {op.output.zero_point},",
        f"    .stride = {_tile(sw, sh)}, .padding = {_tile(left, top)}, "
        f".padding_offsets = {_tile(odd_w, odd_h)},",
        f"    .dilation = {_tile(1, 1)}, .activation = {_act(op.act_min, op.act_max)}}};",
    ]
    _per_channel(b, op)
    weights = b.const("weights", op.weight, "int8")
    bias = _bias(b, op)
    b.lines += [_dims("input_dims", n, h, w, c), _dims("filter_dims", oc, kh, kw, c),
                _dims("bias_dims", 1, 1, 1, oc), _dims("output_dims", n, oh, ow, oc)]
    fn = part.kernel_name("transpose_conv")
    call = (f"{fn}(&ctx, &reverse_ctx, &tconv_params, &quant_params, &input_dims, "
            f"{b.tensor(op.input, 'input')}, &filter_dims, {weights}, &bias_dims, {bias}, "
            "&output_dims, output)")
    return call, fn


def _fully_connected(b: _Builder, op: "P.QFullyConnected", path: str) -> tuple[str, str]:
    depth = int(op.input.shape[-1])
    batches = int(np.prod(op.input.shape[:-1], dtype=np.int64))
    units = int(op.weight.shape[0])
    input_offset = -op.input.zero_point
    filter_offset = -op.weight_zero_point
    size = (cp.fully_connected_buffer_size_s16(path, units) if _s16(b)
            else cp.fully_connected_buffer_size(path, units))
    if _s16(b):
        _ctx(b, size)
    elif size:
        # Helium: the kernel sums arm_vector_sum_s8 would compute, precomputed into flash.
        sums = cp.vector_sum(op.weight, input_offset, filter_offset, op.bias)
        _ctx(b, size, b.const("kernel_sums", sums, "int32"))
    else:
        _ctx(b, 0)
    b.lines += [
        "  const cmsis_nn_fc_params fc_params = {",
        f"    .input_offset = {input_offset}, .filter_offset = {filter_offset}, "
        f".output_offset = {op.output.zero_point},",
        f"    .activation = {_act(op.act_min, op.act_max)}}};",
    ]
    if op.per_channel:   # int8 only (checked by the partitioning)
        _per_channel(b, op)
        fn = "arm_fully_connected_per_channel_s8"
    else:
        b.lines.append("  const cmsis_nn_per_tensor_quant_params quant_params = "
                       f"{{.multiplier = {int(op.multipliers[0])}, .shift = {int(op.shifts[0])}}};")
        fn = part.kernel_name("fully_connected", b.dtype)
    weights = b.const("weights", op.weight, "int8")
    bias = _bias(b, op)
    b.lines += [_dims("input_dims", batches, 1, 1, depth), _dims("filter_dims", depth, 1, 1, units),
                _dims("bias_dims", 1, 1, 1, units), _dims("output_dims", batches, 1, 1, units)]
    call = (f"{fn}(&ctx, &fc_params, &quant_params, &input_dims, {b.tensor(op.input, 'input')}, "
            f"&filter_dims, {weights}, &bias_dims, {bias}, &output_dims, output)")
    return call, fn


def _transposed_copy(b: _Builder, src: str, dst: str, offset: int, shape) -> str:
    """C block copying the run-time operand ``src`` ``[B, R, C]`` into the scratch area at
    ``offset`` as ``[B, C, R]`` (its last two axes swapped), a local named ``dst``."""
    batches = int(np.prod(shape[:-2], dtype=np.int64))
    rows, cols = int(shape[-2]), int(shape[-1])
    ctype = f"{b.dtype}_t"
    b.lines += [
        f"  {ctype}* restrict {dst} = ({ctype}*)(scratch + {offset});",
        f"  for (int32_t bt = 0; bt < {batches}; bt++) {{",
        f"    for (int32_t r = 0; r < {rows}; r++) {{",
        f"      for (int32_t c = 0; c < {cols}; c++) {{",
        f"        {dst}[(bt * {cols} + c) * {rows} + r] = {src}[(bt * {rows} + r) * {cols} + c];",
        "      }", "    }", "  }"]
    return dst


def _batch_matmul(b: _Builder, op: "P.QBatchMatMul", path: str) -> tuple[str, str]:
    """BATCH_MATMUL (``arm_batch_matmul_s8`` / ``_s16``): the kernel reads lhs as
    ``[.., M, K]`` and rhs transposed, ``[.., N, K]`` (Arm's v7 does not read adj_x /
    adj_y). Operands stored otherwise (lhs with adj_x; rhs without adj_y) are transposed at
    compile time when constant, else copied transposed into the scratch area, after Arm's
    Helium kernel-sum buffer (``cmsisnn_params.batch_matmul_scratch``)."""
    m = op.lhs.shape[-1] if op.adj_x else op.lhs.shape[-2]
    n = op.rhs.shape[-2] if op.adj_y else op.rhs.shape[-1]
    k = op.depth
    copy_lhs = op.adj_x and op.lhs.source is not None
    copy_rhs = not op.adj_y and op.rhs.source is not None
    ctx, lhs_off, rhs_off, total = cp.batch_matmul_scratch(
        path, b.dtype, n, _nbytes(op.lhs) if copy_lhs else 0, _nbytes(op.rhs) if copy_rhs else 0)
    b.scratch = total
    buf = "scratch" if ctx else "NULL"
    b.lines.append(f"  const cmsis_nn_context ctx = {{.buf = {buf}, .size = {ctx}}};")
    operands = []
    for t, swap, copy, off, name in ((op.lhs, op.adj_x, copy_lhs, lhs_off, "lhs"),
                                     (op.rhs, not op.adj_y, copy_rhs, rhs_off, "rhs")):
        if copy:
            operands.append(_transposed_copy(b, f"input_{t.source}", f"{name}_t", off,
                                             t.shape))
        elif t.source is None and swap:
            operands.append(b.const(name, np.swapaxes(t.data, -1, -2), t.dtype))
        else:
            operands.append(b.tensor(t, name))
    (ln, lh), (rn, rh), (on, oh) = cp.batch_matmul_batches(op.lhs.shape[:-2], op.rhs.shape[:-2])
    lo, hi = P.dtype_range(op.output.dtype)
    b.lines += [
        "  const cmsis_nn_bmm_params bmm_params = {.adj_x = false, .adj_y = true, .fc_params = {",
        f"    .input_offset = {-op.lhs.zero_point}, .filter_offset = {-op.rhs.zero_point}, "
        f".output_offset = {op.output.zero_point}, .activation = {_act(lo, hi)}}}}};",
        "  const cmsis_nn_per_tensor_quant_params quant_params = "
        f"{{.multiplier = {op.multiplier}, .shift = {op.shift}}};",
        _dims("lhs_dims", ln, lh, m, k), _dims("rhs_dims", rn, rh, n, k),
        _dims("output_dims", on, oh, m, n)]
    fn = part.kernel_name("batch_matmul", b.dtype)
    call = (f"{fn}(&ctx, &bmm_params, &quant_params, &lhs_dims, {operands[0]}, &rhs_dims, "
            f"{operands[1]}, &output_dims, output)")
    return call, fn


def _pool(b: _Builder, op, path: str, avg: bool) -> tuple[str, str]:
    n, h, w, c = op.input.shape
    _, oh, ow, _ = op.output.shape
    top, left = op.padding[0], op.padding[1]
    sizer = cp.avgpool_buffer_size_s16 if _s16(b) else cp.avgpool_buffer_size
    _ctx(b, sizer(path, ow, c) if avg else 0)
    b.lines += [
        "  const cmsis_nn_pool_params pool_params = {",
        f"    .stride = {_tile(op.strides[1], op.strides[0])}, .padding = {_tile(left, top)},",
        f"    .activation = {_act(op.act_min, op.act_max)}}};",
        _dims("input_dims", n, h, w, c),
        _dims("filter_dims", 1, op.pool_size[0], op.pool_size[1], 1),
        _dims("output_dims", n, oh, ow, c),
    ]
    fn = part.kernel_name("avg_pool2d" if avg else "max_pool2d", b.dtype)
    call = (f"{fn}(&ctx, &pool_params, &input_dims, {b.tensor(op.input, 'input')}, "
            "&filter_dims, &output_dims, output)")
    return call, fn


def _softmax(b: _Builder, op: "P.QSoftmax") -> tuple[None, str]:
    shape = op.input.shape or (1,)
    row = int(shape[-1])
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    if _s16(b):
        exp_lut, recip_lut = cp.softmax_luts_s16()
        b.lines += [
            "  const cmsis_nn_softmax_lut_s16 luts = {",
            f"    .exp_lut = {b.const('exp_lut', exp_lut, 'int16')}, "
            f".one_by_one_lut = {b.const('one_by_one_lut', recip_lut, 'int16')}}};"]
        call = (f"arm_softmax_s16({b.tensor(op.input, 'input')}, {rows}, {row}, "
                f"{op.multiplier}, {op.left_shift}, &luts, output)")
        return call, "arm_softmax_s16"
    b.lines.append(f"  arm_softmax_s8({b.tensor(op.input, 'input')}, {rows}, {row}, "
                   f"{op.multiplier}, {op.left_shift}, {op.diff_min}, output);")
    return None, "arm_softmax_s8"


def _blocks(b: _Builder, op, kind: str, call_of) -> tuple[str | None, str]:
    """ADD / MUL over the output in the blocks of ``partition.elementwise_plan``: one call
    when a block is the whole output, else a loop of calls (a broadcast operand repeats
    every block: the same pointer each call; its constant stored repeated or expanded).
    ``call_of(a, c, out, count)`` is the kernel call on those C expressions."""
    plan = part.elementwise_plan(op)
    fn = part.kernel_name(kind, b.dtype)
    ptrs = []
    for i, t in enumerate((op.input1, op.input2)):
        data = plan.data[i]
        ptrs.append(b.tensor(t, f"input_{i + 1}") if data is None
                    else b.const(f"input_{i + 1}", data, t.dtype))
    if plan.block == plan.total:
        return call_of(ptrs[0], ptrs[1], "output", plan.total), fn
    a, c = (p if rep else f"{p} + offset" for p, rep in zip(ptrs, plan.repeat))
    b.lines += [
        f"  for (int32_t offset = 0; offset < {plan.total}; offset += {plan.block}) {{",
        f"    const int32_t left = {plan.total} - offset;",
        f"    const int32_t count = left < {plan.block} ? left : {plan.block};",
        f"    const arm_cmsis_nn_status status = {call_of(a, c, 'output + offset', 'count')};",
        "    if (status != ARM_CMSIS_NN_SUCCESS) {",
        "      return (int32_t)status;",
        "    }",
        "  }"]
    return None, fn


def _add(b: _Builder, op: "P.QAdd") -> tuple[str | None, str]:
    fn = part.kernel_name("add", b.dtype)
    return _blocks(b, op, "add", lambda a, c, out, n: (
        f"{fn}({a}, {c}, {-op.input1.zero_point}, {op.input1_multiplier}, "
        f"{op.input1_shift}, {-op.input2.zero_point}, {op.input2_multiplier}, "
        f"{op.input2_shift}, {op.left_shift}, {out}, {op.output.zero_point}, "
        f"{op.output_multiplier}, {op.output_shift}, {op.act_min}, {op.act_max}, {n})"))


def _mul(b: _Builder, op: "P.QMul") -> tuple[str | None, str]:
    fn = part.kernel_name("mul", b.dtype)
    return _blocks(b, op, "mul", lambda a, c, out, n: (
        f"{fn}({a}, {c}, {-op.input1.zero_point}, {-op.input2.zero_point}, "
        f"{out}, {op.output.zero_point}, {op.output_multiplier}, {op.output_shift}, "
        f"{op.act_min}, {op.act_max}, {n})"))


def _min_max(b: _Builder, op: "P.QMinMax") -> tuple[str, str]:
    """MAXIMUM / MINIMUM of the raw values (``arm_maximum_s8`` / ``arm_minimum_s8``); the
    partition passes equal shapes of at most 4 dimensions only (no broadcasting)."""
    dims = (1,) * (4 - len(op.output.shape)) + tuple(op.output.shape)
    b.lines.append(_dims("dims", *dims))
    _ctx(b, 0)
    a, c = b.tensor(op.input1, "input_1"), b.tensor(op.input2, "input_2")
    fn = part.kernel_name("maximum" if op.maximum else "minimum", b.dtype)
    return f"{fn}(&ctx, {a}, &dims, {c}, &dims, output, &dims)", fn


def _nhwc(values, fill: int) -> tuple[int, ...]:
    """A shape (or per-dimension padding) of rank <= 4 as the four cmsis_nn_dims fields,
    right-aligned (leading fields ``fill``)."""
    return (fill,) * (4 - len(values)) + tuple(int(v) for v in values)


def _pad(b: _Builder, op: "P.QPad") -> tuple[str, str]:
    """Standalone PAD / PADV2 int8 (``arm_pad_s8``): rank <= 4 right-aligned into NHWC
    fields; the pad value is the quantized constant (PAD: the zero point)."""
    b.lines += [_dims("input_size", *_nhwc(op.input.shape, 1)),
                _dims("pre_pad", *_nhwc([p[0] for p in op.paddings], 0)),
                _dims("post_pad", *_nhwc([p[1] for p in op.paddings], 0))]
    fn = part.kernel_name("pad")
    call = (f"{fn}({b.tensor(op.input, 'input')}, output, (int8_t){op.pad_value}, "
            "&input_size, &pre_pad, &post_pad)")
    return call, fn


def _transpose(b: _Builder, op: "P.QTranspose") -> tuple[str, str]:
    """TRANSPOSE int8 (``arm_transpose_s8``): a rank-k tensor's sizes in the first k
    ``cmsis_nn_dims`` fields (n, h, w, c order, the rest 1), output dimension i = input
    dimension ``permutations[i]``; the output dims are the permuted sizes (Arm reads them)."""
    def left(shape):
        return tuple(int(v) for v in shape) + (1,) * (4 - len(shape))
    b.lines += [_dims("input_dims", *left(op.input.shape)),
                _dims("output_dims", *left(op.output.shape))]
    perm = b.const("permutations", np.asarray(op.perm), "uint32")
    b.lines.append("  const cmsis_nn_transpose_params transpose_params = "
                   f"{{.num_dims = {len(op.perm)}, .permutations = {perm}}};")
    fn = part.kernel_name("transpose")
    call = (f"{fn}({b.tensor(op.input, 'input')}, output, &input_dims, &output_dims, "
            "&transpose_params)")
    return call, fn


def _activation_s16(b: _Builder, op: "P.QLogisticS16") -> tuple[str, str]:
    """LOGISTIC / TANH int16 (``arm_nn_activation_s16``): the left_shift equal to TFLM's
    prepared multiplier and shift (the partition passes only scales that have one)."""
    size = int(np.prod(op.output.shape, dtype=np.int64))
    shift = qm.activation_s16_left_shift(op.multiplier, op.right_shift)
    if shift is None:
        raise ByocError(f"cmsis-nn codegen: {op.op_type} multiplier {op.multiplier} is not "
                        "3 * 2^k")
    kind = "ARM_TANH" if op.op_type == "TANH" else "ARM_SIGMOID"
    fn = "arm_nn_activation_s16"
    return f"{fn}({b.tensor(op.input, 'input')}, output, {size}, {shift}, {kind})", fn


def _svdf(b: _Builder, op: "P.QSvdfPair", path: str) -> tuple[str, str]:
    """One CMSIS-NN call for a whole SVDF: the state before the step is copied into the
    updated-state output, which the kernel shifts and fills in place. Scratch: the per-filter
    time sums (batch * filters int32), then the per-unit sums (batch * units int32)."""
    up, st = op.update, op.stage
    state_t = op.new_state.dtype
    batch, depth = op.inputs[0].shape
    filters, memory = st.weight_time.shape
    units = op.output.shape[1]
    state_out = f"output_{op.state_output_index}"
    b.params = [p for p in b.params if not p.is_output]
    names = {op.state_output_index: (state_out, state_t, _nbytes(op.new_state)),
             1 - op.state_output_index: ("output", "int8", _nbytes(op.output))}
    b.params += [CParam(*names[k], True) for k in range(2)]
    if up.state.source is not None:                  # memory > 1: the old state is read
        p = b.params[up.state.source]
        b.params[up.state.source] = CParam(p.name, state_t, p.nbytes, False)
        b.lines.append(f"  memcpy({state_out}, input_{up.state.source}, "
                       f"{_nbytes(op.new_state)}u);")
    size = cp.svdf_buffer_size(path, filters) if state_t == "int8" else 0
    if size:     # Helium arm_svdf_s8: arm_vector_sum_s8's kernel sums, in flash
        _ctx(b, size, b.const("kernel_sums", cp.vector_sum(up.weight_feature,
                                                           -op.inputs[0].zero_point), "int32"))
    elif state_t == "int8":
        _ctx(b, 0)
    time_sums, unit_sums = 4 * batch * filters, 4 * batch * units
    b.scratch = -(-time_sums // 16) * 16 + unit_sums
    lo, hi = P.dtype_range(state_t)
    b.lines += [
        "  const cmsis_nn_context input_ctx = {.buf = scratch, .size = "
        f"{time_sums}}};",
        f"  const cmsis_nn_context output_ctx = {{.buf = scratch + {-(-time_sums // 16) * 16}, "
        f".size = {unit_sums}}};",
        f"  const cmsis_nn_svdf_params svdf_params = {{.rank = {st.rank}, "
        f".input_offset = {op.inputs[0].zero_point}, .output_offset = {op.output.zero_point},",
        f"    .input_activation = {_act(lo, hi)}, .output_activation = {_act(-128, 127)}}};",
        "  const cmsis_nn_per_tensor_quant_params in_quant = "
        f"{{.multiplier = {up.multiplier}, .shift = {up.shift}}};",
        "  const cmsis_nn_per_tensor_quant_params out_quant = "
        f"{{.multiplier = {st.multiplier}, .shift = {st.shift}}};",
        _dims("input_dims", batch, depth, 1, 1), _dims("state_dims", batch, filters * memory, 1, 1),
        _dims("weights_feature_dims", filters, depth, 1, 1),
        _dims("weights_time_dims", filters, memory, 1, 1), _dims("bias_dims", units, 1, 1, 1),
        _dims("output_dims", batch, units, 1, 1)]
    wf = b.const("weights_feature", up.weight_feature, "int8")
    wt = b.const("weights_time", st.weight_time, state_t)
    bias = b.const("bias", st.bias, "int32")
    x = b.tensor(op.inputs[0], "input")
    common = (f"&input_ctx, &output_ctx, &svdf_params, &in_quant, &out_quant, &input_dims, {x}, "
              f"&state_dims, {state_out}, &weights_feature_dims, {wf}, &weights_time_dims, {wt}, "
              f"&bias_dims, {bias}, &output_dims, output")
    if state_t == "int8":
        return f"arm_svdf_s8(&ctx, {common})", "arm_svdf_s8"
    return f"arm_svdf_state_s16_s8({common})", "arm_svdf_state_s16_s8"


def _operands(op) -> list:
    return P.operands(op)


def emit_function(name: str, kind: str, op, n_inputs: int, path: str) -> tuple[CFunction, str]:
    """The C function computing ``op`` (a byoc.qnn dataclass) with CMSIS-NN, and the name
    of the CMSIS-NN function it calls. Operand ``source`` indices are parameter positions."""
    b = _Builder(name, n_inputs, _nbytes(op.output), op.output.dtype)
    for t in _operands(op):
        if t.source is not None:
            b.set_input_size(t.source, _nbytes(t))
    if kind == "conv2d":
        call, fn = _conv(b, op, path)
    elif kind == "depthwise_conv2d":
        call, fn = _depthwise(b, op, path)
    elif kind == "fully_connected":
        call, fn = _fully_connected(b, op, path)
    elif kind == "transpose_conv":
        call, fn = _transpose_conv(b, op, path)
    elif kind == "batch_matmul":
        call, fn = _batch_matmul(b, op, path)
    elif kind in ("avg_pool2d", "max_pool2d"):
        call, fn = _pool(b, op, path, kind == "avg_pool2d")
    elif kind == "softmax":
        call, fn = _softmax(b, op)
    elif kind == "add":
        call, fn = _add(b, op)
    elif kind == "mul":
        call, fn = _mul(b, op)
    elif kind in ("maximum", "minimum"):
        call, fn = _min_max(b, op)
    elif kind == "pad":
        call, fn = _pad(b, op)
    elif kind == "transpose":
        call, fn = _transpose(b, op)
    elif kind in ("logistic", "tanh"):
        call, fn = _activation_s16(b, op)
    elif kind == "svdf":
        call, fn = _svdf(b, op, path)
    else:
        raise ByocError(f"cmsis-nn codegen: no kernel for '{kind}'")
    return b.function(call), fn


# ---------------------------------------------------------------------------------------
# Partitions -> C functions
# ---------------------------------------------------------------------------------------

def _outer_param_positions(func: relax.Function, composite: relax.Function) -> list[int]:
    """For each composite parameter, the position of the partition function's parameter
    passed to it."""
    calls = []

    def visit(e):
        if isinstance(e, relax.Call) and not isinstance(e.op, tvm.ir.Op):
            calls.append(e)

    relax.analysis.post_order_visit(func.body, visit)
    if len(calls) != 1 or len(calls[0].args) != len(composite.params):
        raise ByocError("cmsis-nn codegen: unexpected partition function structure")
    outer = list(func.params)
    positions = []
    for a in calls[0].args:
        idx = [i for i, p in enumerate(outer) if p.same_as(a)]
        if not idx:
            raise ByocError("cmsis-nn codegen: composite argument is not a partition parameter")
        positions.append(idx[0])
    return positions


def lower_partition(func: relax.Function, name: str, path: str) -> CmsisCall:
    """One recorded partition function -> its C function."""
    pattern, composite = part.composite_of(func)
    pad = pattern.endswith("_pad")
    kind = pattern[:-len("_pad")] if pad else pattern
    chain = part.FunctionChain(composite)
    try:
        op = part.extract(kind, chain)
    except P.ExtractError as err:  # the partition checks extracted it already
        raise ByocError(f"cmsis-nn codegen: {kind}: {err}") from None
    positions = _outer_param_positions(func, composite)
    for t in _operands(op):
        if t.source is not None:
            t.source = positions[t.source]
    cfunc, kernel = emit_function(name, kind, op, len(func.params), path)
    label = part.describe(kind, op, pad)
    return CmsisCall("", kind, op, cfunc, kernel, label, pad)


def ops_preamble(prefix: str, cpu: str) -> str:
    """Guard at the top of the operator source: the scratch sizes and the Helium kernel
    sums were computed for one kernel path; building for another would under-size buffers."""
    path = part.cpu_path(cpu)
    cond = {
        "mve": "!(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1))",
        "dsp": "!(defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)) || "
               "(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1))",
        "c": "defined(__ARM_FEATURE_DSP) || defined(__ARM_FEATURE_MVE)",
    }[path]
    names = {"mve": "Helium (MVE)", "dsp": "DSP", "c": "portable C"}
    return (f"/* CMSIS-NN calls: compile-time constants and scratch sizes are for the "
            f"{names[path]}\n   kernels (--cpu {cpu}). Define BYOC_CMSIS_NN_ANY_PATH to build "
            "for another core anyway\n   (only safe with the same kernel path). */\n"
            f"#if !defined(BYOC_CMSIS_NN_ANY_PATH) && ({cond})\n"
            f"#error \"{prefix}: generated for the {names[path]} CMSIS-NN kernels "
            f"(--cpu {cpu}); recompile the model with byoc for this core\"\n"
            "#endif\n")


def generate(mod: tvm.IRModule, prefix: str, cpu: str) -> tuple[tvm.IRModule, dict[str, CmsisCall]]:
    """RunCodegen on a module partitioned by ``partition_for_cmsisnn``: main then calls the
    partitions with ``call_dps_packed``. Returns that module and, per symbol, the generated
    C function (named ``<prefix>_cmsis_<kind>_<n>`` in call order)."""
    path = part.cpu_path(cpu)
    out, partitions = _CODEGEN.run(mod)
    calls: dict[str, CmsisCall] = {}
    for symbol, func in partitions:
        kind, _ = part.composite_of(func)
        kind = kind[:-len("_pad")] if kind.endswith("_pad") else kind
        call = lower_partition(func, f"{prefix}_cmsis_{kind}_{len(calls)}", path)
        call.symbol = symbol
        call.operators = operator_indices(func)
        calls[symbol] = call
    return out, calls
