"""Import-time validation of a decoded TFLite model, before TVM sees the graph.

``byoc.tflite.reader`` guarantees a well-formed flatbuffer (bounds, index ranges, buffer
sizes). This module checks what a well-formed file can still get wrong, so that the user
gets one line naming the tensor (index and name), the operator (index and type) and the
limit, instead of an error from deep inside TVM, a crash of the reference, or generated
code with undefined behaviour:

* graph: at least one output; every operator input is a model input, a constant or the
  output of an EARLIER operator (catches cycles, self-loops, never-written tensors, empty
  weight buffers); no tensor written twice; operators have the inputs they need;
* sizes: element counts and byte sizes fit int32 (TVM's shape arithmetic, TFLM's
  allocator) and the largest memory region of the Corstone-300 (DDR, 256 MiB); constants
  together fit it too; no zero-sized dimension on a computed tensor; rank <= 6 (TFLM);
* shapes: the declared output shape of the common operators equals what the operator
  computes from its inputs and options (strides, dilations and windows >= 1);
* quantization: computed int8/int16/uint8 tensors are quantized with a normal, finite,
  positive scale and an in-range zero point; requantization multipliers neither round
  to zero nor need a left shift that overflows int32; SOFTMAX output quantization as TFLM
  requires it, and rows short enough for the int32 sum of exponentials; int8 convolution
  weights symmetric (TFLM's kernels ignore a weight zero point).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from byoc.errors import ModelError

from .reader import OperatorInfo, TensorInfo, TFLiteModel

__all__ = ["check_model", "INT32_MAX", "MAX_RANK", "MEMORY_LIMIT_BYTES",
           "SOFTMAX_MAX_ROW_INT8", "SOFTMAX_MAX_ROW_INT16"]

INT32_MAX = 2 ** 31 - 1
#: TFLM's RuntimeShape holds at most 6 dimensions.
MAX_RANK = 6
#: The largest memory region of the Corstone-300 memory map byoc links for (DDR, 256 MiB):
#: no single tensor, and not the constants together, can be larger on the target.
MEMORY_LIMIT_BYTES = 0x10000000
MEMORY_LIMIT_TEXT = "the largest memory region of the Corstone-300 (DDR, 256 MiB)"
#: int8 SOFTMAX sums exp() as Q12.19 in int32 (TFLM, CMSIS-NN, byoc): each term is up to
#: 2^19, so a row of more than 4095 elements can overflow int32.
SOFTMAX_MAX_ROW_INT8 = 4095
#: int16 SOFTMAX sums Q0.15 exponentials (<= 32767) in int32.
SOFTMAX_MAX_ROW_INT16 = INT32_MAX // 32767
#: Requantization multipliers outside [2^-31, 2^15): TFLite rounds smaller ones to 0 (a
#: constant output) and scales by 2^shift in int32 before rounding (larger ones overflow).
MULTIPLIER_MIN_LOG2, MULTIPLIER_MAX_LOG2 = -31, 15
FLT32_MIN_NORMAL = float(np.finfo(np.float32).tiny)

_QUANTIZED_DTYPES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}
_SAME_SHAPE_OPS = frozenset({"SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1",
                             "LEAKY_RELU", "HARD_SWISH", "QUANTIZE", "DEQUANTIZE", "ABS",
                             "NEG", "ELU", "LOG_SOFTMAX"})
_BROADCAST_OPS = frozenset({"ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM",
                            "SQUARED_DIFFERENCE"})
_POOL_OPS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
_WEIGHTED_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
_REDUCE_OPS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})
# Operators that rescale one quantized input to their output (multiplier s_in / s_out).
_RESCALE_OPS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "PAD", "PADV2", "CONCATENATION",
                          "MEAN", "QUANTIZE", "RESHAPE", "RELU", "RELU6", "LEAKY_RELU"})
#: How many inputs an operator needs at least (the converter indexes them blindly).
_MIN_INPUTS = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "ADD": 2,
               "SUB": 2, "MUL": 2, "RESHAPE": 1, "PAD": 2, "PADV2": 2, "MEAN": 2,
               "CONCATENATION": 1, "SOFTMAX": 1, "AVERAGE_POOL_2D": 1, "MAX_POOL_2D": 1,
               "QUANTIZE": 1, "DEQUANTIZE": 1, "TRANSPOSE_CONV": 3}


def check_model(model: TFLiteModel, label: str | None = None) -> None:
    """Raise ``ModelError`` (one line) for the first problem found in ``model``."""
    _Checker(model, label or model.name).run()


class _Checker:
    def __init__(self, model: TFLiteModel, label: str):
        self.m, self.label = model, label
        self.t = model.tensors
        self.users: dict[int, tuple[OperatorInfo, str]] = {}
        for op in model.operators:
            for k, ti in enumerate(op.outputs):
                self.users.setdefault(ti, (op, f"output {k}"))
            for k, ti in enumerate(op.inputs):
                if ti >= 0:
                    self.users.setdefault(ti, (op, f"input {k}"))

    # -- messages ---------------------------------------------------------------------------
    def fail(self, text: str, op: OperatorInfo | None = None,
             tensor: int | None = None) -> None:
        parts = [self.label]
        if op is None and tensor is not None and tensor in self.users:
            op, role = self.users[tensor]
            where = f"operator {op.index} ({op.type}) {role}"
        else:
            where = f"operator {op.index} ({op.type})" if op is not None else ""
        if where:
            parts.append(where)
        if tensor is not None:
            parts.append(f"tensor {tensor} '{_short(self.t[tensor].name)}'")
        raise ModelError(" ".join(": ".join(parts + [text]).split()))

    # -- driver -----------------------------------------------------------------------------
    def run(self) -> None:
        self.check_io()
        self.check_sizes()
        self.check_dataflow()
        for op in self.m.operators:
            self.check_operator(op)
        self.check_quantization()

    def check_io(self) -> None:
        if not self.m.outputs:
            raise ModelError(f"{self.label}: the model has no outputs (its subgraph lists "
                             "no output tensor)")
        for kind, ts in (("input", self.m.inputs), ("output", self.m.outputs)):
            seen: set[int] = set()
            for t in ts:
                if t.index in seen:
                    self.fail(f"is listed twice as a model {kind}", tensor=t.index)
                seen.add(t.index)
        for t in self.m.inputs:
            if t.is_constant:
                self.fail("a model input holds constant data", tensor=t.index)

    def check_sizes(self) -> None:
        for t in self.t:
            if len(t.shape) > MAX_RANK:
                self.fail(f"has rank {len(t.shape)} {_shape(t.shape)}; at most {MAX_RANK} "
                          "dimensions are supported (TFLM's limit)", tensor=t.index)
            if t.num_elements > INT32_MAX:
                self.fail(f"has {t.num_elements} elements {_shape(t.shape)}, more than "
                          f"int32 can count ({INT32_MAX})", tensor=t.index)
            if t.nbytes > INT32_MAX:
                self.fail(f"has {t.nbytes} bytes {_shape(t.shape)} {t.dtype}, more than "
                          f"{INT32_MAX} (int32)", tensor=t.index)
            if t.nbytes > MEMORY_LIMIT_BYTES:
                self.fail(f"has {t.nbytes} bytes {_shape(t.shape)} {t.dtype}, more than "
                          f"{MEMORY_LIMIT_TEXT}", tensor=t.index)
            if not t.is_constant and 0 in t.shape:
                self.fail(f"has a zero-sized dimension {_shape(t.shape)}; TFLM and byoc "
                          "need every dimension of a computed tensor >= 1", tensor=t.index)
        constants = sum(t.nbytes for t in self.t if t.is_constant)
        if constants > MEMORY_LIMIT_BYTES:
            raise ModelError(f"{self.label}: the constants total {constants} bytes, more "
                             f"than {MEMORY_LIMIT_TEXT}")

    def check_dataflow(self) -> None:
        """Operators run in file order: each input must exist when its operator runs."""
        ready = {t.index for t in self.m.inputs} | self.state_inputs()
        ready |= {t.index for t in self.t if t.is_constant or t.is_variable}
        writer: dict[int, OperatorInfo] = {}
        later = {}
        for op in reversed(self.m.operators):
            for ti in op.outputs:
                later[ti] = op
        for op in self.m.operators:
            need = _MIN_INPUTS.get(op.type, 0)
            present = [ti for ti in op.inputs[:need] if ti >= 0]
            if len(op.inputs) < need or len(present) < need:
                self.fail(f"has {len(present)} input(s); {op.type} needs at least {need}",
                          op=op)
            if not op.outputs:
                self.fail("has no output tensor", op=op)
            for k, ti in enumerate(op.inputs):
                if ti < 0 or ti in ready:
                    continue
                t = self.t[ti]
                if ti in op.outputs:
                    self.fail(f"input {k} is the operator's own output (a self-loop)", op, ti)
                if ti in later and later[ti].index > op.index:
                    w = later[ti]
                    self.fail(f"input {k} is written only later, by operator {w.index} "
                              f"({w.type}): a cycle, or operators out of execution order",
                              op, ti)
                if t.buffer or (op.type in _WEIGHTED_OPS and k in (1, 2)):
                    what = "weights" if k == 1 else "bias"
                    self.fail(f"input {k} ({what}) has no data (empty buffer {t.buffer}) and "
                              "no operator writes it: the constant data is missing", op, ti)
                self.fail(f"input {k} is never written: it is no model input, constant "
                          "or operator output", op, ti)
            for ti in op.outputs:
                t = self.t[ti]
                if t.is_constant:
                    self.fail("writes a tensor that holds constant data", op, ti)
                if ti in writer or ti in {x.index for x in self.m.inputs}:
                    first = writer.get(ti)
                    by = (f"operator {first.index} ({first.type})" if first is not None
                          else "the caller (model input)")
                    self.fail(f"writes a tensor already written by {by}", op, ti)
                writer[ti] = op
                ready.add(ti)
        for k, t in enumerate(self.m.outputs):
            if t.index not in ready:
                self.fail(f"model output {k} is never written", tensor=t.index)

    def state_inputs(self) -> set[int]:
        """Tensors a stateful model's stateless form takes as extra inputs (the variables'
        values, after ``inputs``; see ``TFLiteModel.state``)."""
        if getattr(self.m, "state", None) is None:
            return set()
        values = self.m.model.Subgraphs(0).InputsAsNumpy()
        return {int(v) for v in values} if isinstance(values, np.ndarray) else set()

    # -- per-operator shape rules ---------------------------------------------------------
    def check_operator(self, op: OperatorInfo) -> None:
        o = op.options
        for key in ("strides", "dilation", "filter_size"):
            if key in o and any(int(v) < 1 for v in o[key]):
                self.fail(f"{key.replace('_', ' ')} {list(o[key])} must be >= 1", op)
        if op.type == "DEPTHWISE_CONV_2D" and int(o.get("depth_multiplier", 1)) < 0:
            self.fail(f"depth multiplier {o['depth_multiplier']} is negative", op)
        try:
            expected = self.expected_shape(op)
        except ValueError as exc:
            self.fail(str(exc), op)
        if expected is None:
            return
        out = op.outputs[0]
        declared = tuple(self.t[out].shape)
        if op.type in ("FULLY_CONNECTED", "RESHAPE"):
            ok = math.prod(declared) == math.prod(expected) and \
                (op.type == "RESHAPE" or declared[-1:] == expected[-1:])
        else:
            ok = declared == tuple(expected)
        if not ok:
            self.fail(f"output is declared {_shape(declared)} but the operator computes "
                      f"{_shape(expected)} from its inputs", op, out)
        if op.type == "SOFTMAX":
            self.check_softmax(op)

    def expected_shape(self, op: OperatorInfo) -> tuple[int, ...] | None:
        """The output shape the operator computes, or None when not checked."""
        shapes = [tuple(self.t[i].shape) if i >= 0 else None for i in op.inputs]
        x = shapes[0] if shapes else None
        if x is None:
            return None
        if op.type in _SAME_SHAPE_OPS:
            return x
        if op.type in _BROADCAST_OPS and len(shapes) >= 2 and shapes[1] is not None:
            try:
                return tuple(np.broadcast_shapes(x, shapes[1]))
            except ValueError:
                raise ValueError(f"input shapes {_shape(x)} and {_shape(shapes[1])} do not "
                                 "broadcast") from None
        if op.type in _POOL_OPS or op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            return self.window_shape(op, x, shapes)
        if op.type == "FULLY_CONNECTED":
            w = shapes[1]
            if w is None or len(w) != 2:
                raise ValueError(f"weights {_shape(w or ())} must be [units, depth]")
            if w[1] == 0 or math.prod(x) % w[1]:
                raise ValueError(f"input {_shape(x)} is not a whole number of rows of the "
                                 f"weights' depth {w[1]}")
            self.check_bias(op, w[0])
            return (math.prod(x) // w[1], w[0])
        if op.type == "RESHAPE":
            return x
        if op.type in ("PAD", "PADV2"):
            pads = op.options.get("paddings")
            if pads is None:
                return None
            arr = np.asarray(pads).reshape(-1, 2) if np.size(pads) else np.zeros((0, 2))
            if arr.shape[0] != len(x) or (arr < 0).any():
                raise ValueError(f"paddings {arr.tolist()} do not fit the input {_shape(x)}")
            return tuple(int(d + a + b) for d, (a, b) in zip(x, arr))
        if op.type == "CONCATENATION":
            return self.concat_shape(op, [s for s in shapes if s is not None])
        return None

    def window_shape(self, op: OperatorInfo, x, shapes) -> tuple[int, ...]:
        if len(x) != 4:
            raise ValueError(f"input {_shape(x)} must be 4-D NHWC")
        n, h, w, c = x
        o = op.options
        sh, sw = (int(v) for v in o.get("strides", [1, 1]))
        dh, dw = (int(v) for v in o.get("dilation", [1, 1]))
        if op.type in _POOL_OPS:
            kh, kw = (int(v) for v in o.get("filter_size", [1, 1]))
            cout = c
        else:
            f = shapes[1]
            if f is None or len(f) != 4:
                raise ValueError(f"filter {_shape(f or ())} must be 4-D")
            kh, kw = f[1], f[2]
            if op.type == "CONV_2D":
                cout = f[0]
                if f[3] == 0 or c % f[3]:
                    raise ValueError(f"filter {_shape(f)} input depth {f[3]} does not divide "
                                     f"the input's {c} channels")
            else:
                cout = f[3]
                if f[0] != 1 or c == 0 or cout % c:
                    raise ValueError(f"depthwise filter {_shape(f)} must be [1, KH, KW, C * "
                                     f"multiplier] for {c} input channels")
            self.check_bias(op, cout)
        if min(kh, kw) < 1:
            raise ValueError(f"window {kh}x{kw} must be at least 1x1")
        eff_h, eff_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if o.get("padding") == "SAME":
            oh, ow = -(-h // sh), -(-w // sw)
        else:
            oh, ow = (h - eff_h) // sh + 1, (w - eff_w) // sw + 1
            if oh < 1 or ow < 1:
                raise ValueError(f"window {eff_h}x{eff_w} (dilated) does not fit the {h}x{w} "
                                 "input with VALID padding")
        return (n, oh, ow, cout)

    def check_bias(self, op: OperatorInfo, channels: int) -> None:
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            b = self.t[op.inputs[2]]
            if b.num_elements != channels:
                self.fail(f"bias has {b.num_elements} elements {_shape(b.shape)}; the "
                          f"operator has {channels} output channels", op, b.index)

    def concat_shape(self, op: OperatorInfo, shapes) -> tuple[int, ...]:
        rank = len(shapes[0])
        axis = int(op.options.get("axis", 0))
        if not -rank <= axis < rank:
            raise ValueError(f"axis {axis} is outside the inputs' rank {rank}")
        axis %= rank
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0]))
                                     if i != axis):
                raise ValueError(f"inputs {_shape(shapes[0])} and {_shape(s)} differ outside "
                                 f"the concatenation axis {axis}")
            out[axis] += s[axis]
        return tuple(out)

    def check_softmax(self, op: OperatorInfo) -> None:
        x, y = self.t[op.inputs[0]], self.t[op.outputs[0]]
        row = x.shape[-1] if x.shape else 1
        if x.dtype == "int8" and row > SOFTMAX_MAX_ROW_INT8:
            self.fail(f"int8 rows of {row} elements are longer than {SOFTMAX_MAX_ROW_INT8}: "
                      "the int32 Q12.19 sum of exponentials (TFLM's algorithm) can overflow",
                      op, x.index)
        if x.dtype == "int16" and row > SOFTMAX_MAX_ROW_INT16:
            self.fail(f"int16 rows of {row} elements are longer than "
                      f"{SOFTMAX_MAX_ROW_INT16}: the int32 sum of exponentials can overflow",
                      op, x.index)
        want = {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}.get(y.dtype)
        if want is None or not y.is_quantized:
            return
        scale, zp = want
        if y.zero_point[0] != zp or abs(y.scale[0] - scale) > 0.001 * scale:
            self.fail(f"{y.dtype} output quantization scale={y.scale[0]:.6g} "
                      f"zero_point={y.zero_point[0]}; TFLM requires scale 1/{round(1 / scale)} "
                      f"and zero point {zp}", op, y.index)

    # -- quantization -------------------------------------------------------------------
    def check_quantization(self) -> None:
        for t in self.t:
            if t.dtype not in _QUANTIZED_DTYPES:
                continue
            lo, hi = _QUANTIZED_DTYPES[t.dtype]
            computed = not t.is_constant and t.index in self.users
            if computed and not t.is_quantized:
                self.fail(f"is {t.dtype} without quantization parameters; TFLM needs a "
                          "scale and zero point on every int8/int16 activation",
                          tensor=t.index)
            for zp in t.zero_point:
                if not lo <= zp <= hi:
                    self.fail(f"zero point {zp} is outside the {t.dtype} range [{lo}, {hi}]",
                              tensor=t.index)
            if computed:
                for s in t.scale:
                    if not (math.isfinite(s) and s >= FLT32_MIN_NORMAL):
                        self.fail(f"quantization scale {s:.6g} must be a positive normal "
                                  f"float32 (>= {FLT32_MIN_NORMAL:.6g})", tensor=t.index)
        for op in self.m.operators:
            self.check_weights(op)
            for what, real in self.multipliers(op):
                self.check_multiplier(op, what, real)

    def check_weights(self, op: OperatorInfo) -> None:
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D") or len(op.inputs) < 2:
            return
        w = self.t[op.inputs[1]]
        x = self.t[op.inputs[0]]
        if w.dtype == "int8" and x.is_quantized and any(z != 0 for z in w.zero_point):
            zp = next(z for z in w.zero_point if z != 0)
            self.fail(f"weight zero point {zp} != 0: TFLite's int8 {op.type} kernels "
                      "require symmetric weights (TFLM ignores the zero point)", op, w.index)

    def multipliers(self, op: OperatorInfo) -> list[tuple[str, float]]:
        """(description, real multiplier) of the operator's integer requantization."""
        q = [self.t[i] if i >= 0 else None for i in op.inputs]
        outs = [self.t[i] for i in op.outputs]
        if not outs or not outs[0].is_quantized or not q or q[0] is None or \
                not q[0].is_quantized:
            return []
        s_out, s_in = outs[0].scale[0], q[0].scale[0]
        if s_out <= 0 or s_in <= 0:
            return []  # reported as a scale problem
        if op.type in _WEIGHTED_OPS and len(q) > 1 and q[1] is not None and q[1].is_quantized:
            # Per-channel: multipliers are arrays, and trained models have channels whose
            # multiplier underflows to 0 (dead channels), like TFLite: upper bound only.
            per_channel = len(q[1].scale) > 1
            return [(f"input scale * weight scale / output scale (channel {c})"
                     + (" [per-channel]" if per_channel else ""), s_in * sw / s_out)
                    for c, sw in enumerate(q[1].scale) if sw > 0]
        if op.type == "MUL" and len(q) > 1 and q[1] is not None and q[1].is_quantized:
            return [("input scales' product / output scale", s_in * q[1].scale[0] / s_out)]
        if op.type in ("ADD", "SUB") and len(q) > 1 and q[1] is not None and \
                q[1].is_quantized:
            shift = 15 if outs[0].dtype == "int16" else 20
            twice_max = 2 * max(s_in, q[1].scale[0])
            return [("input scale / (2 * max(input scales))", s_in / twice_max),
                    ("input 1 scale / (2 * max(input scales))", q[1].scale[0] / twice_max),
                    (f"2 * max(input scales) / (2^{shift} * output scale)",
                     twice_max / (2 ** shift * s_out))]
        if op.type in _RESCALE_OPS:
            return [("input scale / output scale", s_in / s_out)]
        return []

    def check_multiplier(self, op: OperatorInfo, what: str, real: float) -> None:
        if not math.isfinite(real) or real <= 0:
            self.fail(f"requantization multiplier ({what}) is {real:.6g}", op, op.outputs[0])
        exp = math.frexp(real)[1]
        if exp < MULTIPLIER_MIN_LOG2 and "[per-channel]" not in what:
            self.fail(f"requantization multiplier ({what}) {real:.6g} is below "
                      f"2^{MULTIPLIER_MIN_LOG2}: TFLite rounds it to 0 (a constant output)",
                      op, op.outputs[0])
        if exp > MULTIPLIER_MAX_LOG2:
            self.fail(f"requantization multiplier ({what}) {real:.6g} is 2^"
                      f"{MULTIPLIER_MAX_LOG2} or more: the int32 rescaling overflows",
                      op, op.outputs[0])


def _shape(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _short(name: str, limit: int = 80) -> str:
    """A tensor name as shown in a one-line message: control characters replaced,
    very long names cut."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= limit else text[:limit - 3] + "..."
