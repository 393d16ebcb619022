"""Load, validate and describe a TFLite model.

``load_model`` reads a ``.tflite`` file (or bytes), checks that it is a well-formed,
single-subgraph TFLite flatbuffer and decodes it into plain Python objects:

* ``TensorInfo`` - one per tensor: shape, dtype, quantization, constness, size.
* ``OperatorInfo`` - one per operator: type name, tensor indices, decoded builtin options
  and a multiply-accumulate count.
* ``TFLiteModel`` - the whole model plus helpers (``summary()``, ``is_float()``...).

``format_info`` renders a model as the text printed by ``byoc info``.

Robustness: the FlatBuffers Python runtime does no bounds checking, so a truncated or
corrupt file can make it raise arbitrary exceptions, loop over garbage-sized vectors or
silently return garbage. Before anything is read, every table, vector and string the
reader uses is walked by a small bounds-checking verifier (``_Verifier``); afterwards all
cross references (buffer, tensor, opcode indices) are range-checked. Every problem is
reported as a one-line ``ModelError`` naming the file.

Layouts follow TFLite: feature maps NHWC, CONV_2D filters OHWI ``[Cout, KH, KW, Cin]``,
DEPTHWISE_CONV_2D filters ``[1, KH, KW, Cout]``, FULLY_CONNECTED weights
``[units, in_depth]``.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import flatbuffers
import numpy as np
import tflite

from byoc.errors import ModelError

__all__ = [
    "TensorInfo",
    "OperatorInfo",
    "TFLiteModel",
    "load_model",
    "format_info",
    "FILE_IDENTIFIER",
    "SCHEMA_VERSION",
]

#: FlatBuffers file identifier of TFLite models (bytes 4..8 of the file).
FILE_IDENTIFIER = b"TFL3"
#: The only TFLite schema version in use (and supported).
SCHEMA_VERSION = 3

# -----------------------------------------------------------------------------------------
# Enum tables derived from the flatbuffer schema classes.
# -----------------------------------------------------------------------------------------


def _enum_names(cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


_BUILTIN_OP_NAMES = _enum_names(tflite.BuiltinOperator)
_TENSOR_TYPE_NAMES = _enum_names(tflite.TensorType)
_ACTIVATION_NAMES = _enum_names(tflite.ActivationFunctionType)
_PADDING_NAMES = _enum_names(tflite.Padding)
_BUILTIN_OPTIONS_NAMES = _enum_names(tflite.BuiltinOptions)
_BUILTIN_OPTIONS2_NAMES = _enum_names(tflite.BuiltinOptions2)
_WEIGHTS_FORMAT_NAMES = _enum_names(tflite.FullyConnectedOptionsWeightsFormat)

# TensorType code -> (numpy dtype name, bytes per element). Types missing here (STRING,
# COMPLEX*, RESOURCE, VARIANT, packed INT4, BFLOAT16, unknown codes) are rejected.
_SUPPORTED_TYPES: dict[int, tuple[str, int]] = {
    tflite.TensorType.FLOAT32: ("float32", 4),
    tflite.TensorType.FLOAT16: ("float16", 2),
    tflite.TensorType.FLOAT64: ("float64", 8),
    tflite.TensorType.INT8: ("int8", 1),
    tflite.TensorType.UINT8: ("uint8", 1),
    tflite.TensorType.INT16: ("int16", 2),
    tflite.TensorType.UINT16: ("uint16", 2),
    tflite.TensorType.INT32: ("int32", 4),
    tflite.TensorType.UINT32: ("uint32", 4),
    tflite.TensorType.INT64: ("int64", 8),
    tflite.TensorType.UINT64: ("uint64", 8),
    tflite.TensorType.BOOL: ("bool", 1),
}

_FLOAT_DTYPES = frozenset({"float16", "float32", "float64"})


# -----------------------------------------------------------------------------------------
# Public data classes
# -----------------------------------------------------------------------------------------


@dataclass
class TensorInfo:
    """One tensor of the model's subgraph.

    Attributes:
        index: position in the subgraph's tensor list (what operators refer to).
        name: tensor name from the file (may be empty).
        shape: dimensions in elements, TFLite layout (feature maps NHWC). ``()`` = scalar.
            For dynamic tensors the converter stores 1 for unknown dimensions here.
        dtype: numpy dtype name: "int8", "uint8", "int16", "int32", "int64", "float32"...
        scale: quantization scales (real = scale * (q - zero_point)); empty when the
            tensor is not quantized, one entry per tensor, or one per channel along
            ``quantized_dimension``.
        zero_point: quantization zero points, same length as ``scale``.
        quantized_dimension: axis of per-channel quantization (meaningful only when
            ``len(scale) > 1``).
        shape_signature: shape with -1 for dynamic dimensions, or None when the file has
            no signature (fully static tensor).
        is_constant: True when the tensor's data is stored in the model (weights, biases,
            shape/axis operands).
        nbytes: size of the tensor's data in bytes (elements * bytes per element).
        buffer: index of the model buffer holding the data (0 = no data).
        is_variable: True for TFLite variable (stateful) tensors.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: list[float]
    zero_point: list[int]
    quantized_dimension: int
    shape_signature: tuple[int, ...] | None
    is_constant: bool
    nbytes: int
    buffer: int = 0
    is_variable: bool = False

    @property
    def num_elements(self) -> int:
        """Number of elements (product of ``shape``; 1 for a scalar)."""
        return math.prod(self.shape)

    @property
    def is_quantized(self) -> bool:
        """True when the tensor carries affine quantization parameters."""
        return len(self.scale) > 0

    @property
    def is_per_channel(self) -> bool:
        """True for per-axis quantization (more than one scale)."""
        return len(self.scale) > 1

    @property
    def is_dynamic(self) -> bool:
        """True when the shape signature has a -1 (unknown) dimension."""
        return self.shape_signature is not None and any(d < 0 for d in self.shape_signature)

    def describe_quantization(self) -> str:
        """Short human-readable quantization text, e.g. ``scale=0.05 zp=-128``."""
        if not self.scale:
            return "not quantized"
        if len(self.scale) == 1:
            return f"scale={self.scale[0]:.6g} zp={self.zero_point[0]}"
        zps = set(self.zero_point)
        zp = f"zp={next(iter(zps))}" if len(zps) == 1 else "zp=per-channel"
        return (f"per-channel axis {self.quantized_dimension}: {len(self.scale)} scales "
                f"{min(self.scale):.4g}..{max(self.scale):.4g} {zp}")


