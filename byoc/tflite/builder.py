"""Write TFLite flatbuffers without TensorFlow.

Two layers:

* ``ModelBuilder`` - a low-level writer: tensors (with quantization and optional shape
  signature), buffers, operators (builtin or custom, with builtin options given as a
  dict of field names) and ``build()`` to bytes. General enough to write any subgraph
  the compiler needs (test models, Vela input regions); ``add_subgraph()`` adds further
  subgraphs (e.g. the initialiser a CALL_ONCE runs), and ``"resource"`` tensors carry
  the handles of resource variables.
* ``LayerBuilder`` - layer helpers on top that create int8, per-channel quantized layers
  with seeded random weights and realistic output quantization (CONV_2D,
  DEPTHWISE_CONV_2D, FULLY_CONNECTED, pools, SOFTMAX, ADD, MUL, RESHAPE, PAD,
  CONCATENATION, MEAN; fused activations).

All feature maps are NHWC. Conv weights are OHWI, depthwise weights 1HWC (TFLite layouts).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import flatbuffers
import numpy as np
import tflite

_NP_TO_TFL = {
    np.dtype(np.float32): tflite.TensorType.FLOAT32,
    np.dtype(np.int8): tflite.TensorType.INT8,
    np.dtype(np.uint8): tflite.TensorType.UINT8,
    np.dtype(np.int16): tflite.TensorType.INT16,
    np.dtype(np.int32): tflite.TensorType.INT32,
    np.dtype(np.int64): tflite.TensorType.INT64,
    np.dtype(np.bool_): tflite.TensorType.BOOL,
}

ACTIVATIONS = {
    None: tflite.ActivationFunctionType.NONE,
    "NONE": tflite.ActivationFunctionType.NONE,
    "RELU": tflite.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": tflite.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": tflite.ActivationFunctionType.RELU6,
}

# Builtin operator codes above this value are stored in `builtin_code` only; the
# deprecated int8 field holds this placeholder (TFLite schema rule).
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point); per-axis when len(scale) > 1."""

    scale: Sequence[float]
    zero_point: Sequence[int]
    axis: int = 0

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> "Quant":
        return Quant([float(scale)], [int(zero_point)])


@dataclass
class _Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    buffer: int
    quant: Quant | None
    shape_signature: tuple[int, ...] | None
    is_variable: bool = False


@dataclass
class _Operator:
    opcode: int
    inputs: list[int]
    outputs: list[int]
    options_name: str | None
    options: dict[str, Any]
    custom_options: bytes | None


#: ``add_tensor`` dtype of resource-variable handles (VAR_HANDLE outputs).
RESOURCE = "resource"


