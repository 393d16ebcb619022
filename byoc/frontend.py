"""TFLite -> Relax: TVM's TFLite frontend plus the checks and fix-ups our pipeline needs.

The frontend itself is TVM's (``tvm.relax.frontend.tflite``). What this module adds:
* errors that name the model file, the operator index and its type instead of TVM's
  assertion or a Python traceback;
* a refusal of dynamic shapes (an MCU build is fully static);
* the QDQ -> integer legalization (``byoc.qnn``) so that int8 graphs compute with TFLM's
  integer arithmetic, not float.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.tflite import tflite_frontend

from .errors import ModelError, UnsupportedOperatorError
from .spans import (  # noqa: F401 - re-exported: byoc.frontend.operator_indices ...
    OPERATOR_SPAN_SOURCE, operator_index, operator_indices, with_operator_span, with_span)
from .tflite.checks import check_model
from .tflite.reader import TFLiteModel, load_model


class _FrontendFixes:
    """Fixes of TVM's converter for int8 models (a mixin placed before OperatorConverter):
    * SOFTMAX drops ``beta``: the input is multiplied by beta (a float32 constant) before
      ``nn.softmax``, which the ``byoc.qnn`` softmax pattern reads back;
    * FULLY_CONNECTED with ``keep_num_dims=False`` and an input of rank > 2 keeps the
      input's leading dimensions instead of TFLite's ``[batch, units]``: a reshape to the
      TFLite output shape is appended;
    * CONV_2D / DEPTHWISE_CONV_2D without a bias (input index -1) crash the converter;
      a single weight scale with quantized_dimension != 0 is refused by it;
    * TRANSPOSE_CONV drops its fused activation;
    * quantized PRELU and BATCH_MATMUL are refused by it (imported here as QDQ chains);
    * quantized SVDF is refused by it (its float SVDF applies the time weights to the state
      before the new feature is inserted, and keeps no state): byoc imports the stateless
      form ``byoc.tflite.state`` writes (the state an extra input, the updated state a
      second output) as two chains, see :meth:`convert_svdf`."""

    def dequantize(self, expr, tensor):
        # int16 ("16x8") CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED carry an int64 bias,
        # which relax.op.dequantize rejects. A bias's zero point is 0, so it dequantizes as
        # float(bias) * scale; byoc.qnn reads the int64 constant back from that chain.
        if isinstance(expr, tvm.ir.expr.Constant) and expr.value.dtype == "int64":
            scale = tensor.qnn_params["scale"]
            return relax.op.multiply(relax.op.astype(expr, "float32"), scale)
        return super().dequantize(expr, tensor)

    def convert_softmax(self, op):
        from tflite.SoftmaxOptions import SoftmaxOptions

        opts = SoftmaxOptions()
        table = op.BuiltinOptions()
        beta = 1.0
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            beta = float(opts.Beta())
        inp = self.get_input_tensors(op)[0]
        if beta == 1.0 or inp.qnn_params is None:
            # beta == 1 (the common case) and float models: the stock conversion
            return super().convert_softmax(op)
        out_t = self.get_output_tensors(op)[0]
        x = self.dequantize(self.get_expr(inp.tensor_idx), inp)
        x = relax.op.multiply(x, relax.const(np.float32(beta), "float32"))
        y = relax.op.nn.softmax(x, axis=-1)
        return self.quantize(y, out_t) if out_t.qnn_params else y

    def convert_prelu(self, op):
        # quantized PRELU: quantize(where(x >= 0, x, x * alpha)) on the dequantized
        # operands (alpha broadcast like TFLM), which the byoc.qnn prelu pattern reads
        inp, alpha = self.get_input_tensors(op)[:2]
        out_t = self.get_output_tensors(op)[0]
        if inp.qnn_params is None or alpha.qnn_params is None or not out_t.qnn_params:
            return super().convert_prelu(op)
        x = self.dequantize(self.get_expr(inp.tensor_idx), inp)
        a = self.dequantize(self.get_tensor_expr(alpha), alpha)
        y = relax.op.where(relax.op.greater_equal(x, relax.const(0.0, "float32")), x,
                           relax.op.multiply(x, a))
        return self.quantize(y, out_t)

    def convert_batch_matmul(self, op):
        # quantized BATCH_MATMUL (refused by the stock converter): quantize(matmul(
        # dequantize(lhs), dequantize(rhs))), an operand under permute_dims (last two axes
        # swapped) for adj_x / adj_y; relax's matmul broadcasts the batch dimensions as
        # TFLM does. The byoc.qnn batch_matmul pattern reads the chain back.
        from tflite.BatchMatMulOptions import BatchMatMulOptions

        lhs, rhs = self.get_input_tensors(op)[:2]
        out_t = self.get_output_tensors(op)[0]
        quantized = [t.qnn_params is not None for t in (lhs, rhs)] + [bool(out_t.qnn_params)]
        if not any(quantized):
            return super().convert_batch_matmul(op)
        _check_quantized_batch_matmul(self, lhs, rhs, out_t, quantized)
        opts = BatchMatMulOptions()
        table = op.BuiltinOptions()
        adj = (False, False)
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            adj = (bool(opts.AdjX()), bool(opts.AdjY()))
        operands = []
        for t, swap in zip((lhs, rhs), adj):
            x = self.dequantize(self.get_tensor_expr(t), t)
            if swap:
                rank = len(self.get_tensor_shape(t))
                x = relax.op.permute_dims(x, list(range(rank - 2)) + [rank - 1, rank - 2])
            operands.append(x)
        return self.quantize(relax.op.matmul(*operands), out_t)

    def convert_svdf(self, op):
        # quantized SVDF as two QDQ chains, which the byoc.qnn svdf_state / svdf patterns
        # read back: the state update (shift left by one, the feature projection in the
        # newest column) and the output (time weights on the updated state, sum over rank,
        # bias). TFLM's integer SVDF ignores the fused activation; so does this form.
        from tflite.SVDFOptions import SVDFOptions

        ins, outs = self.get_input_tensors(op), self.get_output_tensors(op)
        if ins[0].qnn_params is None:
            return super().convert_svdf(op)
        if len(outs) != 2 or len(ins) != 5 or ins[3].tensor_idx < 0:
            raise ValueError("a quantized SVDF needs a bias and its activation state as a "
                             "variable tensor (input 4)")
        opts = SVDFOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        rank = int(opts.Rank())
        batch = int(self.get_tensor_shape(ins[0])[0])
        filters, memory = (int(d) for d in self.get_tensor_shape(ins[2]))
        if rank < 1 or filters % rank:
            raise ValueError(f"SVDF rank {rank} does not divide its {filters} filters")
        dq = [self.dequantize(self.get_tensor_expr(t), t) for t in ins]
        feat = relax.op.expand_dims(relax.op.matmul(dq[0], relax.op.permute_dims(dq[1])), 2)
        state = relax.op.reshape(dq[4], (batch, filters, memory))
        if memory > 1:
            kept = relax.op.strided_slice(state, axes=[2], begin=[1], end=[memory])
            feat = relax.op.concat([kept, feat], axis=2)
        new_state = self.bb.emit(self.quantize(
            relax.op.reshape(feat, (batch, filters * memory)), outs[1]))
        timed = relax.op.sum(relax.op.multiply(relax.op.reshape(
            self.dequantize(new_state, outs[1]), (batch, filters, memory)), dq[2]), axis=[2])
        units = relax.op.sum(relax.op.reshape(timed, (batch, filters // rank, rank)), axis=[2])
        out = self.bb.emit(self.quantize(relax.op.add(units, dq[3]), outs[0]))
        return relax.Tuple([out, new_state])

    def convert_l2_normalization(self, op):
        # quantized L2_NORMALIZATION (refused by the stock converter):
        # quantize(x / sqrt(sum(x * x, axis=-1, keepdims=True))) on the dequantized input,
        # which the byoc.qnn l2_normalization pattern reads (TFLM: no epsilon, no activation)
        from tflite.ActivationFunctionType import ActivationFunctionType
        from tflite.L2NormOptions import L2NormOptions

        inp = self.get_input_tensors(op)[0]
        out_t = self.get_output_tensors(op)[0]
        if inp.qnn_params is None or not out_t.qnn_params:
            return super().convert_l2_normalization(op)
        opts = L2NormOptions()
        table = op.BuiltinOptions()
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            if opts.FusedActivationFunction() != ActivationFunctionType.NONE:
                raise tvm.error.OpNotImplemented(
                    "quantized L2_NORMALIZATION with a fused activation (TFLM refuses it)")
        x = self.dequantize(self.get_expr(inp.tensor_idx), inp)
        rank = len(inp.tensor.ShapeAsNumpy())
        norm = relax.op.sqrt(relax.op.sum(relax.op.multiply(x, x), axis=[rank - 1],
                                          keepdims=True))
        return self.quantize(relax.op.divide(x, norm), out_t)

    def convert_conv(self, op, conv_type):
        # An absent bias (input index -1) crashes the stock converter, which treats any
        # third input as a bias tensor; hide trailing absent inputs from it.
        full = self.get_input_tensors

        def present(o):
            tensors = full(o)
            while len(tensors) > 2 and tensors[-1].tensor_idx < 0:
                tensors = tensors[:-1]
            for t in tensors:
                # One scale is per-tensor quantization whatever quantized_dimension says
                # (converters write 3 for a one-channel depthwise); the stock converter
                # insists on 0 there.
                q = t.qnn_params
                if q is not None and q["scale"].value.numpy().size == 1:
                    q["axis"] = 0
            return tensors

        self.get_input_tensors = present
        try:
            return super().convert_conv(op, conv_type)
        finally:
            del self.get_input_tensors

    def convert_transpose_conv(self, op):
        # The stock converter drops TransposeConvOptions.fused_activation_function; apply
        # it in the quantized domain like CONV_2D's (a clip after the quantize).
        from tflite.ActivationFunctionType import ActivationFunctionType
        from tflite.TransposeConvOptions import TransposeConvOptions

        out = self._transpose_conv_with_output_padding(op)
        opts = TransposeConvOptions()
        table = op.BuiltinOptions()
        act = ActivationFunctionType.NONE
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            act = opts.FusedActivationFunction()
        if act == ActivationFunctionType.NONE:
            return out
        out_t = self.get_output_tensors(op)[0]
        if not out_t.qnn_params:
            return self.convert_fused_activation_function(out, act)
        return self.convert_qnn_fused_activation_function(
            expr=out, fused_activation_fn=act,
            scale=tflite_frontend.get_scalar_from_constant(out_t.qnn_params["scale"]),
            zero_point=tflite_frontend.get_scalar_from_constant(out_t.qnn_params["zero_point"]),
            dtype=self.get_tensor_type_str(out_t.tensor.Type()))

    def _transpose_conv_with_output_padding(self, op):
        """The stock conversion, with two fixes: a single weight scale counts as per-tensor
        (see convert_conv), and the output padding the TFLite output shape needs. With a
        kernel smaller than the stride, SAME padding gives TFLite's output (input * stride)
        more rows/columns than the padded transposed convolution produces; TFLM fills them
        from the taps that reach them, which is relax's ``output_padding``."""
        inputs = self.get_input_tensors(op)
        out_shape = [int(d) for d in self.get_tensor_shape(self.get_output_tensors(op)[0])]
        in_shape = [int(d) for d in self.get_tensor_shape(inputs[2])]
        kernel = [int(d) for d in self.get_tensor_shape(inputs[1])][1:3]
        nn = relax.op.nn
        stock = nn.conv2d_transpose

        def with_output_padding(data, weight, strides, padding, **kwargs):
            extra = []
            for d in range(2):
                produced = (in_shape[1 + d] - 1) * strides[d] + kernel[d] \
                    - padding[d] - padding[d + 2]
                extra.append(out_shape[1 + d] - produced)
                if not 0 <= extra[-1] < strides[d]:
                    raise ValueError(f"TRANSPOSE_CONV output shape {out_shape} does not follow "
                                     f"from input {in_shape}, kernel {kernel}, strides "
                                     f"{list(strides)}")
            return stock(data, weight, strides=strides, padding=padding,
                         output_padding=extra, **kwargs)

        full = self.get_input_tensors

        def per_tensor_axis(o):
            tensors = full(o)
            for t in tensors:
                q = t.qnn_params
                if q is not None and q["scale"].value.numpy().size == 1:
                    q["axis"] = 0
            return tensors

        nn.conv2d_transpose = with_output_padding
        self.get_input_tensors = per_tensor_axis
        try:
            return super().convert_transpose_conv(op)
        finally:
            nn.conv2d_transpose = stock
            del self.get_input_tensors

    def convert_fully_connected(self, op):
        from tflite.FullyConnectedOptions import FullyConnectedOptions

        out = super().convert_fully_connected(op)
        opts = FullyConnectedOptions()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        in_rank = len(self.get_tensor_shape(self.get_input_tensors(op)[0]))
        if not opts.KeepNumDims() and in_rank > 2:
            shape = [int(d) for d in self.get_tensor_shape(self.get_output_tensors(op)[0])]
            out = relax.op.reshape(out, shape)
        return out