@dataclass
class OperatorInfo:
    """One operator of the model's subgraph.

    Attributes:
        index: position in execution order.
        type: builtin operator name ("CONV_2D", "FULLY_CONNECTED"...) or
            ``"CUSTOM:<custom code>"`` for custom operators.
        inputs: tensor indices; -1 marks an omitted optional input.
        outputs: tensor indices.
        options: builtin options as plain JSON-able values. Every scalar field of the
            options table appears under its snake_case schema name (``stride_w``,
            ``keep_dims``, ``axis``, ``beta``...), with these normalisations:
            ``padding`` -> "SAME"/"VALID"; ``fused_activation_function`` is replaced by
            ``activation`` -> "NONE"/"RELU"/"RELU6"/...; ``weights_format`` -> name.
            Added where it applies: ``strides`` [h, w], ``dilation`` [h, w],
            ``filter_size`` [h, w] (convolutions: from the filter tensor; pools: from
            the options), ``axis`` (reductions: from the constant axis operand),
            ``new_shape`` (RESHAPE), ``paddings`` [[before, after], ...] (PAD family).
            Custom operators get ``custom_options_size`` (bytes).
        macs: multiply-accumulate operations of one inference, see ``_compute_macs``.
        opcode: builtin operator code (``tflite.BuiltinOperator``).
        version: operator version from the opcode table.
        custom_code: custom operator name, or None for builtins.
    """

    index: int
    type: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any]
    macs: int
    opcode: int = 0
    version: int = 1
    custom_code: str | None = None