@dataclass
class ModelBuilder:
    """Low-level TFLite writer: any operators; the builder's own tensors, operators and IO
    are subgraph 0, ``add_subgraph()`` returns builders of further subgraphs that share
    its buffers and operator codes."""

    description: str = "byoc"
    tensors: list[_Tensor] = field(default_factory=list)
    buffers: list[bytes] = field(default_factory=lambda: [b""])  # buffer 0 is the empty sentinel
    operators: list[_Operator] = field(default_factory=list)
    opcodes: list[tuple[int, str | None]] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    name: str = "main"
    subgraphs: list["ModelBuilder"] = field(default_factory=list)  # subgraphs 1, 2...

    def add_subgraph(self, name: str) -> "ModelBuilder":
        """A new subgraph (index ``len(subgraphs) + 1``): add its tensors, operators and IO
        on the returned builder; ``build()`` of this one writes them all."""
        sub = ModelBuilder(description=self.description, buffers=self.buffers,
                           opcodes=self.opcodes, name=name)
        self.subgraphs.append(sub)
        return sub

    def add_tensor(
        self,
        name: str,
        shape: Sequence[int],
        dtype: Any,
        data: np.ndarray | None = None,
        quant: Quant | None = None,
        shape_signature: Sequence[int] | None = None,
        is_variable: bool = False,
    ) -> int:
        """Add a tensor (a constant when ``data`` is given); returns its index. ``dtype``
        ``RESOURCE`` makes a resource-variable handle (shape ``()``); ``is_variable``
        marks a TFLite variable tensor (an operator's persistent state, e.g. SVDF's)."""
        if isinstance(dtype, str) and dtype == RESOURCE:
            self.tensors.append(_Tensor(name, (), RESOURCE, 0, None, None))
            return len(self.tensors) - 1
        dtype = np.dtype(dtype)
        if dtype not in _NP_TO_TFL:
            raise ValueError(f"unsupported tensor dtype {dtype}")
        buffer = 0
        if data is not None:
            data = np.ascontiguousarray(np.asarray(data, dtype=dtype).reshape(shape))
            self.buffers.append(data.tobytes())
            buffer = len(self.buffers) - 1
        self.tensors.append(
            _Tensor(name, tuple(int(d) for d in shape), dtype, buffer, quant,
                    tuple(shape_signature) if shape_signature is not None else None,
                    is_variable))
        return len(self.tensors) - 1

    def _opcode_index(self, code: int, custom: str | None) -> int:
        key = (code, custom)
        if key not in self.opcodes:
            self.opcodes.append(key)
        return self.opcodes.index(key)

    def add_operator(
        self,
        op: str | int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options_name: str | None = None,
        options: dict[str, Any] | None = None,
        custom_code: str | None = None,
        custom_options: bytes | None = None,
    ) -> int:
        """Add an operator. ``op`` is a builtin name ("CONV_2D") or code, or "CUSTOM" with
        ``custom_code``. ``options_name`` is the builtin options table ("Conv2DOptions") and
        ``options`` maps its field names (as in the schema's Add<Field> functions, e.g.
        "StrideW") to scalars, strings or lists of ints (int32 vectors, e.g. "NewShape").
        Optional inputs are given as -1."""
        code = getattr(tflite.BuiltinOperator, op) if isinstance(op, str) else int(op)
        idx = self._opcode_index(code, custom_code)
        self.operators.append(_Operator(idx, list(inputs), list(outputs), options_name,
                                        dict(options or {}), custom_options))
        return len(self.operators) - 1

    def set_io(self, inputs: Sequence[int], outputs: Sequence[int]) -> None:
        self.inputs, self.outputs = list(inputs), list(outputs)

    # -- serialisation -------------------------------------------------------------------
    def build(self) -> bytes:
        """Serialise to TFLite flatbuffer bytes (schema version 3)."""
        b = flatbuffers.Builder(1024)

        buffer_offs = []
        for data in self.buffers:
            data_off = b.CreateNumpyVector(np.frombuffer(data, np.uint8)) if data else None
            tflite.BufferStart(b)
            if data_off is not None:
                tflite.BufferAddData(b, data_off)
            buffer_offs.append(tflite.BufferEnd(b))
        subgraph_offs = [sg._build_subgraph(b) for sg in [self, *self.subgraphs]]
        return self._finish(b, buffer_offs, subgraph_offs)

    def _build_subgraph(self, b: flatbuffers.Builder) -> int:
        def int_vector(start_fn, values: Sequence[int]) -> int:
            start_fn(b, len(values))
            for v in reversed(values):
                b.PrependInt32(int(v))
            return b.EndVector()

        tensor_offs = []
        for t in self.tensors:
            name_off = b.CreateString(t.name)
            shape_off = int_vector(tflite.TensorStartShapeVector, t.shape)
            sig_off = (int_vector(tflite.TensorStartShapeSignatureVector, t.shape_signature)
                       if t.shape_signature is not None else None)
            q_off = None
            if t.quant is not None:
                scale_off = b.CreateNumpyVector(np.asarray(t.quant.scale, np.float32))
                zp_off = b.CreateNumpyVector(np.asarray(t.quant.zero_point, np.int64))
                tflite.QuantizationParametersStart(b)
                tflite.QuantizationParametersAddScale(b, scale_off)
                tflite.QuantizationParametersAddZeroPoint(b, zp_off)
                tflite.QuantizationParametersAddQuantizedDimension(b, t.quant.axis)
                q_off = tflite.QuantizationParametersEnd(b)
            tflite.TensorStart(b)
            tflite.TensorAddShape(b, shape_off)
            if sig_off is not None:
                tflite.TensorAddShapeSignature(b, sig_off)
            tflite.TensorAddType(b, tflite.TensorType.RESOURCE if t.dtype == RESOURCE
                                 else _NP_TO_TFL[t.dtype])
            tflite.TensorAddBuffer(b, t.buffer)
            tflite.TensorAddName(b, name_off)
            if q_off is not None:
                tflite.TensorAddQuantization(b, q_off)
            if t.is_variable:
                tflite.TensorAddIsVariable(b, True)
            tensor_offs.append(tflite.TensorEnd(b))

        op_offs = []
        for op in self.operators:
            in_off = int_vector(tflite.OperatorStartInputsVector, op.inputs)
            out_off = int_vector(tflite.OperatorStartOutputsVector, op.outputs)
            opt_off = None
            if op.options_name:
                mod = importlib.import_module(f"tflite.{op.options_name}")
                # strings and vectors are written before the table that refers to them
                values = {}
                for key, value in op.options.items():
                    if isinstance(value, str):
                        value = b.CreateString(value)
                    elif isinstance(value, (list, tuple)):
                        value = int_vector(getattr(mod, f"{op.options_name}Start{key}Vector"),
                                           value)
                    values[key] = value
                getattr(mod, f"{op.options_name}Start")(b)
                for key, value in values.items():
                    getattr(mod, f"{op.options_name}Add{key}")(b, value)
                opt_off = getattr(mod, f"{op.options_name}End")(b)
            custom_off = (b.CreateNumpyVector(np.frombuffer(op.custom_options, np.uint8))
                          if op.custom_options else None)
            tflite.OperatorStart(b)
            tflite.OperatorAddOpcodeIndex(b, op.opcode)
            tflite.OperatorAddInputs(b, in_off)
            tflite.OperatorAddOutputs(b, out_off)
            if opt_off is not None:
                tflite.OperatorAddBuiltinOptionsType(
                    b, getattr(tflite.BuiltinOptions, op.options_name))
                tflite.OperatorAddBuiltinOptions(b, opt_off)
            if custom_off is not None:
                tflite.OperatorAddCustomOptions(b, custom_off)
            op_offs.append(tflite.OperatorEnd(b))

        tensors_vec = _table_vector(b, tflite.SubGraphStartTensorsVector, tensor_offs)
        ops_vec = _table_vector(b, tflite.SubGraphStartOperatorsVector, op_offs)
        in_vec = int_vector(tflite.SubGraphStartInputsVector, self.inputs)
        out_vec = int_vector(tflite.SubGraphStartOutputsVector, self.outputs)
        sg_name = b.CreateString(self.name)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_vec)
        tflite.SubGraphAddInputs(b, in_vec)
        tflite.SubGraphAddOutputs(b, out_vec)
        tflite.SubGraphAddOperators(b, ops_vec)
        tflite.SubGraphAddName(b, sg_name)
        return tflite.SubGraphEnd(b)

    def _finish(self, b: flatbuffers.Builder, buffer_offs: list[int],
                subgraph_offs: list[int]) -> bytes:
        opcode_offs = []
        for code, custom in self.opcodes:
            custom_off = b.CreateString(custom) if custom is not None else None
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, _PLACEHOLDER_FOR_GREATER_OP_CODES))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, 1)
            if custom_off is not None:
                tflite.OperatorCodeAddCustomCode(b, custom_off)
            opcode_offs.append(tflite.OperatorCodeEnd(b))

        opcodes_vec = _table_vector(b, tflite.ModelStartOperatorCodesVector, opcode_offs)
        subgraphs_vec = _table_vector(b, tflite.ModelStartSubgraphsVector, subgraph_offs)
        buffers_vec = _table_vector(b, tflite.ModelStartBuffersVector, buffer_offs)
        desc = b.CreateString(self.description)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, 3)
        tflite.ModelAddOperatorCodes(b, opcodes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buffers_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _table_vector(b: flatbuffers.Builder, start_fn, offs: list[int]) -> int:
    start_fn(b, len(offs))
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


# ---------------------------------------------------------------------------------------
# Layer helpers: int8 models with seeded random weights and realistic quantization.
# ---------------------------------------------------------------------------------------

@dataclass
class T:
    """Handle for an activation tensor created by LayerBuilder."""

    index: int
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    dtype: np.dtype = np.dtype(np.int8)


# Typical standard deviation (in quantized units) of an int8 activation or weight spread
# over its whole range; used to choose output scales so that layer outputs use most of
# the int8 range without saturating everywhere.
_TYPICAL_STD = 60.0


def same_padding(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int, int]:
    """TFLite SAME padding of one axis of ``size`` elements, kernel ``k``: (output size,
    padding before, padding after). out = ceil(size / stride); the total is
    max((out - 1) * stride + effective kernel - size, 0), the odd element goes after."""
    out = (size + stride - 1) // stride
    eff = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff - size, 0)
    return out, total // 2, total - total // 2