def _check_quantized_batch_matmul(conv, lhs, rhs, out_t, quantized: list[bool]) -> None:
    """TFLM's conditions on a quantized BATCH_MATMUL (ValueError naming the first one
    broken): every tensor quantized, one dtype (int8, or int16 with zero points 0),
    per-tensor scales, ranks 2 to 5, matching depths and broadcastable batches."""
    if not all(quantized):
        raise ValueError("BATCH_MATMUL mixing float and quantized tensors (hybrid) "
                         "has no integer kernel")
    dtypes = {conv.get_tensor_type_str(t.tensor.Type()) for t in (lhs, rhs, out_t)}
    if len(dtypes) != 1 or not dtypes <= {"int8", "int16"}:
        raise ValueError(f"BATCH_MATMUL of {sorted(dtypes)} tensors (TFLM: all int8 or all "
                         "int16)")
    for name, t in (("lhs", lhs), ("rhs", rhs), ("output", out_t)):
        scale = np.asarray(t.qnn_params["scale"].value.numpy()).reshape(-1)
        zp = np.asarray(t.qnn_params["zero_point"].value.numpy()).reshape(-1)
        if scale.size != 1 or zp.size != 1:
            # TFLM prepares such a model but computes with the first scale only (measured)
            raise ValueError(f"BATCH_MATMUL {name} is quantized per channel ({scale.size} "
                             "scales): TFLM's kernel is per-tensor and uses the first scale "
                             "only, not the arithmetic the model's quantization states")
        if dtypes == {"int16"} and int(zp[0]) != 0:
            raise ValueError(f"int16 BATCH_MATMUL {name} zero point {int(zp[0])} (TFLM "
                             "requires 0)")
    a, b = ([int(d) for d in conv.get_tensor_shape(t)] for t in (lhs, rhs))
    if not 2 <= min(len(a), len(b)) <= max(len(a), len(b)) <= 5:
        raise ValueError(f"BATCH_MATMUL of ranks {len(a)} and {len(b)} (TFLM: 2 to 5)")
    try:
        np.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2]))
    except ValueError:
        raise ValueError(f"BATCH_MATMUL batch dimensions {a[:-2]} and {b[:-2]} do not "
                         "broadcast") from None