@dataclass
class TFLiteModel:
    """A loaded, validated TFLite model (single subgraph; a stateful model is decoded in its
    stateless form, see ``state``).

    Attributes:
        path: file it was loaded from (None when loaded from bytes).
        data: the raw file contents.
        model: the flatbuffer root (``tflite.Model``) over ``data`` for anything not
            decoded here; safe to read because the file was verified. For a stateful
            model: the root of its stateless form (``byoc.tflite.state``), whose subgraph
            also takes the variables' values as inputs (after ``inputs``) and returns their
            new values as outputs (after ``outputs``).
        tensors: all tensors, indexed by tensor index.
        operators: all operators, in execution order.
        inputs: the subgraph's input tensors, in signature order.
        outputs: the subgraph's output tensors, in signature order.
        name: label used in messages (the path, or the ``name`` given to ``load_model``).
        description: the model's description string.
        version: flatbuffer schema version (always 3).
        state: for a model with resource variables, their ``StateSpec`` (shapes,
            initial values, offsets in the state buffer); None otherwise. ``tensors`` and
            ``operators`` are then those of the stateless form (state operators removed).
    """

    path: Path | None
    data: bytes
    model: Any
    tensors: list[TensorInfo]
    operators: list[OperatorInfo]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    name: str = "<memory>"
    description: str = ""
    version: int = SCHEMA_VERSION
    _buffer_data: list[bytes | memoryview] = field(default_factory=list, repr=False)
    state: Any = None

    @property
    def is_stateful(self) -> bool:
        """True for a model with resource variables (``state`` is their
        ``byoc.tflite.state.StateSpec``)."""
        return self.state is not None

    # -- queries --------------------------------------------------------------------------
    def activation_tensors(self) -> list[TensorInfo]:
        """Non-constant tensors that carry computation (operator inputs/outputs).

        The float side of the graph's edge converters is left out: the input of a
        QUANTIZE and the output of a DEQUANTIZE. So an int8 model with float32 I/O
        wrappers has only int8 activations. A model without operators falls back to its
        inputs and outputs.
        """
        ids: set[int] = set()
        for op in self.operators:
            for t in op.inputs:
                if t >= 0 and op.type != "QUANTIZE":
                    ids.add(t)
            for t in op.outputs:
                if op.type != "DEQUANTIZE":
                    ids.add(t)
        if not self.operators:
            ids.update(t.index for t in self.inputs + self.outputs)
        return [self.tensors[i] for i in sorted(ids) if not self.tensors[i].is_constant]

    def is_float(self) -> bool:
        """True when computation runs on float activations (float16/32/64, not quantized).

        See ``activation_tensors`` for which tensors count: float model I/O around an
        int8 core (QUANTIZE in, DEQUANTIZE out) does not make a model float.
        """
        return any(t.dtype in _FLOAT_DTYPES for t in self.activation_tensors())

    def precision(self) -> str:
        """Activation precision: "float", "int8", "int16", "uint8", "mixed" (several
        quantized types) or, without quantized activations, the single activation dtype
        ("int32"...) or "none"."""
        if self.is_float():
            return "float"
        acts = {t.dtype for t in self.activation_tensors()}
        quantized = acts & {"int8", "uint8", "int16"}
        dtypes = quantized or acts
        if len(dtypes) == 1:
            return next(iter(dtypes))
        return "mixed" if dtypes else "none"

    def dynamic_tensors(self) -> list[TensorInfo]:
        """Tensors whose shape signature has a -1 (unknown) dimension, by index.

        Includes inputs/outputs (typically a dynamic batch size) and any internal tensor.
        """
        return [t for t in self.tensors if t.is_dynamic]

    def operator_counts(self) -> dict[str, int]:
        """Operator type -> number of occurrences, in order of first occurrence."""
        counts: dict[str, int] = {}
        for op in self.operators:
            counts[op.type] = counts.get(op.type, 0) + 1
        return counts

    def total_macs(self) -> int:
        """Sum of ``OperatorInfo.macs`` over all operators."""
        return sum(op.macs for op in self.operators)

    def tensor_data(self, tensor: TensorInfo | int) -> np.ndarray | None:
        """The constant data of a tensor as a read-only numpy array of its shape and dtype,
        or None when the tensor is not constant."""
        t = self.tensors[tensor] if isinstance(tensor, int) else tensor
        if not t.is_constant:
            return None
        raw = self._buffer_data[t.buffer]
        return np.frombuffer(raw, dtype=np.dtype(t.dtype).newbyteorder("<"),
                             count=t.num_elements).reshape(t.shape)

    def require_static_quantized(self) -> None:
        """Raise ``ModelError`` unless the model is quantized and fully static.

        ``load_model`` accepts float and dynamic-shape models (so that ``byoc info`` can
        describe them); the compiler calls this to reject them with an actionable message.
        """
        dyn = self.dynamic_tensors()
        if dyn:
            t = dyn[0]
            raise ModelError(_oneline(
                f"{self.name}: tensor {t.index} '{t.name}' has a dynamic shape "
                f"(signature {list(t.shape_signature or ())}); only static shapes are "
                f"supported - re-export the model with fixed input shapes"))
        if self.is_float():
            t = next(t for t in self.activation_tensors() if t.dtype in _FLOAT_DTYPES)
            raise ModelError(_oneline(
                f"{self.name}: is a float model (tensor {t.index} '{t.name}' is {t.dtype}); "
                f"only int8-quantized models are supported - convert it with full-integer "
                f"post-training quantization"))

    def summary(self) -> dict[str, Any]:
        """JSON-able description (plain dicts, lists, str, int, float, bool)."""

        def io(t: TensorInfo) -> dict[str, Any]:
            return {"index": t.index, "name": t.name, "shape": list(t.shape),
                    "shape_signature": (list(t.shape_signature)
                                        if t.shape_signature is not None else None),
                    "dtype": t.dtype, "scale": list(t.scale),
                    "zero_point": list(t.zero_point),
                    "quantized_dimension": t.quantized_dimension, "nbytes": t.nbytes}

        return {
            "name": self.name,
            "description": self.description,
            "size_bytes": len(self.data),
            "inputs": [io(t) for t in self.inputs],
            "outputs": [io(t) for t in self.outputs],
            "operators": [{"index": op.index, "type": op.type, "macs": op.macs,
                           "inputs": list(op.inputs), "outputs": list(op.outputs)}
                          for op in self.operators],
            "operator_counts": self.operator_counts(),
            "total_macs": self.total_macs(),
            "num_tensors": len(self.tensors),
            "constant_bytes": sum(t.nbytes for t in self.tensors if t.is_constant),
            "is_float": self.is_float(),
            "precision": self.precision(),
            "dynamic_tensors": [t.index for t in self.dynamic_tensors()],
            "state": self.state.to_json() if self.state is not None else None,
        }


# -----------------------------------------------------------------------------------------
# Errors
# -----------------------------------------------------------------------------------------


def _oneline(text: str) -> str:
    return " ".join(text.replace("\r", " ").split("\n"))


class _Corrupt(Exception):
    """Internal: the flatbuffer is structurally invalid (message says where)."""


# -----------------------------------------------------------------------------------------
# FlatBuffers structure verifier
# -----------------------------------------------------------------------------------------

# Field kinds of the schema subset the reader uses; keys are vtable offsets (4 + 2*slot).
_S1, _S4, _S8 = ("scalar", 1), ("scalar", 4), ("scalar", 8)
_V1, _V4, _V8 = ("vector", 1), ("vector", 4), ("vector", 8)
_STR = ("string", 0)
_UNION = ("union", 0)

