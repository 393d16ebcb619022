"""Rewrite TFLite models at tensor boundaries (for mismatch localisation).

Everything here works on the model *file* (``TFLiteModel.data``) and its main subgraph's
own tensor and operator numbering, which is also TFLM's. (For a stateful model byoc's
``TFLiteModel`` describes the stateless rewrite, numbered differently: ``file_graph``
gives the file's view.)

* ``file_graph(data)``: the main subgraph's operators and tensors as the file numbers them.
* ``with_outputs(data, tensors)``: the same model with more subgraph outputs, so that a
  compiled package also returns intermediate tensors (every operator's computation is
  unchanged; only what the run function hands back grows).
* ``single_operator(data, index)``: a one-operator model computing operator ``index``
  with its original options and constants; its inputs are the operator's non-constant
  operands, its outputs the operator's outputs. Used as a minimal reproducer.

The flatbuffer is copied through the object API of the TFLite schema that ships with
``tflite-micro`` (``ModelT``), so builtin and custom options survive untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import flatbuffers
import tflite

from ..errors import ModelError, ToolError
from .reader import FILE_IDENTIFIER

#: Operators of the resource-variable machinery of stateful models: their outputs are
#: handles or state, not data a package could hand back.
STATE_OPERATORS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")
_DATA_TYPES = ("int8", "uint8", "int16", "int32", "float32")
_OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
_TYPE_NAMES = {v: k.lower() for k, v in vars(tflite.TensorType).items()
               if not k.startswith("_") and isinstance(v, int)}


@dataclass
class FileTensor:
    """A tensor of the file's main subgraph (``dtype``: numpy name, or e.g. "resource")."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    is_constant: bool


@dataclass
class FileOperator:
    """An operator of the file's main subgraph (``type``: builtin name or CUSTOM:<code>)."""

    index: int
    type: str
    inputs: list[int]
    outputs: list[int]


def _schema() -> Any:
    try:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
    except ImportError as exc:  # pragma: no cover - part of the test extras
        raise ToolError("tflite-micro is not installed (run `make setup`); it provides the "
                        "TFLite schema object API used to rewrite models") from exc
    return fb


def _unpack(data: bytes) -> Any:
    fb = _schema()
    return fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))


def _pack(obj: Any) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(obj.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _has_data(obj: Any, buffer: int) -> bool:
    data = obj.buffers[buffer].data if 0 < buffer < len(obj.buffers) else None
    return data is not None and len(data) > 0


def file_graph(data: bytes) -> tuple[list[FileOperator], list[FileTensor]]:
    """The main subgraph's operators (execution order) and tensors, file numbering."""
    obj = _unpack(data)
    sg = obj.subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tensors):
        name = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or "")
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        tensors.append(FileTensor(i, name, shape, _TYPE_NAMES.get(t.type, str(t.type)),
                                  _has_data(obj, t.buffer)))
    ops = []
    for i, op in enumerate(sg.operators):
        code = obj.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        kind = _OP_NAMES.get(builtin, str(builtin))
        if kind == "CUSTOM":
            custom = code.customCode
            kind = f"CUSTOM:{custom.decode() if isinstance(custom, bytes) else custom}"
        ops.append(FileOperator(i, kind, [int(x) for x in op.inputs],
                                [int(x) for x in op.outputs]))
    return ops, tensors


def operator_outputs(data: bytes) -> list[int]:
    """Every data tensor an operator of the main subgraph writes, in execution order, each
    once (model outputs included; state-variable operators left out)."""
    ops, tensors = file_graph(data)
    seen: list[int] = []
    for op in ops:
        if op.type in STATE_OPERATORS:
            continue
        for t in op.outputs:
            if t >= 0 and t not in seen and tensors[t].dtype in _DATA_TYPES:
                seen.append(t)
    return seen


def with_outputs(data: bytes, tensors: Sequence[int]) -> tuple[bytes, list[int]]:
    """The model whose main subgraph outputs are its own outputs followed by ``tensors``
    (those not already outputs, in the given order); returns the bytes and the new output
    list (file tensor indices)."""
    obj = _unpack(data)
    sg = obj.subgraphs[0]
    outputs = [int(t) for t in sg.outputs]
    for t in tensors:
        if not 0 <= t < len(sg.tensors):
            raise ModelError(f"tensor {t} does not exist ({len(sg.tensors)} tensors)")
        if t not in outputs:
            outputs.append(int(t))
    sg.outputs = outputs
    return _pack(obj), outputs


def single_operator(data: bytes, index: int, label: str = "model") -> bytes:
    """Operator ``index`` of the main subgraph alone: its constant operands keep their
    data, its other operands become the subgraph inputs (in operand order, each once), its
    outputs the subgraph outputs. Tensors are renumbered; opcodes and buffers are reduced
    to the ones used; other subgraphs, signatures and metadata are dropped."""
    fb = _schema()
    obj = _unpack(data)
    sg = obj.subgraphs[0]
    if not 0 <= index < len(sg.operators):
        raise ModelError(f"{label}: operator {index} does not exist "
                         f"({len(sg.operators)} operators)")
    op = sg.operators[index]
    extra = list(op.intermediates) if op.intermediates is not None else []
    order = list(dict.fromkeys(int(t) for t in [*op.inputs, *op.outputs, *extra] if t >= 0))
    renumber = {old: new for new, old in enumerate(order)}
    buffers = [fb.BufferT()]               # buffer 0: the empty sentinel
    tensors = []
    for old in order:
        t = sg.tensors[old]
        if _has_data(obj, t.buffer):
            buffers.append(obj.buffers[t.buffer])
            t.buffer = len(buffers) - 1
        else:
            t.buffer = 0
        tensors.append(t)
    inputs = list(dict.fromkeys(renumber[int(t)] for t in op.inputs
                                if t >= 0 and tensors[renumber[int(t)]].buffer == 0))
    opcode = obj.operatorCodes[op.opcodeIndex]

    def remap(values) -> list[int]:
        return [renumber[int(t)] if t >= 0 else -1 for t in values]

    op.opcodeIndex = 0
    op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
    if op.intermediates is not None:
        op.intermediates = remap(op.intermediates)
    sg.tensors, sg.operators = tensors, [op]
    sg.inputs, sg.outputs = inputs, list(op.outputs)
    obj.operatorCodes, obj.buffers, obj.subgraphs = [opcode], buffers, [sg]
    obj.signatureDefs, obj.metadata, obj.metadataBuffer = None, None, None
    obj.description = f"byoc reproducer: operator {index} of {label}".encode()
    return _pack(obj)


__all__ = ["FileOperator", "FileTensor", "file_graph", "operator_outputs", "single_operator",
           "with_outputs"]