def tag_operators(mod: tvm.IRModule, markers: list[tuple[int, list]]) -> tvm.IRModule:
    """Give every call in ``main`` a span naming the TFLite operator it was converted from
    (line ``index + 1``, source :data:`OPERATOR_SPAN_SOURCE`). ``markers``: per converted
    operator, in model order, its index and the variables its conversion returned; the
    converter emits each operator's bindings in order, so the bindings up to an operator's
    last returned variable (after the previous operator's) are that operator's. Spans
    survive partitioning and legalization, so later stages (the float check) can name the
    operator a leftover call belongs to (:func:`operator_index`)."""
    main = mod["main"]
    body = main.body
    if not isinstance(body, relax.SeqExpr) or not body.blocks:
        return mod
    position: dict[int, int] = {}
    flat = [(bi, b) for bi, block in enumerate(body.blocks) for b in block.bindings]
    for pos, (_, b) in enumerate(flat):
        position[b.var.__hash__()] = pos
    owner = [None] * len(flat)
    last = -1
    for index, outs in markers:
        ends = [position.get(v.__hash__(), -1) for v in outs]
        end = max(ends, default=-1)
        if end <= last:
            continue
        for pos in range(last + 1, end + 1):
            owner[pos] = index
        last = end
    blocks = []
    for bi, block in enumerate(body.blocks):
        bindings = []
        for pos, (bj, b) in enumerate(flat):
            if bj != bi:
                continue
            if owner[pos] is not None and isinstance(b, relax.VarBinding):
                line = owner[pos] + 1
                span = tvm.ir.Span(tvm.ir.SourceName(OPERATOR_SPAN_SOURCE), line, line, 0, 0)
                b = relax.VarBinding(b.var, with_span(b.value, span))
            bindings.append(b)
        blocks.append(relax.DataflowBlock(bindings) if isinstance(block, relax.DataflowBlock)
                      else relax.BindingBlock(bindings))
    new_main = relax.Function(main.params, relax.SeqExpr(blocks, body.body), main.ret_ty,
                              main.is_pure, main.attrs)
    mod = mod.shallow_copy() if hasattr(mod, "shallow_copy") else mod
    mod["main"] = new_main
    # Normalize: types of the rebuilt SeqExpr; CanonicalizeBindings: the output alias
    # (`gv = lv`) that binding each operator's result (convert_op_to_relax) leaves behind
    return relax.transform.CanonicalizeBindings()(relax.transform.Normalize()(mod))


