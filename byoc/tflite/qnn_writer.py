"""TFLite models from byoc.qnn operator dataclasses (the Ethos-U path's input to Vela).

:class:`QnnModelWriter` writes one TFLite operator per byoc.qnn dataclass (``P.QConv2D``,
``P.QAdd``...) on top of :class:`byoc.tflite.builder.ModelBuilder`: the original weights,
biases, per-channel quantization and operator options (padding type, strides, dilation,
fused activation...) are recovered from the dataclass. The Ethos-U codegen writes a region
with it; the Ethos-U partitioner asks Vela about :func:`single_op_tflite` models.
"""

from __future__ import annotations

import numpy as np
import tflite

from ..qnn import patterns as P
from ..qnn import quant_math as qm
from .builder import ACTIVATIONS, ModelBuilder, Quant, same_padding

def _same_split(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """(before, after) padding of TFLite SAME padding (the extra one after)."""
    return same_padding(size, k, s, d)[1:]


def padding_type(in_hw, kernel, strides, dilation, padding) -> int:
    """TFLite's SAME/VALID for explicit (top, left, bottom, right) padding."""
    top, left, bottom, right = padding
    if (top, left, bottom, right) == (0, 0, 0, 0):
        return tflite.Padding.VALID
    th = _same_split(in_hw[0], kernel[0], strides[0], dilation[0])
    tw = _same_split(in_hw[1], kernel[1], strides[1], dilation[1])
    if (top, bottom) == th and (left, right) == tw:
        return tflite.Padding.SAME
    raise P.ExtractError(f"padding {tuple(padding)} is neither SAME nor VALID")


def activation_of(act_min: int, act_max: int, scale: float, zp: int) -> int:
    """The TFLite fused activation whose clamp is [act_min, act_max]."""
    for name in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        if qm.activation_range(name, scale, zp) == (act_min, act_max):
            return ACTIVATIONS[name]
    raise P.ExtractError(f"activation range [{act_min}, {act_max}] is not a TFLite activation")


def _tconv_offset(padding: str, size: int, k: int, stride: int) -> int:
    """TFLM's TRANSPOSE_CONV padding offset of one axis: its padding computed on the
    output ``size`` (``ComputePaddingHeightWidth``), before = total // 2."""
    out = (size + stride - 1) // stride if padding == "SAME" else (size - k + stride) // stride
    return max((out - 1) * stride + k - size, 0) // 2


class QnnModelWriter:
    """Builds one TFLite model from byoc.qnn dataclasses (a region or a single operator)."""

    def __init__(self, description: str = "byoc ethos-u region"):
        self.mb = ModelBuilder(description=description)
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}_{self.n}"

    def tensor(self, shape, dtype="int8", quant: "tuple[float, int] | None" = None,
               name: str | None = None) -> int:
        q = Quant.per_tensor(quant[0], quant[1]) if quant is not None else None
        return self.mb.add_tensor(name or self._name("t"), shape, dtype, quant=q)

    def _const(self, data, quant: Quant | None, base: str) -> int:
        data = np.asarray(data)
        return self.mb.add_tensor(self._name(base), data.shape, data.dtype, data, quant)

    def operand(self, t: "P.QTensor", ins: list[int]) -> int:
        if t.source is not None:
            return ins[t.source]
        return self._const(np.asarray(t.data).astype(t.dtype).reshape(t.shape),
                           Quant.per_tensor(t.scale, t.zero_point), "const")

    def _weights(self, op, axis: int) -> tuple[int, int]:
        ws = np.asarray(op.weight_scales, np.float32).reshape(-1)
        wzp = int(getattr(op, "weight_zero_point", 0))
        if op.per_channel:
            wq = Quant([float(s) for s in ws], [wzp] * ws.size, axis=axis)
        else:
            ws = ws[:1]
            wq = Quant([float(ws[0])], [wzp])
        w = self._const(np.asarray(op.weight, np.int8), wq, "weights")
        b = -1
        if op.bias is not None:
            bs = np.float32(op.input.scale) * ws
            bq = Quant([float(s) for s in bs], [0] * bs.size)
            b = self._const(np.asarray(op.bias, np.int32), bq, "bias")
        return w, b

    def _transpose_conv(self, op, ins: list[int], outs: list[int], act: int) -> None:
        """TRANSPOSE_CONV: [output shape, OHWI weights, input, bias]; the padding type is
        the one whose TFLM offsets (computed on the output, as TFLM does) are the op's."""
        kh, kw = op.weight.shape[1:3]
        pad = None
        for name in ("VALID", "SAME"):
            offsets = tuple(_tconv_offset(name, op.output.shape[1 + i], (kh, kw)[i],
                                          op.strides[i]) for i in range(2))
            if offsets == tuple(op.padding):
                pad = getattr(tflite.Padding, name)
                break
        if pad is None:
            raise P.ExtractError(f"TRANSPOSE_CONV padding {tuple(op.padding)} is neither "
                                 "SAME nor VALID")
        shape = self._const(np.asarray(op.output.shape, np.int32), None, "output_shape")
        w, b = self._weights(op, 0)
        self.mb.add_operator("TRANSPOSE_CONV", [shape, w, self.operand(op.input, ins)]
                             + ([b] if b >= 0 else []), outs, "TransposeConvOptions",
                             {"Padding": pad, "StrideW": op.strides[1],
                              "StrideH": op.strides[0], "FusedActivationFunction": act})

    def add(self, kind: str, op, ins: list[int], outs: list[int]) -> None:  # noqa: C901
        mb = self.mb
        oq = op.output
        act = lambda: activation_of(op.act_min, op.act_max, oq.scale, oq.zero_point)  # noqa: E731
        if kind in ("conv2d", "depthwise_conv2d"):
            x = self.operand(op.input, ins)
            kh, kw = op.weight.shape[1:3]
            pad = padding_type(op.input.shape[1:3], (kh, kw), op.strides, op.dilation, op.padding)
            w, b = self._weights(op, 0 if kind == "conv2d" else 3)
            opts = {"Padding": pad, "StrideW": op.strides[1], "StrideH": op.strides[0],
                    "DilationWFactor": op.dilation[1], "DilationHFactor": op.dilation[0],
                    "FusedActivationFunction": act()}
            if kind == "conv2d":
                mb.add_operator("CONV_2D", [x, w, b], outs, "Conv2DOptions", opts)
            else:
                opts["DepthMultiplier"] = op.depth_multiplier
                mb.add_operator("DEPTHWISE_CONV_2D", [x, w, b], outs,
                                "DepthwiseConv2DOptions", opts)
        elif kind == "fully_connected":
            x = self.operand(op.input, ins)
            w, b = self._weights(op, 0)
            keep = len(op.output.shape) == len(op.input.shape) and len(op.input.shape) > 2
            mb.add_operator("FULLY_CONNECTED", [x, w, b], outs, "FullyConnectedOptions",
                            {"FusedActivationFunction": act(), "KeepNumDims": keep})
        elif kind in ("avg_pool2d", "max_pool2d"):
            x = self.operand(op.input, ins)
            pad = padding_type(op.input.shape[1:3], op.pool_size, op.strides, (1, 1), op.padding)
            mb.add_operator("AVERAGE_POOL_2D" if kind == "avg_pool2d" else "MAX_POOL_2D",
                            [x], outs, "Pool2DOptions", {
                                "Padding": pad, "StrideW": op.strides[1],
                                "StrideH": op.strides[0], "FilterWidth": op.pool_size[1],
                                "FilterHeight": op.pool_size[0],
                                "FusedActivationFunction": act()})
        elif kind == "softmax":
            mb.add_operator("SOFTMAX", [self.operand(op.input, ins)], outs, "SoftmaxOptions",
                            {"Beta": float(op.beta)})
        elif kind in ("add", "mul"):
            a, b = self.operand(op.input1, ins), self.operand(op.input2, ins)
            name = "ADD" if kind == "add" else "MUL"
            mb.add_operator(name, [a, b], outs, f"{name.title()}Options",
                            {"FusedActivationFunction": act()})
        elif kind == "mean":
            axes = self._const(np.asarray(op.axes, np.int32), None, "axes")
            mb.add_operator("MEAN", [self.operand(op.input, ins), axes], outs,
                            "ReducerOptions", {"KeepDims": bool(op.keep_dims)})
        elif kind == "concatenation":
            xs = [self.operand(t, ins) for t in op.inputs]
            mb.add_operator("CONCATENATION", xs, outs, "ConcatenationOptions",
                            {"Axis": int(op.axis), "FusedActivationFunction": act()})
        elif kind == "quantize":
            mb.add_operator("QUANTIZE", [self.operand(op.input, ins)], outs)
        elif kind == "pad":
            pads = self._const(np.asarray(op.paddings, np.int32), None, "paddings")
            x = self.operand(op.input, ins)
            if op.pad_value == op.input.zero_point:
                mb.add_operator("PAD", [x, pads], outs, "PadOptions", {})
            else:       # PADV2: the value as a scalar of the input's type and quantization
                value = self._const(np.asarray([op.pad_value], op.input.dtype),
                                    Quant.per_tensor(op.input.scale, op.input.zero_point),
                                    "pad_value")
                mb.add_operator("PADV2", [x, pads, value], outs, "PadV2Options", {})
        elif kind in ("sub", "maximum", "minimum"):
            a, b = self.operand(op.input1, ins), self.operand(op.input2, ins)
            if kind == "sub":
                mb.add_operator("SUB", [a, b], outs, "SubOptions",
                                {"FusedActivationFunction": act()})
            else:
                mb.add_operator(kind.upper(), [a, b], outs, "MaximumMinimumOptions", {})
        elif kind in ("tanh", "logistic", "hard_swish", "relu6", "abs"):
            mb.add_operator(kind.upper(), [self.operand(op.input, ins)], outs)
        elif kind == "leaky_relu":
            mb.add_operator("LEAKY_RELU", [self.operand(op.input, ins)], outs,
                            "LeakyReluOptions", {"Alpha": float(op.alpha)})
        elif kind == "resize_bilinear":
            size = self._const(np.asarray(op.output.shape[1:3], np.int32), None, "size")
            mb.add_operator("RESIZE_BILINEAR", [self.operand(op.input, ins), size], outs,
                            "ResizeBilinearOptions", {"AlignCorners": bool(op.align_corners),
                                                      "HalfPixelCenters":
                                                          bool(op.half_pixel_centers)})
        elif kind == "sum":
            axes = self._const(np.asarray(op.axes, np.int32), None, "axes")
            mb.add_operator("SUM", [self.operand(op.input, ins), axes], outs,
                            "ReducerOptions", {"KeepDims": bool(op.keep_dims)})
        elif kind == "transpose_conv":
            self._transpose_conv(op, ins, outs, act())
        elif kind == "batch_matmul":
            mb.add_operator("BATCH_MATMUL", [self.operand(op.lhs, ins), self.operand(op.rhs, ins)],
                            outs, "BatchMatMulOptions", {"AdjX": bool(op.adj_x),
                                                         "AdjY": bool(op.adj_y)})
        elif kind == "reshape":
            shape = self._const(np.asarray(op.output.shape, np.int32), None, "shape")
            mb.add_operator("RESHAPE", [self.operand(op.input, ins), shape], outs,
                            "ReshapeOptions", {})
        elif kind == "strided_slice":
            operands = [self._const(np.asarray(v, np.int32), None, name) for v, name in
                        ((op.begin, "begin"), (op.end, "end"), (op.strides, "strides"))]
            mb.add_operator("STRIDED_SLICE", [self.operand(op.input, ins), *operands], outs,
                            "StridedSliceOptions", {})
        else:
            raise P.ExtractError(f"no TFLite writer for {kind}")

    def build(self) -> bytes:
        return self.mb.build()


def operands(op) -> list["P.QTensor"]:
    """The activation operands of a dataclass in operator order (``P.operands``)."""
    return P.operands(op)


def single_op_tflite(kind: str, op) -> bytes:
    """A one-operator TFLite model of ``op`` (the partition's Vela check)."""
    w = QnnModelWriter()
    srcs = sorted({t.source for t in operands(op) if t.source is not None})
    ins = {}
    for t in operands(op):
        if t.source is not None and t.source not in ins:
            ins[t.source] = w.tensor(t.shape, t.dtype, (t.scale, t.zero_point))
    in_list = [ins.get(i, -1) for i in range(max(srcs) + 1)] if srcs else []
    out = w.tensor(op.output.shape, op.output.dtype, (op.output.scale, op.output.zero_point))
    w.add(kind, op, in_list, [out])
    w.mb.set_io([ins[i] for i in srcs], [out])
    return w.build()