_QUANT_SPEC = {4: _V4, 6: _V4, 8: _V4, 10: _V8, 12: _S1, 16: _S4}
_TENSOR_SPEC = {4: _V4, 6: _S1, 8: _S4, 10: _STR, 12: ("table", _QUANT_SPEC), 14: _S1,
                18: _V4, 20: _S1}
_BUFFER_SPEC = {4: _V1, 6: _S8, 8: _S8}
_OPERATOR_SPEC = {4: _S4, 6: _V4, 8: _V4, 10: _S1, 12: _UNION, 14: _V1, 16: _S1,
                  20: _V4, 22: _S8, 24: _S8, 26: _S1, 28: _UNION}
_SUBGRAPH_SPEC = {4: ("tables", _TENSOR_SPEC), 6: _V4, 8: _V4,
                  10: ("tables", _OPERATOR_SPEC), 12: _STR}
_OPCODE_SPEC = {4: _S1, 6: _STR, 8: _S4, 10: _S4}
_MODEL_SPEC = {4: _S4, 6: ("tables", _OPCODE_SPEC), 8: ("tables", _SUBGRAPH_SPEC),
               10: _STR, 12: ("tables", _BUFFER_SPEC)}


class _Verifier:
    """Bounds-checks FlatBuffers tables, vectors and strings inside ``buf``.

    Mirrors the checks of the C++ ``flatbuffers::Verifier`` that matter for safe reading:
    every table header and vtable, every field read and every vector/string body must lie
    inside the buffer. Offsets to children are unsigned and point forward, so a walk
    always terminates.
    """

    def __init__(self, buf: bytes):
        self.buf = buf
        self.n = len(buf)

    def _need(self, pos: int, size: int, what: str) -> None:
        if pos < 0 or size < 0 or pos + size > self.n:
            raise _Corrupt(f"{what} (bytes {pos}..{pos + size}) lies outside the "
                           f"{self.n}-byte file")

    def _u16(self, pos: int) -> int:
        return struct.unpack_from("<H", self.buf, pos)[0]

    def _u32(self, pos: int) -> int:
        return struct.unpack_from("<I", self.buf, pos)[0]

    def table(self, pos: int, spec: dict, what: str) -> None:
        """Check the table at ``pos`` and, recursively, every field listed in ``spec``."""
        self._need(pos, 4, f"{what} table")
        vt = pos - struct.unpack_from("<i", self.buf, pos)[0]
        self._need(vt, 4, f"{what} vtable")
        vsize, tsize = self._u16(vt), self._u16(vt + 2)
        if vsize < 4 or vsize % 2 or tsize < 4:
            raise _Corrupt(f"{what} has an invalid vtable (size {vsize}, table size {tsize})")
        self._need(vt, vsize, f"{what} vtable")
        self._need(pos, tsize, f"{what} table")
        if not spec:
            # Options table of unknown layout: at least every field must start inside it.
            for voff in range(4, vsize, 2):
                if self._u16(vt + voff) >= tsize:
                    raise _Corrupt(f"{what} field at vtable offset {voff} overruns its table")
        for voff, (kind, arg) in spec.items():
            if voff + 2 > vsize:
                continue  # field written by an older schema: absent
            off = self._u16(vt + voff)
            if off == 0:
                continue
            size = arg if kind == "scalar" else 4
            if off + size > tsize:
                raise _Corrupt(f"{what} field at vtable offset {voff} overruns its table")
            if kind == "scalar":
                continue
            field_pos = pos + off
            target = field_pos + self._u32(field_pos)
            label = f"{what} field {voff}"
            if kind == "table":
                self.table(target, arg, label)
            elif kind == "union":
                self.table(target, {}, label)
            elif kind == "string":
                length = self.vector(target, 1, label)
                self._need(target + 4 + length, 1, f"{label} string terminator")
            elif kind == "vector":
                self.vector(target, arg, label)
            elif kind == "tables":
                length = self.vector(target, 4, label)
                for i in range(length):
                    elem = target + 4 + 4 * i
                    self.table(elem + self._u32(elem), arg, f"{label}[{i}]")

    def vector(self, pos: int, elem_size: int, what: str) -> int:
        """Check a vector (length prefix + body) at ``pos``; return its length."""
        self._need(pos, 4, f"{what} vector length")
        length = self._u32(pos)
        self._need(pos + 4, length * elem_size, f"{what} vector of {length} elements")
        return length

    def root(self) -> int:
        self._need(0, 8, "root offset and file identifier")
        pos = self._u32(0)
        self.table(pos, _MODEL_SPEC, "Model")
        return pos


# -----------------------------------------------------------------------------------------
# Loading
# -----------------------------------------------------------------------------------------