def _returned_vars(ret) -> list:
    if isinstance(ret, relax.Var):
        return [ret]
    if isinstance(ret, relax.Tuple):
        return [f for f in ret.fields if isinstance(f, relax.Var)]
    return []


#: Data-movement operators on quantized tensors that TVM's converter imports as raw integer
#: copies (TFLM copies raw values too), with the activation dtypes TFLM has them for.
RAW_COPY_OPERATORS: dict[str, tuple[str, ...]] = {
    "TRANSPOSE": ("int8", "int16"), "SQUEEZE": ("int8", "int16"),
    "EXPAND_DIMS": ("int8", "int16"), "PACK": ("int8", "int16"), "UNPACK": ("int8", "int16"),
    "GATHER": ("int8",),
    "DEPTH_TO_SPACE": ("int8",), "SPACE_TO_DEPTH": ("int8",),
}


class _DataMovementFixes:
    """Data-movement operators on quantized tensors (raw copies in TFLM, whatever the
    quantization):
    * EXPAND_DIMS calls ``relax.op.expand_dims`` with a stray third argument (crash);
    * GATHER: indices computed at run time are not bounds-checked by the generated code
      (``take(mode="fast")``), and TFLM rejects out-of-range ones; only constant, in-range
      indices with batch_dims 0 are compiled;
    * GATHER, DEPTH_TO_SPACE and SPACE_TO_DEPTH exist in TFLM for int8 only (no int16).
    (A ValueError here becomes "operator N (TYPE) cannot be imported: ...".)"""

    def convert_expand_dims(self, op):
        inputs = self.get_input_tensors(op)
        if len(inputs) != 2 or self.has_expr(inputs[1].tensor_idx):
            raise ValueError("EXPAND_DIMS with a computed axis")
        axis = int(np.asarray(self.get_tensor_value(inputs[1])).reshape(-1)[0])
        rank = len(inputs[0].tensor.ShapeAsNumpy())
        if not -rank - 1 <= axis <= rank:
            raise ValueError(f"EXPAND_DIMS axis {axis} out of range")
        return relax.op.expand_dims(self.get_tensor_expr(inputs[0]),
                                    axis + rank + 1 if axis < 0 else axis)

    def _int8_only(self, op, name: str) -> None:
        t = self.get_input_tensors(op)[0]
        dtype = self.get_tensor_type_str(t.tensor.Type())
        if t.qnn_params is not None and dtype not in RAW_COPY_OPERATORS[name]:
            raise ValueError(f"{dtype} {name}: TFLM has an int8 kernel only")

    def convert_depth_to_space(self, op):
        self._int8_only(op, "DEPTH_TO_SPACE")
        return super().convert_depth_to_space(op)

    def convert_space_to_depth(self, op):
        self._int8_only(op, "SPACE_TO_DEPTH")
        return super().convert_space_to_depth(op)

    def convert_gather(self, op):
        from tflite.GatherOptions import GatherOptions

        self._int8_only(op, "GATHER")
        inputs = self.get_input_tensors(op)
        if len(inputs) == 2 and self.has_expr(inputs[1].tensor_idx):
            raise ValueError(
                "GATHER with indices computed at run time (only constant indices are "
                "bounds-checked at compile time)")
        opts = GatherOptions()
        table = op.BuiltinOptions()
        if table is not None:
            opts.Init(table.Bytes, table.Pos)
            if opts.BatchDims() != 0:
                raise ValueError(f"GATHER with batch_dims {opts.BatchDims()}")
        shape = [int(d) for d in self.get_tensor_shape(inputs[0])]
        axis = opts.Axis() if table is not None else 0
        axis = axis + len(shape) if axis < 0 else axis
        indices = np.asarray(self.get_tensor_value(inputs[1]))
        if not 0 <= axis < len(shape) or np.any(indices < 0) or np.any(indices >= shape[axis]):
            raise ValueError(
                f"GATHER indices out of range [0, {shape[axis] if 0 <= axis < len(shape) else 0})")
        return super().convert_gather(op)