def conv_output_size(size: int, k: int, stride: int, padding: str, dilation: int = 1) -> int:
    if padding == "SAME":
        return same_padding(size, k, stride, dilation)[0]
    eff = (k - 1) * dilation + 1
    return (size - eff) // stride + 1


class LayerBuilder:
    """High-level quantized model builder: int8 models, or with ``dtype=np.int16`` TFLite's
    "16x8" models (int16 activations with zero point 0, int8 weights, int64 biases).

    Example::

        lb = LayerBuilder(seed=0)
        x = lb.input((1, 16, 16, 3))
        y = lb.conv2d(x, 8, 3, stride=2, activation="RELU")
        lb.output(lb.softmax(lb.fully_connected(lb.reshape(y, (1, -1)), 10)))
        data = lb.build()
    """

    def __init__(self, seed: int = 0, description: str = "byoc test model", dtype=np.int8):
        self.mb = ModelBuilder(description=description)
        self.rng = np.random.default_rng(seed)
        self._count = 0
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.int8, np.int16):
            raise ValueError(f"activation dtype {self.dtype}: int8 or int16")
        self.int16 = self.dtype == np.int16
        # 16x8 biases are int64 (the accumulator of int16 x int8 products is 64-bit).
        self.bias_dtype = np.int64 if self.int16 else np.int32

    # -- naming and tensors ---------------------------------------------------------------
    def _name(self, base: str) -> str:
        self._count += 1
        return f"{base}_{self._count}"

    def _act(self, shape, scale, zp, name=None, dtype=None) -> T:
        dtype = self.dtype if dtype is None else dtype
        idx = self.mb.add_tensor(name or self._name("t"), shape, dtype,
                                 quant=Quant.per_tensor(scale, zp))
        return T(idx, tuple(shape), float(scale), int(zp), np.dtype(dtype))

    def input(self, shape: Sequence[int], scale: float = 0.05, zero_point: int | None = None,
              name: str | None = None, dtype=None,
              shape_signature: Sequence[int] | None = None) -> T:
        """A model input: ``dtype`` defaults to the builder's, ``zero_point`` to -128 for
        int8 (0 for int16, which TFLite requires)."""
        dtype = self.dtype if dtype is None else dtype
        if zero_point is None:
            zero_point = -128 if np.dtype(dtype) == np.int8 else 0
        idx = self.mb.add_tensor(name or self._name("input"), shape, dtype,
                                 quant=None if np.dtype(dtype) == np.float32
                                 else Quant.per_tensor(scale, zero_point),
                                 shape_signature=shape_signature)
        self.mb.inputs.append(idx)
        return T(idx, tuple(shape), float(scale), int(zero_point), np.dtype(dtype))

    def output(self, t: T) -> T:
        self.mb.outputs.append(t.index)
        return t

    def build(self) -> bytes:
        return self.mb.build()

    def _out_zp(self, activation: str | None) -> int:
        if self.int16:
            return 0
        # ReLU outputs are non-negative: a zero point at the bottom of the range uses it all.
        if activation in ("RELU", "RELU6"):
            return -128
        return int(self.rng.integers(-20, 21))

    def _weights(self, shape, out_axis: int, out_channels: int):
        w = self.rng.integers(-127, 128, size=shape, dtype=np.int64).astype(np.int8)
        # Realistic per-channel scales: spread over a factor of about 4.
        scales = (0.004 * self.rng.uniform(0.5, 2.0, size=out_channels)).astype(np.float32)
        return w, Quant([float(s) for s in scales], [0] * out_channels, axis=out_axis)

    def _bias(self, in_scale: float, w_scales, fan_in: int, count: int | None = None):
        # ``count`` bias values (default one per weight scale); per-tensor weights keep
        # a single bias scale but still need one bias per output channel.
        bias_scale = np.asarray([in_scale * s for s in w_scales], np.float64)
        bound = int(_TYPICAL_STD * _TYPICAL_STD * math.sqrt(fan_in) / 2)
        if self.int16:
            bound *= 256    # int16 activations spread 256x wider than int8 ones
        n = len(w_scales) if count is None else count
        b = self.rng.integers(-bound, bound + 1, size=n).astype(self.bias_dtype)
        return b, Quant([float(s) for s in bias_scale], [0] * len(w_scales))

    def _accumulator_scale(self, in_scale: float, w_scales, fan_in: int) -> float:
        """Output scale that puts a typical accumulator at a typical int8 spread."""
        mean_w = float(np.mean(w_scales))
        return in_scale * mean_w * _TYPICAL_STD * _TYPICAL_STD * math.sqrt(fan_in) / _TYPICAL_STD

    # -- layers ---------------------------------------------------------------------------
    def conv2d(self, x: T, filters: int, kernel: int | tuple[int, int] = 3, stride: int = 1,
               padding: str = "SAME", dilation: int = 1, activation: str | None = None,
               out_scale: float | None = None, out_zp: int | None = None,
               per_channel: bool = True) -> T:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        n, h, w_, c = x.shape
        w, wq = self._weights((filters, kh, kw, c), 0, filters)
        if not per_channel:
            wq = Quant([float(np.mean(wq.scale))], [0])
        b, bq = self._bias(x.scale, wq.scale, kh * kw * c, count=filters)
        wi = self.mb.add_tensor(self._name("conv_w"), w.shape, np.int8, w, wq)
        bi = self.mb.add_tensor(self._name("conv_b"), b.shape, self.bias_dtype, b, bq)
        oh = conv_output_size(h, kh, sh, padding, dilation)
        ow = conv_output_size(w_, kw, sw, padding, dilation)
        scale = out_scale or self._accumulator_scale(x.scale, wq.scale, kh * kw * c)
        y = self._act((n, oh, ow, filters), scale,
                      self._out_zp(activation) if out_zp is None else out_zp)
        self.mb.add_operator("CONV_2D", [x.index, wi, bi], [y.index], "Conv2DOptions", {
            "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
            "DilationWFactor": dilation, "DilationHFactor": dilation,
            "FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def depthwise_conv2d(self, x: T, kernel: int | tuple[int, int] = 3, stride: int = 1,
                         padding: str = "SAME", depth_multiplier: int = 1, dilation: int = 1,
                         activation: str | None = None, out_scale: float | None = None,
                         per_channel: bool = True) -> T:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        n, h, w_, c = x.shape
        cout = c * depth_multiplier
        w, wq = self._weights((1, kh, kw, cout), 3, cout)
        if not per_channel:
            wq = Quant([float(np.mean(wq.scale))], [0])
        b, bq = self._bias(x.scale, wq.scale, kh * kw, count=cout)
        wi = self.mb.add_tensor(self._name("dw_w"), w.shape, np.int8, w, wq)
        bi = self.mb.add_tensor(self._name("dw_b"), b.shape, self.bias_dtype, b, bq)
        oh = conv_output_size(h, kh, sh, padding, dilation)
        ow = conv_output_size(w_, kw, sw, padding, dilation)
        scale = out_scale or self._accumulator_scale(x.scale, wq.scale, kh * kw)
        y = self._act((n, oh, ow, cout), scale, self._out_zp(activation))
        self.mb.add_operator("DEPTHWISE_CONV_2D", [x.index, wi, bi], [y.index],
                             "DepthwiseConv2DOptions", {
                                 "Padding": getattr(tflite.Padding, padding), "StrideW": sw,
                                 "StrideH": sh, "DepthMultiplier": depth_multiplier,
                                 "DilationWFactor": dilation, "DilationHFactor": dilation,
                                 "FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def fully_connected(self, x: T, units: int, activation: str | None = None,
                        per_channel: bool = True, keep_num_dims: bool = False,
                        use_bias: bool = True) -> T:
        depth = x.shape[-1]
        w, wq = self._weights((units, depth), 0, units)
        if not per_channel:
            wq = Quant([float(np.mean(wq.scale))], [0])
        b, bq = self._bias(x.scale, wq.scale, depth, count=units)
        wi = self.mb.add_tensor(self._name("fc_w"), w.shape, np.int8, w, wq)
        bi = (self.mb.add_tensor(self._name("fc_b"), b.shape, self.bias_dtype, b, bq)
              if use_bias else -1)
        batch = int(np.prod(x.shape[:-1]))
        out_shape = (*x.shape[:-1], units) if keep_num_dims else (batch, units)
        scale = self._accumulator_scale(x.scale, wq.scale, depth)
        y = self._act(out_shape, scale, self._out_zp(activation))
        self.mb.add_operator("FULLY_CONNECTED", [x.index, wi, bi], [y.index],
                             "FullyConnectedOptions", {
                                 "FusedActivationFunction": ACTIVATIONS[activation],
                                 "KeepNumDims": keep_num_dims})
        return y

    def _pool(self, op: str, x: T, size, stride, padding, activation) -> T:
        ph, pw = (size, size) if isinstance(size, int) else size
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        n, h, w, c = x.shape
        oh, ow = conv_output_size(h, ph, sh, padding), conv_output_size(w, pw, sw, padding)
        # TFLite requires pools to keep the input quantization.
        y = self._act((n, oh, ow, c), x.scale, x.zero_point, dtype=x.dtype)
        self.mb.add_operator(op, [x.index], [y.index], "Pool2DOptions", {
            "Padding": getattr(tflite.Padding, padding), "StrideW": sw, "StrideH": sh,
            "FilterWidth": pw, "FilterHeight": ph,
            "FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def avg_pool2d(self, x: T, size=2, stride=2, padding="VALID", activation=None) -> T:
        return self._pool("AVERAGE_POOL_2D", x, size, stride, padding, activation)

    def max_pool2d(self, x: T, size=2, stride=2, padding="VALID", activation=None) -> T:
        return self._pool("MAX_POOL_2D", x, size, stride, padding, activation)

    def softmax(self, x: T, beta: float = 1.0) -> T:
        # TFLite fixes softmax output quantization: int8 scale 1/256 and zero point -128,
        # int16 scale 1/32768 and zero point 0.
        y = (self._act(x.shape, 1.0 / 32768.0, 0) if self.int16
             else self._act(x.shape, 1.0 / 256.0, -128))
        self.mb.add_operator("SOFTMAX", [x.index], [y.index], "SoftmaxOptions", {"Beta": beta})
        return y

    def _binary(self, op: str, opts: str, a: T, b: T, activation, scale: float, zp) -> T:
        shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        y = self._act(shape, scale, self._out_zp(activation) if zp is None else zp)
        self.mb.add_operator(op, [a.index, b.index], [y.index], opts,
                             {"FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def add(self, a: T, b: T, activation=None, out_scale=None, out_zp=None) -> T:
        return self._binary("ADD", "AddOptions", a, b, activation,
                            out_scale or (a.scale + b.scale) * 0.7, out_zp)

    def mul(self, a: T, b: T, activation=None, out_scale=None, out_zp=None) -> T:
        return self._binary("MUL", "MulOptions", a, b, activation,
                            out_scale or a.scale * b.scale * _TYPICAL_STD, out_zp)

    def constant(self, shape: Sequence[int], scale: float = 0.05, zero_point: int = 0,
                 dtype=None) -> T:
        """A random constant activation-like tensor (e.g. the second ADD operand) of
        ``dtype`` (default: the builder's)."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        info = np.iinfo(dtype)
        data = self.rng.integers(info.min, info.max + 1, size=shape).astype(dtype)
        idx = self.mb.add_tensor(self._name("const"), shape, dtype, data,
                                 Quant.per_tensor(scale, zero_point))
        return T(idx, tuple(shape), scale, zero_point, dtype)

    def _shape_tensor(self, values: Sequence[int]) -> int:
        arr = np.asarray(values, np.int32)
        return self.mb.add_tensor(self._name("shape"), arr.shape, np.int32, arr)

    def reshape(self, x: T, shape: Sequence[int]) -> T:
        total = int(np.prod(x.shape))
        shape = list(shape)
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1]))
            shape[shape.index(-1)] = total // known
        si = self._shape_tensor(shape)
        y = self._act(shape, x.scale, x.zero_point, dtype=x.dtype)
        self.mb.add_operator("RESHAPE", [x.index, si], [y.index], "ReshapeOptions", {})
        return y

    def pad(self, x: T, paddings: Sequence[tuple[int, int]]) -> T:
        arr = np.asarray(paddings, np.int32)
        pi = self.mb.add_tensor(self._name("paddings"), arr.shape, np.int32, arr)
        shape = tuple(d + int(p0) + int(p1) for d, (p0, p1) in zip(x.shape, paddings))
        y = self._act(shape, x.scale, x.zero_point, dtype=x.dtype)
        self.mb.add_operator("PAD", [x.index, pi], [y.index], "PadOptions", {})
        return y

    def concatenation(self, xs: Sequence[T], axis: int = -1, activation=None,
                      out_scale: float | None = None, out_zp: int | None = None,
                      unify_inputs: bool = True) -> T:
        """CONCATENATION. TFLM's int8 kernel requires every input to share the output's
        scale and zero point (the TFLite converter arranges that), so by default the
        inputs' quantization is rewritten to the output's; ``unify_inputs=False`` keeps
        them (a model only LiteRT accepts)."""
        rank = len(xs[0].shape)
        ax = axis % rank
        shape = list(xs[0].shape)
        shape[ax] = sum(x.shape[ax] for x in xs)
        y = self._act(shape, out_scale or max(x.scale for x in xs),
                      xs[0].zero_point if out_zp is None else out_zp)
        if unify_inputs:
            for x in xs:
                self.mb.tensors[x.index].quant = Quant.per_tensor(y.scale, y.zero_point)
                x.scale, x.zero_point = y.scale, y.zero_point
        self.mb.add_operator("CONCATENATION", [x.index for x in xs], [y.index],
                             "ConcatenationOptions",
                             {"Axis": axis, "FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def mean(self, x: T, axes: Sequence[int], keep_dims: bool = True,
             out_scale: float | None = None, out_zp: int | None = None) -> T:
        arr = np.asarray(axes, np.int32)
        ai = self.mb.add_tensor(self._name("axes"), arr.shape, np.int32, arr)
        rank = len(x.shape)
        axset = {a % rank for a in axes}
        shape = [1 if i in axset else d for i, d in enumerate(x.shape)] if keep_dims else \
            [d for i, d in enumerate(x.shape) if i not in axset]
        y = self._act(shape, out_scale or x.scale, x.zero_point if out_zp is None else out_zp)
        self.mb.add_operator("MEAN", [x.index, ai], [y.index], "ReducerOptions",
                             {"KeepDims": keep_dims})
        return y

    def batch_matmul(self, a: T, b: T, adj_x: bool = False, adj_y: bool = False,
                     out_scale: float | None = None, out_zp: int | None = None) -> T:
        """BATCH_MATMUL of ``a`` ``[..., M, K]`` (``adj_x``: ``[..., K, M]``) and ``b``
        ``[..., K, N]`` (``adj_y``: ``[..., N, K]``): output ``[..., M, N]``, batch
        dimensions broadcast numpy-style. The output scale defaults to one that keeps a
        typical accumulator in range (``a.scale * b.scale * sqrt(K) * 16``), the zero
        point to the builder's default (0 for int16)."""
        m, k = (a.shape[-1], a.shape[-2]) if adj_x else (a.shape[-2], a.shape[-1])
        n = b.shape[-2] if adj_y else b.shape[-1]
        batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        scale = out_scale or a.scale * b.scale * math.sqrt(k) * 16
        zp = self._out_zp(None) if out_zp is None else out_zp
        return self.op("BATCH_MATMUL", [a, b], (*batch, m, n), scale, zp,
                       "BatchMatMulOptions", {"AdjX": adj_x, "AdjY": adj_y}, dtype=a.dtype)

    def op(self, name: str, inputs: Sequence[T], out_shape: Sequence[int], out_scale: float,
           out_zp: int, options_name: str | None = None, options: dict | None = None,
           dtype=None) -> T:
        """Any other builtin with one quantized output (e.g. LOGISTIC, TANH, SUB); the
        output ``dtype`` defaults to the builder's."""
        y = self._act(out_shape, out_scale, out_zp, dtype=dtype)
        self.mb.add_operator(name, [t.index for t in inputs], [y.index], options_name, options)
        return y

    # -- streaming models: resource variables and the ops that move frames ---------------
    def variable(self, shape: Sequence[int], scale: float = 0.05, zero_point: int = -128,
                 init: np.ndarray | None = None, name: str | None = None) -> "Variable":
        """A resource variable (persistent state) of ``shape`` with the given quantization,
        initialised to ``init`` (default: the zero point) by an initialiser subgraph that a
        CALL_ONCE at the start of the main subgraph runs, as the TFLite converter writes
        stateful models."""
        name = name or self._name("var")
        if not self.mb.subgraphs:
            self.mb.add_subgraph("init")
            self.mb.operators.insert(0, _Operator(
                self.mb._opcode_index(tflite.BuiltinOperator.CALL_ONCE, None), [], [],
                "CallOnceOptions", {"InitSubgraphIndex": 1}, None))
        init_sg = self.mb.subgraphs[0]
        value = (np.full(shape, zero_point, self.dtype) if init is None
                 else np.asarray(init, self.dtype).reshape(shape))
        handle = init_sg.add_tensor(f"{name}_handle", (), RESOURCE)
        init_sg.add_operator("VAR_HANDLE", [], [handle], "VarHandleOptions",
                             {"SharedName": name})
        vi = init_sg.add_tensor(f"{name}_init", shape, self.dtype, value,
                                Quant.per_tensor(scale, zero_point))
        init_sg.add_operator("ASSIGN_VARIABLE", [handle, vi], [])
        return Variable(name, tuple(int(d) for d in shape), float(scale), int(zero_point))

    def _handle(self, var: "Variable") -> int:
        if var.handle is None:
            var.handle = self.mb.add_tensor(f"{var.name}_handle", (), RESOURCE)
            self.mb.add_operator("VAR_HANDLE", [], [var.handle], "VarHandleOptions",
                                 {"SharedName": var.name})
        return var.handle

    def read_variable(self, var: "Variable") -> T:
        """READ_VARIABLE: the variable's current value."""
        h = self._handle(var)
        y = self._act(var.shape, var.scale, var.zero_point)
        self.mb.add_operator("READ_VARIABLE", [h], [y.index])
        return y

    def assign_variable(self, var: "Variable", value: T) -> None:
        """ASSIGN_VARIABLE: the variable takes ``value`` (same shape and quantization)."""
        if tuple(value.shape) != var.shape:
            raise ValueError(f"variable {var.name} has shape {var.shape}, value {value.shape}")
        self.mb.tensors[value.index].quant = Quant.per_tensor(var.scale, var.zero_point)
        self.mb.add_operator("ASSIGN_VARIABLE", [self._handle(var), value.index], [])

    def _int_operand(self, values: "Sequence[int] | int", base: str) -> int:
        """A constant int32 operand (a scalar for an int, e.g. a SPLIT axis)."""
        arr = np.asarray(values, np.int32)
        return self.mb.add_tensor(self._name(base), arr.shape, np.int32, arr)

    def strided_slice(self, x: T, begin: Sequence[int], end: Sequence[int],
                      strides: Sequence[int] | None = None, begin_mask: int = 0,
                      end_mask: int = 0, shrink_axis_mask: int = 0) -> T:
        """STRIDED_SLICE with constant begin/end/strides (positive strides); the output
        keeps the input's quantization (TFLite requires it)."""
        strides = list(strides or [1] * len(begin))
        shape = []
        for d, (b, e, s) in enumerate(zip(begin, end, strides)):
            n = x.shape[d]
            b = 0 if begin_mask >> d & 1 else (b + n if b < 0 else b)
            e = n if end_mask >> d & 1 else (e + n if e < 0 else e)
            b, e = min(max(b, 0), n), min(max(e, 0), n)
            if not shrink_axis_mask >> d & 1:
                shape.append(max(0, (e - b + s - 1) // s))
        y = self._act(shape, x.scale, x.zero_point, dtype=x.dtype)
        self.mb.add_operator("STRIDED_SLICE", [x.index, self._int_operand(begin, "begin"),
                                               self._int_operand(end, "end"),
                                               self._int_operand(strides, "strides")],
                             [y.index], "StridedSliceOptions",
                             {"BeginMask": begin_mask, "EndMask": end_mask,
                              "ShrinkAxisMask": shrink_axis_mask})
        return y

    def slice(self, x: T, begin: Sequence[int], size: Sequence[int]) -> T:
        """SLICE (``size`` -1 = to the end)."""
        shape = [x.shape[d] - b if s == -1 else s for d, (b, s) in enumerate(zip(begin, size))]
        y = self._act(shape, x.scale, x.zero_point, dtype=x.dtype)
        self.mb.add_operator("SLICE", [x.index, self._int_operand(begin, "begin"),
                                       self._int_operand(size, "size")], [y.index],
                             "SliceOptions", {})
        return y

    def split(self, x: T, num_splits: int, axis: int = -1) -> list[T]:
        """SPLIT into ``num_splits`` equal parts along ``axis`` (the axis operand comes
        first, as in TFLite)."""
        ax = axis % len(x.shape)
        part = list(x.shape)
        part[ax] //= num_splits
        ys = [self._act(part, x.scale, x.zero_point, dtype=x.dtype) for _ in range(num_splits)]
        self.mb.add_operator("SPLIT", [self._int_operand(axis, "axis"), x.index],
                             [y.index for y in ys], "SplitOptions", {"NumSplits": num_splits})
        return ys

    def split_v(self, x: T, sizes: Sequence[int], axis: int = -1) -> list[T]:
        """SPLIT_V into parts of the given ``sizes`` along ``axis`` (one size may be -1)."""
        ax = axis % len(x.shape)
        sizes = list(sizes)
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[ax] - (sum(sizes) + 1)
        ys = []
        for n in sizes:
            part = list(x.shape)
            part[ax] = n
            ys.append(self._act(part, x.scale, x.zero_point, dtype=x.dtype))
        self.mb.add_operator("SPLIT_V", [x.index, self._int_operand(sizes, "sizes"),
                                         self._int_operand(axis, "axis")],
                             [y.index for y in ys], "SplitVOptions", {"NumSplits": len(sizes)})
        return ys

    def svdf(self, x: T, units: int, rank: int, memory: int, state_dtype=np.int16,
             state_scale: float | None = None, state_zp: int = 0,
             out_scale: float | None = None, out_zp: int | None = None,
             activation: str | None = None) -> T:
        """SVDF int8 on ``x`` [batch, input_size]: weights_feature int8 [units * rank,
        input_size], weights_time ``state_dtype`` (int16, or int8: TFLM's two integer
        forms) [units * rank, memory], bias int32 [units] with scale state * time, and the
        activation state, a variable tensor [batch, units * rank * memory] of
        ``state_dtype`` (zero point ``state_zp``; TFLM's int16 form assumes 0) that the
        operator updates in place on every invoke. Output int8 [batch, units]."""
        batch, depth = x.shape
        filters = units * rank
        state_dtype = np.dtype(state_dtype)
        wf, wfq = self._weights((filters, depth), 0, filters)
        wfq = Quant([float(np.mean(wfq.scale))], [0])
        hi = 127 if state_dtype == np.int8 else 32767
        # time weights within +-1024 for int16: the int32 sums of TFLM (and byoc) cannot
        # overflow for memory * rank <= 64
        w_hi = 127 if state_dtype == np.int8 else 1024
        wt = self.rng.integers(-w_hi, w_hi + 1, size=(filters, memory)).astype(state_dtype)
        wt_scale = float(np.float32(1.0 / w_hi))
        if state_scale is None:
            # a typical feature projection at about a quarter of the state's range
            state_scale = self._accumulator_scale(x.scale, wfq.scale, depth) * 60.0 / (hi / 4)
        acc_scale = float(np.float32(state_scale) * np.float32(wt_scale))
        typical_acc = (hi / 4) * (w_hi / 2) * np.sqrt(memory * rank)
        bias = self.rng.integers(-int(typical_acc), int(typical_acc) + 1,
                                 size=units).astype(np.int32)
        if out_scale is None:
            out_scale = acc_scale * typical_acc / 60.0
        wfi = self.mb.add_tensor(self._name("svdf_wf"), wf.shape, np.int8, wf, wfq)
        wti = self.mb.add_tensor(self._name("svdf_wt"), wt.shape, state_dtype, wt,
                                 Quant.per_tensor(wt_scale, 0))
        bi = self.mb.add_tensor(self._name("svdf_b"), bias.shape, np.int32, bias,
                                Quant.per_tensor(acc_scale, 0))
        si = self.mb.add_tensor(self._name("svdf_state"), (batch, filters * memory),
                                state_dtype, quant=Quant.per_tensor(state_scale, state_zp),
                                is_variable=True)
        y = self._act((batch, units), out_scale,
                      self._out_zp(activation) if out_zp is None else out_zp, dtype=np.int8)
        self.mb.add_operator("SVDF", [x.index, wfi, wti, bi, si], [y.index], "SVDFOptions",
                             {"Rank": rank, "FusedActivationFunction": ACTIVATIONS[activation]})
        return y

    def quantize(self, x: T, scale: float | None = None, zero_point: int | None = None,
                 dtype=np.uint8) -> T:
        """QUANTIZE (requantize) to ``dtype``: by default int8 -> uint8 with the same scale
        and the zero point shifted by 128, as TFLite's uint8 model outputs."""
        dtype = np.dtype(dtype)
        if zero_point is None:
            zero_point = x.zero_point + 128 if dtype == np.uint8 else x.zero_point
        y = self._act(x.shape, x.scale if scale is None else scale, zero_point, dtype=dtype)
        self.mb.add_operator("QUANTIZE", [x.index], [y.index])
        return y


@dataclass
class Variable:
    """Handle of a resource variable created by ``LayerBuilder.variable``."""

    name: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    handle: int | None = None    # its VAR_HANDLE tensor in the main subgraph, once used