def load_model(source: str | os.PathLike | bytes, name: str | None = None) -> TFLiteModel:
    """Load and validate a TFLite model.

    Args:
        source: path of a ``.tflite`` file, or the model's bytes (bytes, bytearray or
            memoryview).
        name: label used in error messages and ``TFLiteModel.name``; defaults to the
            path, or "<memory>" for bytes.

    Returns:
        The decoded model.

    Raises:
        ModelError: one line naming the file, when the file is missing, a directory,
            unreadable or empty; is not a TFLite flatbuffer (file identifier is not
            "TFL3"); is truncated or corrupt; has a schema version other than 3; has zero
            or several subgraphs; references buffers, tensors or operator codes out of
            range; has a tensor of an unsupported type, sparse or with inconsistent
            shape, data size or quantization.
    """
    path: Path | None = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<memory>"
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or str(source)
        data = _read_file(path, label)
    else:
        raise TypeError(f"load_model expects a path or bytes, not {type(source).__name__}")

    if not data:
        raise ModelError(f"{label}: file is empty, expected a TFLite model")
    if len(data) < 8:
        raise ModelError(f"{label}: file is only {len(data)} bytes, too small to be a "
                         f"TFLite model")
    ident = data[4:8]
    if ident != FILE_IDENTIFIER:
        raise ModelError(f"{label}: not a TFLite model (file identifier at bytes 4..8 is "
                         f"{ident!r}, expected {FILE_IDENTIFIER!r})")

    try:
        _Verifier(data).root()
        return _decode(data, path, label)
    except ModelError:
        raise
    except _Corrupt as e:
        raise ModelError(_oneline(f"{label}: corrupt or truncated TFLite model: {e}")) from None
    except Exception as e:  # noqa: BLE001 - any runtime failure means a corrupt file
        detail = str(e)
        detail = detail if len(detail) <= 100 else detail[:97] + "..."
        raise ModelError(_oneline(
            f"{label}: corrupt or truncated TFLite model ({type(e).__name__}: {detail})")) from e


def _read_file(path: Path, label: str) -> bytes:
    is_dir = f"{label}: is a directory, expected a .tflite model file"
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise ModelError(is_dir) from None
    except (FileNotFoundError, NotADirectoryError):
        raise ModelError(f"{label}: no such file") from None
    except OSError as e:
        if path.is_dir():  # Windows reports directories as PermissionError
            raise ModelError(is_dir) from None
        raise ModelError(_oneline(
            f"{label}: cannot read file ({e.strerror or type(e).__name__})")) from None


def _list(values: Any) -> list:
    """A flatbuffers ``...AsNumpy()`` result (0 when the vector is absent) as a list."""
    if isinstance(values, np.ndarray):
        return values.tolist()
    return []


def _decode(data: bytes, path: Path | None, label: str) -> TFLiteModel:
    """Decode an already verified flatbuffer."""
    model = tflite.Model.GetRootAs(data, 0)
    if model.Version() != SCHEMA_VERSION:
        raise ModelError(f"{label}: TFLite schema version {model.Version()} is not "
                         f"supported (expected {SCHEMA_VERSION})")
    n_sub = model.SubgraphsLength()
    if n_sub < 1:
        raise ModelError(f"{label}: model has 0 subgraphs; expected a single-subgraph model")
    from .state import is_stateful, split_stateful
    if is_stateful(model):
        # Resource variables (CALL_ONCE initialiser, VAR_HANDLE, READ/ASSIGN_VARIABLE):
        # decode the stateless form, keep the original bytes for the reference runs.
        stateless, state = split_stateful(model, _decode_buffers(model, data, label), label)
        m = _decode(stateless, path, label)
        m.data, m.state = data, state if state.variables else None
        m.inputs, m.outputs = m.inputs[:state.num_inputs], m.outputs[:state.num_outputs]
        return m
    sg = model.Subgraphs(0)

    buffers = _decode_buffers(model, data, label)
    opcodes = _decode_opcodes(model, label)
    tensors = [_decode_tensor(sg.Tensors(i), i, buffers, label)
               for i in range(sg.TensorsLength())]
    n_t = len(tensors)

    def io_list(values: list[int], what: str) -> list[TensorInfo]:
        for k, t in enumerate(values):
            if not 0 <= t < n_t:
                raise ModelError(f"{label}: subgraph {what} {k} references tensor {t}, but "
                                 f"the model has {n_t} tensors")
        return [tensors[t] for t in values]

    inputs = io_list(_list(sg.InputsAsNumpy()), "input")
    outputs = io_list(_list(sg.OutputsAsNumpy()), "output")

    result = TFLiteModel(path=path, data=data, model=model, tensors=tensors, operators=[],
                         inputs=inputs, outputs=outputs, name=label,
                         description=_str(model.Description()), version=model.Version(),
                         _buffer_data=buffers)
    for i in range(sg.OperatorsLength()):
        result.operators.append(_decode_operator(sg.Operators(i), i, opcodes, result))
    return result


def _str(value: bytes | None) -> str:
    return value.decode("utf-8", errors="replace") if value else ""


def _decode_buffers(model: Any, data: bytes, label: str) -> list[bytes | memoryview]:
    """Contents of every buffer (empty when it holds no data)."""
    view = memoryview(data)
    out: list[bytes | memoryview] = []
    for b in range(model.BuffersLength()):
        buf = model.Buffers(b)
        offset, size = buf.Offset(), buf.Size()
        if offset > 1:
            # Models over 2 GB keep buffer data after the flatbuffer, addressed by offset.
            if offset + size > len(data):
                raise ModelError(f"{label}: buffer {b} data (bytes {offset}..{offset + size})"
                                 f" lies outside the {len(data)}-byte file (truncated?)")
            out.append(view[offset:offset + size])
        elif buf.DataLength():
            start = buf._tab.Vector(4)  # body of the verified `data` vector
            out.append(view[start:start + buf.DataLength()])
        else:
            out.append(b"")
    return out