class _StaticReshape:
    """RESHAPE whose target shape is computed in the graph (the SHAPE -> STRIDED_SLICE ->
    PACK chain the TFLite converter writes around a dynamic batch) crashes the converter.
    byoc compiles static shapes only, so the output tensor's stored shape is the target;
    the shape computation is left dead and removed later."""

    def convert_reshape(self, op):
        inputs = self.get_input_tensors(op)
        if len(inputs) == 2 and self.has_expr(inputs[1].tensor_idx):
            out_t = self.get_output_tensors(op)[0]
            shape = [int(d) for d in self.get_tensor_shape(out_t)]
            return relax.op.reshape(self.get_expr(inputs[0].tensor_idx), shape)
        return super().convert_reshape(op)


class _CheckedConverter(_StaticReshape, _DataMovementFixes, _FrontendFixes,
                        tflite_frontend.OperatorConverter):
    """TVM's operator converter with our fixes and errors that name the operator index
    and type."""

    model_label = "model"
    op_types: list[str] = []
    # The converter handles these on quantized tensors correctly, but its up-front
    # allow-list forgets them: PAD/PADV2 pad with the zero point; SHAPE only reads the
    # (static) shape; the slices and splits and the data-movement operators copy raw values
    # (as TFLM's kernels do).
    _SUPPORTED_QUANTIZED_OPS = tflite_frontend.OperatorConverter._SUPPORTED_QUANTIZED_OPS | \
        frozenset({"PAD", "PADV2", "SHAPE", "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V"}) | \
        frozenset(RAW_COPY_OPERATORS) | \
        frozenset({"RESIZE_NEAREST_NEIGHBOR", "PRELU", "BATCH_MATMUL", "SVDF",
                   "L2_NORMALIZATION"})

    def check_unsupported_ops(self):
        for idx in range(self.subgraph.OperatorsLength()):
            op = self.subgraph.Operators(idx)
            try:
                name = self.get_op_code_str(op)
            except Exception:  # e.g. custom operators: the frontend cannot even name them
                name = self.op_types[idx] if idx < len(self.op_types) else "unknown"
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) is not supported by TVM's "
                    "TFLite frontend") from None
            if name not in self.convert_map:
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) is not supported by TVM's "
                    "TFLite frontend")
            tensors = self.get_input_tensors(op) + self.get_output_tensors(op)
            quantized = any(t.qnn_params is not None for t in tensors if t.tensor_idx >= 0)
            if quantized and name not in self._SUPPORTED_QUANTIZED_OPS:
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) on quantized tensors is not "
                    "supported by TVM's TFLite frontend")
        try:
            super().check_unsupported_ops()
        except tvm.error.OpNotImplemented as exc:
            detail = " ".join(str(exc).split())
            raise UnsupportedOperatorError(f"{self.model_label}: {detail}") from None

    def convert_op_to_relax(self):
        for idx in range(self.subgraph.OperatorsLength()):
            op = self.subgraph.Operators(idx)
            name = self.get_op_code_str(op)
            try:
                ret = self.convert_map[name](op=op)
                if ret is None:
                    continue
                ret = self.bb.normalize(ret)
                if isinstance(ret, relax.Call):
                    # bind it now, so that this operator's bindings end here (tag_operators)
                    ret = self.bb.emit(ret)
                self.op_markers.append((idx, _returned_vars(ret)))
            except (UnsupportedOperatorError, ModelError):
                raise
            except Exception as exc:  # TVM raises many types; all mean "cannot import"
                detail = " ".join(str(exc).split())[:300] or type(exc).__name__
                raise UnsupportedOperatorError(
                    f"{self.model_label}: operator {idx} ({name}) cannot be imported: {detail}"
                ) from None
            outputs = self.get_output_tensors(op)
            if len(outputs) == 1:
                self.exp_tab.set_expr(
                    tflite_frontend.get_tensor_name(self.subgraph, outputs[0].tensor_idx), ret)
            else:
                for k, t in enumerate(outputs):
                    self.exp_tab.set_expr(
                        tflite_frontend.get_tensor_name(self.subgraph, t.tensor_idx), ret[k])


