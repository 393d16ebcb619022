"""Rewrite TFLite models at tensor boundaries (for mismatch localisation).

* ``with_outputs(model, tensors)``: the same graph with more subgraph outputs, so that a
  compiled package also returns intermediate tensors (every operator's computation is
  unchanged; only what the run function hands back grows).
* ``single_operator(model, index)``: a one-operator model computing operator ``index`` of
  ``model`` with its original options and constants; its inputs are the operator's
  non-constant operands, its outputs the operator's outputs. Used as a minimal reproducer.

Both copy the flatbuffer through the object API of the TFLite schema that ships with
``tflite-micro`` (``ModelT``), so builtin and custom options survive untouched.
"""

from __future__ import annotations

from typing import Any, Sequence

import flatbuffers

from ..errors import ModelError, ToolError
from .reader import FILE_IDENTIFIER, TFLiteModel, load_model


def _schema() -> Any:
    try:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
    except ImportError as exc:  # pragma: no cover - part of the test extras
        raise ToolError("tflite-micro is not installed (run `make setup`); it provides the "
                        "TFLite schema object API used to rewrite models") from exc
    return fb


def _unpack(model: TFLiteModel) -> Any:
    fb = _schema()
    return fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model.data, 0))


def _pack(obj: Any, name: str) -> TFLiteModel:
    builder = flatbuffers.Builder(1024)
    builder.Finish(obj.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return load_model(bytes(builder.Output()), name=name)


#: Operators of the resource-variable machinery of stateful models: their outputs are
#: handles or state, not data a package could hand back.
STATE_OPERATORS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")
_DATA_TYPES = ("int8", "uint8", "int16", "int32", "float32")


def operator_outputs(model: TFLiteModel) -> list[int]:
    """Every data tensor an operator of the main subgraph writes, in execution order, each
    once (model outputs included; state-variable operators left out)."""
    seen: list[int] = []
    for op in model.operators:
        if op.type in STATE_OPERATORS:
            continue
        for t in op.outputs:
            if t >= 0 and t not in seen and model.tensors[t].dtype in _DATA_TYPES:
                seen.append(t)
    return seen


def with_outputs(model: TFLiteModel, tensors: Sequence[int]) -> TFLiteModel:
    """``model`` whose subgraph outputs are its own outputs followed by ``tensors`` (those
    not already outputs, in the given order)."""
    obj = _unpack(model)
    sg = obj.subgraphs[0]
    outputs = [int(t) for t in sg.outputs]
    for t in tensors:
        if not 0 <= t < len(model.tensors):
            raise ModelError(f"{model.name}: tensor {t} does not exist "
                             f"({len(model.tensors)} tensors)")
        if t not in outputs:
            outputs.append(int(t))
    sg.outputs = outputs
    return _pack(obj, f"{model.name} (intermediate tensors as outputs)")


def single_operator(model: TFLiteModel, index: int) -> TFLiteModel:
    """Operator ``index`` of ``model`` alone: its constant operands keep their data, its
    other operands become the subgraph inputs (in operand order), its outputs the
    subgraph outputs. Tensors are renumbered; opcodes and buffers are reduced to the
    ones used."""
    if not 0 <= index < len(model.operators):
        raise ModelError(f"{model.name}: operator {index} does not exist "
                         f"({len(model.operators)} operators)")
    fb = _schema()
    obj = _unpack(model)
    sg = obj.subgraphs[0]
    op = sg.operators[index]
    used = [int(t) for t in list(op.inputs) + list(op.outputs)
            + list(op.intermediates if op.intermediates is not None else []) if t >= 0]
    order: list[int] = []
    for t in used:
        if t not in order:
            order.append(t)
    renumber = {old: new for new, old in enumerate(order)}
    buffers = [fb.BufferT()]               # buffer 0: the empty sentinel
    tensors = []
    for old in order:
        t = sg.tensors[old]
        if t.buffer and model.tensors[old].is_constant:
            buffers.append(obj.buffers[t.buffer])
            t.buffer = len(buffers) - 1
        else:
            t.buffer = 0
        tensors.append(t)
    opcode = obj.operatorCodes[op.opcodeIndex]
    op.opcodeIndex = 0

    def remap(values) -> list[int]:
        return [renumber[int(t)] if t >= 0 else -1 for t in values]

    inputs = []
    for t in op.inputs:
        if t >= 0 and not model.tensors[int(t)].is_constant and renumber[int(t)] not in inputs:
            inputs.append(renumber[int(t)])
    op.inputs = remap(op.inputs)
    op.outputs = remap(op.outputs)
    if op.intermediates is not None:
        op.intermediates = remap(op.intermediates)
    sg.tensors, sg.operators = tensors, [op]
    sg.inputs, sg.outputs = inputs, list(op.outputs)
    obj.operatorCodes, obj.buffers = [opcode], buffers
    obj.subgraphs = [sg]
    obj.signatureDefs, obj.metadata, obj.metadataBuffer = None, None, None
    obj.description = f"byoc reproducer: operator {index} of {model.name}".encode()
    return _pack(obj, f"operator {index} ({model.operators[index].type}) of {model.name}")


__all__ = ["operator_outputs", "single_operator", "with_outputs"]