def _decode_opcodes(model: Any, label: str) -> list[tuple[int, str | None, int]]:
    """(builtin code, custom code or None, version) per operator-code table entry."""
    out = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        # Codes > 127 live only in `builtin_code`; old files fill only the deprecated
        # int8 field. The real code is the larger of the two (TFLite's GetBuiltinCode).
        code = max(int(oc.DeprecatedBuiltinCode()), _raw_builtin_code(oc))
        custom = _str(oc.CustomCode()) if code == tflite.BuiltinOperator.CUSTOM else None
        out.append((code, custom, int(oc.Version())))
    return out


def _raw_builtin_code(oc: Any) -> int:
    """The stored ``builtin_code`` field (vtable offset 10), 0 when absent.

    Not ``OperatorCode.BuiltinCode()``: the tflite package patches that accessor to
    return the deprecated field whenever builtin_code < 127, which misreads files that
    set only ``builtin_code`` (e.g. 14 = LOGISTIC with the deprecated field left 0).
    """
    o = oc._tab.Offset(10)
    return int(oc._tab.Get(flatbuffers.number_types.Int32Flags, o + oc._tab.Pos)) if o else 0


def _decode_tensor(t: Any, index: int, buffers: list, label: str) -> TensorInfo:
    name = _str(t.Name())
    what = f"tensor {index} '{name}'"
    type_code = t.Type()
    if type_code not in _SUPPORTED_TYPES:
        tname = _TENSOR_TYPE_NAMES.get(type_code, f"unknown type code {type_code}")
        raise ModelError(_oneline(f"{label}: {what} has unsupported type {tname}"))
    dtype, itemsize = _SUPPORTED_TYPES[type_code]
    if t.Sparsity() is not None:
        raise ModelError(_oneline(f"{label}: {what} is sparse; sparse tensors are not "
                                  f"supported"))

    shape = tuple(int(d) for d in _list(t.ShapeAsNumpy()))
    if any(d < 0 for d in shape):
        raise ModelError(_oneline(f"{label}: {what} has invalid shape {list(shape)}"))
    sig_arr = t.ShapeSignatureAsNumpy()
    signature = (tuple(int(d) for d in sig_arr.tolist())
                 if isinstance(sig_arr, np.ndarray) else None)
    if signature is not None and (len(signature) != len(shape)
                                  or any(d < -1 for d in signature)):
        raise ModelError(_oneline(f"{label}: {what} has shape signature {list(signature)} "
                                  f"inconsistent with its shape {list(shape)}"))

    b = int(t.Buffer())
    if not 0 <= b < len(buffers):
        raise ModelError(_oneline(f"{label}: {what} references buffer {b}, but the model "
                                  f"has {len(buffers)} buffers"))
    nbytes = math.prod(shape) * itemsize
    is_variable = bool(t.IsVariable())
    has_data = len(buffers[b]) > 0
    if has_data and len(buffers[b]) != nbytes:
        raise ModelError(_oneline(
            f"{label}: {what} has shape {list(shape)} {dtype} ({nbytes} bytes) but its "
            f"buffer {b} holds {len(buffers[b])} bytes"))

    scale: list[float] = []
    zero_point: list[int] = []
    qdim = 0
    q = t.Quantization()
    if q is not None:
        scale = [float(s) for s in _list(q.ScaleAsNumpy())]
        zero_point = [int(z) for z in _list(q.ZeroPointAsNumpy())]
        qdim = int(q.QuantizedDimension())
        if scale and not zero_point:
            zero_point = [0] * len(scale)  # zero point omitted: symmetric
        if len(scale) != len(zero_point):
            raise ModelError(_oneline(
                f"{label}: {what} has {len(scale)} quantization scales but "
                f"{len(zero_point)} zero points"))
        if len(scale) > 1 and not (0 <= qdim < len(shape) and shape[qdim] == len(scale)):
            raise ModelError(_oneline(
                f"{label}: {what} has {len(scale)} per-channel scales along axis {qdim}, "
                f"which does not match its shape {list(shape)}"))
        # Zero is tolerated (all-zero weight channels); negative or NaN/inf is corrupt.
        if any(not math.isfinite(s) or s < 0 for s in scale):
            raise ModelError(_oneline(f"{label}: {what} has a negative or non-finite "
                                      f"quantization scale"))

    return TensorInfo(index=index, name=name, shape=shape, dtype=dtype, scale=scale,
                      zero_point=zero_point, quantized_dimension=qdim,
                      shape_signature=signature, is_constant=has_data and not is_variable,
                      nbytes=nbytes, buffer=b, is_variable=is_variable)