def _release_failed_builder() -> None:
    """A conversion that fails half-way leaves TVM's BlockBuilder with an open block; when
    it is freed, TVM's C++ side prints "BlockBuilder destroyed with remaining blocks" to
    stderr, which would follow our one-line error. Free it now, with stderr muted."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            gc.collect()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _batch_only_dynamic(t) -> bool:
    sig = t.shape_signature or ()
    return (len(sig) == len(t.shape) and len(sig) > 0 and sig[0] == -1 and t.shape[0] == 1
            and all(d >= 0 for d in sig[1:]))


@contextlib.contextmanager
def _unique_tensor_names(model: TFLiteModel):
    """TVM's frontend keys its expression table by tensor NAME, so two tensors with the same
    name (legal in TFLite) would be confused. While importing, every name that is not unique
    gets its tensor index appended."""
    counts: dict[str, int] = {}
    for t in model.tensors:
        counts[t.name] = counts.get(t.name, 0) + 1
    original = tflite_frontend.get_tensor_name

    def unique_name(subgraph, tensor_idx):
        name = original(subgraph, tensor_idx)
        return f"{name}__{tensor_idx}" if counts.get(name, 0) > 1 else name

    tflite_frontend.get_tensor_name = unique_name
    try:
        yield
    finally:
        tflite_frontend.get_tensor_name = original


def from_tflite(model: "TFLiteModel | str | os.PathLike | bytes", legalize: bool = True
                ) -> tvm.IRModule:
    """Import a TFLite model as a Relax module (``main`` takes the model inputs in order).

    With ``legalize`` (the default), quantized operator chains are rewritten to integer
    ``call_tir`` kernels bit-exact with TFLM (see ``byoc.qnn``).
    """
    if not isinstance(model, TFLiteModel):
        model = load_model(model)
    label = str(model.path) if model.path else "model"
    # The TFLite converter marks the batch dimension dynamic (-1) while storing 1 as the
    # shape; like TFLM, compile such models with batch 1. Any other dynamic dimension is
    # refused.
    dynamic = [t for t in model.dynamic_tensors() if not _batch_only_dynamic(t)]
    if dynamic:
        t = dynamic[0]
        raise ModelError(f"{label}: tensor '{t.name}' has a dynamic shape {list(t.shape_signature)}; "
                         "only static shapes can be compiled")
    check_model(model, label)
    converter = type("_Converter", (_CheckedConverter,),
                     {"model_label": label, "op_types": [op.type for op in model.operators],
                      "op_markers": []})
    error: ModelError | None = None
    try:
        with _unique_tensor_names(model):
            # Check every operator before TVM starts building.
            converter(model.model, model.model.Subgraphs(0), tflite_frontend.ExprTable(),
                      relax.BlockBuilder()).check_unsupported_ops()
            mod = tflite_frontend.from_tflite(model.model, op_converter=converter)
            mod = tag_operators(mod, converter.op_markers)
    except ModelError as exc:
        error = exc
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        error = ModelError(f"{label}: TVM's TFLite frontend failed: {detail}")
    if error is not None:
        # Drop every reference to TVM's frames (traceback, chained exceptions) so that the
        # half-built BlockBuilder can be freed here.
        error.__traceback__ = error.__context__ = error.__cause__ = None
        _release_failed_builder()
        raise error from None
    # An operator whose output nothing reads leaves a dead binding; pattern fusion would
    # warn about it on stderr ("There are dead codes...").
    mod = relax.transform.DeadCodeElimination()(mod)
    if legalize:
        from .qnn.legalize import legalize_quantized
        mod = legalize_quantized(mod)
    return mod