def _decode_operator(op: Any, index: int, opcodes: list, m: TFLiteModel) -> OperatorInfo:
    label, n_t = m.name, len(m.tensors)
    oi = int(op.OpcodeIndex())
    if not 0 <= oi < len(opcodes):
        raise ModelError(f"{label}: operator {index} references operator code {oi}, but "
                         f"the model has {len(opcodes)}")
    code, custom, version = opcodes[oi]
    if custom is not None:
        type_name = f"CUSTOM:{custom}"
    else:
        type_name = _BUILTIN_OP_NAMES.get(code, f"UNKNOWN_BUILTIN_{code}")

    inputs = [int(t) for t in _list(op.InputsAsNumpy())]
    outputs = [int(t) for t in _list(op.OutputsAsNumpy())]
    for kind, values, optional in (("input", inputs, True), ("output", outputs, False)):
        for k, t in enumerate(values):
            if not (0 <= t < n_t or (optional and t == -1)):
                raise ModelError(_oneline(
                    f"{label}: operator {index} ({type_name}) {kind} {k} references tensor "
                    f"{t}, but the model has {n_t} tensors"))

    if custom is not None:
        options: dict[str, Any] = {"custom_options_size": int(op.CustomOptionsLength())}
    else:
        options = _decode_options(op)
    _enrich_options(type_name, options, inputs, m)
    info = OperatorInfo(index=index, type=type_name, inputs=inputs, outputs=outputs,
                        options=options, macs=0, opcode=code, version=version,
                        custom_code=custom)
    info.macs = _compute_macs(info, m.tensors)
    return info


# -- builtin options ------------------------------------------------------------------------

_SKIP_METHODS = ("Init", "GetRootAs")


def _snake(name: str) -> str:
    """Schema accessor name to snake_case: "DilationWFactor" -> "dilation_w_factor"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _options_class(type_code: int, names: dict[int, str]) -> type | None:
    name = names.get(type_code)
    if not name or name == "NONE":
        return None
    try:
        return getattr(importlib.import_module(f"tflite.{name}"), name)
    except (ImportError, AttributeError):
        return None


def _decode_options(op: Any) -> dict[str, Any]:
    """All scalar / scalar-vector / string fields of the builtin options table(s)."""
    out: dict[str, Any] = {}
    for type_fn, table_fn, names in (("BuiltinOptionsType", "BuiltinOptions",
                                      _BUILTIN_OPTIONS_NAMES),
                                     ("BuiltinOptions2Type", "BuiltinOptions2",
                                      _BUILTIN_OPTIONS2_NAMES)):
        cls = _options_class(getattr(op, type_fn)(), names)
        table = getattr(op, table_fn)()
        if cls is None or table is None:
            continue
        obj = cls()
        obj.Init(table.Bytes, table.Pos)
        out.update(_read_fields(obj))
    for key in ("padding",):
        if key in out:
            out[key] = _PADDING_NAMES.get(out[key], out[key])
    if "fused_activation_function" in out:
        code = out.pop("fused_activation_function")
        out["activation"] = _ACTIVATION_NAMES.get(code, code)
    if "weights_format" in out:
        out["weights_format"] = _WEIGHTS_FORMAT_NAMES.get(out["weights_format"],
                                                          out["weights_format"])
    return out


def _read_fields(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, fn in vars(type(obj)).items():
        if not inspect.isfunction(fn) or attr.startswith(_SKIP_METHODS) or \
                attr.endswith(("IsNone", "Length", "BufferHasIdentifier")):
            continue
        if attr.endswith("AsNumpy"):
            out[_snake(attr[:-len("AsNumpy")])] = _list(fn(obj))
            continue
        if fn.__code__.co_argcount != 1:
            continue  # element getters X(j): covered by XAsNumpy
        value = fn(obj)
        if isinstance(value, bytes):
            value = _str(value)
        elif isinstance(value, np.generic):
            value = value.item()
        elif not isinstance(value, (bool, int, float, str)):
            continue  # nested tables / unions
        out[_snake(attr)] = value
    return out


_POOLS = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"}
_CONVS = {"CONV_2D", "DEPTHWISE_CONV_2D"}
_REDUCERS = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY",
             "REDUCE_ALL"}
_PADS = {"PAD", "PADV2", "MIRROR_PAD"}


def _const_operand(m: TFLiteModel, inputs: list[int], k: int) -> list | None:
    if k < len(inputs) and inputs[k] >= 0:
        arr = m.tensor_data(inputs[k])
        if arr is not None:
            return arr.tolist()
    return None


def _enrich_options(type_name: str, options: dict[str, Any], inputs: list[int],
                    m: TFLiteModel) -> None:
    """Add the derived keys documented on ``OperatorInfo.options``."""
    if "stride_h" in options and "stride_w" in options:
        options["strides"] = [options["stride_h"], options["stride_w"]]
    if "dilation_h_factor" in options and "dilation_w_factor" in options:
        options["dilation"] = [options["dilation_h_factor"], options["dilation_w_factor"]]
    if type_name in _POOLS and "filter_height" in options:
        options["filter_size"] = [options["filter_height"], options["filter_width"]]
    if type_name in _CONVS and len(inputs) > 1 and inputs[1] >= 0:
        w = m.tensors[inputs[1]].shape
        if len(w) == 4:
            options["filter_size"] = [w[1], w[2]]
    if type_name in _REDUCERS:
        axes = _const_operand(m, inputs, 1)
        if axes is not None:
            options["axis"] = axes if isinstance(axes, list) else [axes]
    if type_name == "RESHAPE" and not options.get("new_shape"):
        shape = _const_operand(m, inputs, 1)
        if shape is not None:
            options["new_shape"] = shape if isinstance(shape, list) else [shape]
    if type_name in _PADS:
        paddings = _const_operand(m, inputs, 1)
        if paddings is not None:
            options["paddings"] = paddings


# -- MACs -----------------------------------------------------------------------------------


def _compute_macs(op: OperatorInfo, tensors: list[TensorInfo]) -> int:
    """Multiply-accumulate operations of one inference of ``op``.

    * CONV_2D: output elements * KH * KW * Cin, filter ``[Cout, KH, KW, Cin]`` (Cin is the
      per-group input depth, so grouped convolutions are counted correctly).
    * DEPTHWISE_CONV_2D: output elements * KH * KW, filter ``[1, KH, KW, Cout]``.
    * FULLY_CONNECTED: output elements * in_depth, weights ``[units, in_depth]``.
    * TRANSPOSE_CONV: input elements * KH * KW * Cout, filter ``[Cout, KH, KW, Cin]``.
    * Everything else, including element-wise ADD/MUL, pools and reductions: 0. MACs
      here measure the dot-product work of weighted layers only, which dominates the
      run time of the models this compiler targets.

    Operators whose weight tensors do not have the expected rank count as 0 (the importer
    reports them).
    """
    def shape(k: int) -> tuple[int, ...] | None:
        if k < len(op.inputs) and op.inputs[k] >= 0:
            return tensors[op.inputs[k]].shape
        return None

    out_elems = tensors[op.outputs[0]].num_elements if op.outputs else 0
    w = shape(1)
    if op.type == "CONV_2D" and w is not None and len(w) == 4:
        return out_elems * w[1] * w[2] * w[3]
    if op.type == "DEPTHWISE_CONV_2D" and w is not None and len(w) == 4:
        return out_elems * w[1] * w[2]
    if op.type == "FULLY_CONNECTED" and w is not None and len(w) == 2:
        return out_elems * w[1]
    if op.type == "TRANSPOSE_CONV":
        w, x = shape(1), shape(2)
        if w is not None and x is not None and len(w) == 4:
            return math.prod(x) * w[0] * w[1] * w[2]
    return 0


# -----------------------------------------------------------------------------------------
# Text report
# -----------------------------------------------------------------------------------------


def _fmt_shape(t: TensorInfo) -> str:
    dims = t.shape_signature if t.is_dynamic else t.shape
    return "[" + ", ".join("?" if d < 0 else str(d) for d in (dims or ())) + "]"


def _table(rows: Iterable[Iterable[str]], right: set[int] = frozenset()) -> list[str]:
    rows = [list(r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def format_info(model: TFLiteModel) -> str:
    """Human-readable description of ``model`` (the output of ``byoc info``).

    Sections: header (name, size, precision), inputs and outputs with shape, dtype and
    quantization, the operator table (index, type, output shape, MACs), operator counts,
    total MACs, and warnings for dynamic shapes or float computation.
    """
    lines = [f"Model: {model.name}",
             f"  size {len(model.data):,} bytes, {len(model.tensors)} tensors, "
             f"{len(model.operators)} operators, constants "
             f"{sum(t.nbytes for t in model.tensors if t.is_constant):,} bytes",
             f"  precision: {model.precision()}"]
    if model.description:
        lines.append(f"  description: {_oneline(model.description)}")

    for title, ts in (("Inputs", model.inputs), ("Outputs", model.outputs)):
        lines.append(f"{title} ({len(ts)}):")
        if ts:
            lines += _table([[f"#{t.index}", t.name or "-", _fmt_shape(t), t.dtype,
                              t.describe_quantization()] for t in ts])

    if model.state is not None:
        st = model.state
        lines.append(f"State ({len(st.variables)} resource variables, {st.size:,} bytes; "
                     f"initialised by subgraph {st.init_subgraph}'s CALL_ONCE):")
        lines += _table([[str(k), v.name, f"[{', '.join(str(d) for d in v.shape)}]", v.dtype,
                          f"offset {v.offset}", f"{v.nbytes} bytes"]
                         for k, v in enumerate(st.variables)], right={0})
        lines.append("  (operators below: the stateless form, without CALL_ONCE/VAR_HANDLE/"
                     "READ_VARIABLE/ASSIGN_VARIABLE)")
    lines.append(f"Operators ({len(model.operators)}):")
    if model.operators:
        rows = [["idx", "type", "output", "MACs"]]
        for op in model.operators:
            out = _fmt_shape(model.tensors[op.outputs[0]]) if op.outputs else "-"
            rows.append([str(op.index), op.type, out, f"{op.macs:,}"])
        lines += _table(rows, right={0, 3})

    counts = model.operator_counts()
    if counts:
        lines.append("Operator counts:")
        macs_by_type: dict[str, int] = {}
        for op in model.operators:
            macs_by_type[op.type] = macs_by_type.get(op.type, 0) + op.macs
        lines += _table([[k, str(v), f"{macs_by_type[k]:,} MACs"]
                         for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
                        right={1, 2})
    lines.append(f"Total MACs: {model.total_macs():,}")

    dyn = model.dynamic_tensors()
    if dyn:
        lines.append(f"Warning: {len(dyn)} tensor(s) have dynamic shapes (e.g. tensor "
                     f"{dyn[0].index} '{dyn[0].name}' {_fmt_shape(dyn[0])}); only static "
                     f"shapes can be compiled")
    if model.is_float():
        lines.append("Warning: float model; only int8-quantized models can be compiled")
    return "\n".join(lines) + "\n"
