"""Stateful (streaming) TFLite models: resource variables become explicit state.

A streaming model as the TFLite converter writes it keeps its sliding windows in resource
variables: the main subgraph starts with a CALL_ONCE of an initialiser subgraph (VAR_HANDLE
+ ASSIGN_VARIABLE of constants), then reads each variable (VAR_HANDLE -> READ_VARIABLE),
computes, and writes the new values back (ASSIGN_VARIABLE). Variables are identified by
their VAR_HANDLE ``(container, shared_name)``, like TFLM's resource variables.

SVDF keeps its activation state in a TFLite *variable tensor* (input 4, ``is_variable``),
which TFLM updates in place on every invoke and resets to the zero point (int8) or 0.
Such a tensor becomes a state variable too (named after the tensor): the stateless model's
SVDF reads it from an extra input and gets a second output, the updated state (same
shape and quantization), which is the variable's next value. Any other operator with a
variable tensor input is refused.

``split_stateful`` rewrites such a model into a stateless single-subgraph model in which
every variable read is an extra subgraph input and every variable's final value an extra
subgraph output (the rest of the model is copied unchanged, operator order kept), plus a
``StateSpec`` with each variable's shape, quantization and initial value. The compiler
compiles the stateless model and connects those inputs and outputs to a caller-owned state
buffer (``byoc.aot``). Semantics kept: a READ_VARIABLE after an ASSIGN_VARIABLE of the same
variable sees the assigned value; the last ASSIGN_VARIABLE of a step is the next step's
value. Refused with a one-line ``ModelError``: control flow (IF, WHILE, CALL), an
initialiser that computes (anything but VAR_HANDLE and ASSIGN_VARIABLE of constants),
a variable read before any value is assigned, variables whose reads/assignments disagree in
shape or type.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
import tflite

from ..errors import ModelError, UnsupportedOperatorError
from .builder import ModelBuilder, Quant

#: Operators that exist only to handle state; none of them reaches the stateless model.
STATE_OPS = ("CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE")
#: Operators that run other subgraphs and are not compiled.
CONTROL_FLOW_OPS = ("IF", "WHILE", "CALL")
#: Alignment of each variable inside the state buffer (bytes).
STATE_ALIGNMENT = 16

_OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items()
             if not k.startswith("_") and isinstance(v, int)}
_OPTION_NAMES = {v: k for k, v in vars(tflite.BuiltinOptions).items()
                 if not k.startswith("_") and isinstance(v, int)}
_TYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.INT8: np.int8,
          tflite.TensorType.UINT8: np.uint8, tflite.TensorType.INT16: np.int16,
          tflite.TensorType.INT32: np.int32, tflite.TensorType.INT64: np.int64,
          tflite.TensorType.BOOL: np.bool_}


@dataclass
class StateVariable:
    """One resource variable: ``shape``/``dtype``/quantization of its value, its place in
    the state buffer (``offset`` bytes, 16-byte aligned) and its initial value."""

    name: str                       # shared_name (container/shared_name if a container)
    shape: tuple[int, ...]
    dtype: str
    scale: list[float]
    zero_point: list[int]
    initial: np.ndarray
    offset: int = 0

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass
class StateSpec:
    """The state of a rewritten model. ``reads[k]`` is the variable (index into
    ``variables``) of the stateless model's extra input k (after the model's own inputs),
    ``writes[k]`` that of its extra output k (after the model's own outputs)."""

    variables: list[StateVariable]
    reads: list[int] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)
    num_inputs: int = 0             # the model's own inputs and outputs
    num_outputs: int = 0
    init_subgraph: int | None = None

    @property
    def size(self) -> int:
        """Bytes of the state buffer (each variable aligned to ``STATE_ALIGNMENT``)."""
        end = 0
        for v in self.variables:
            end = max(end, v.offset + v.nbytes)
        return -(-end // STATE_ALIGNMENT) * STATE_ALIGNMENT

    def to_json(self) -> dict:
        return {"bytes": self.size, "alignment": STATE_ALIGNMENT, "variables": [
            {"name": v.name, "shape": list(v.shape), "dtype": v.dtype, "offset": v.offset,
             "bytes": v.nbytes, "scale": v.scale, "zero_point": v.zero_point}
            for v in self.variables]}


def _builtin_code(model: Any, op: Any) -> int:
    """The operator's builtin code (the larger of the two opcode fields, as TFLite reads
    it; see ``byoc.tflite.reader._raw_builtin_code``)."""
    oc = model.OperatorCodes(op.OpcodeIndex())
    o = oc._tab.Offset(10)
    raw = int(oc._tab.Get(flatbuffers.number_types.Int32Flags, o + oc._tab.Pos)) if o else 0
    return max(int(oc.DeprecatedBuiltinCode()), raw)


def is_stateful(model: Any) -> bool:
    """True for a model with several subgraphs, any state operator in subgraph 0 or a
    variable tensor (an operator's persistent state, e.g. SVDF's) in subgraph 0."""
    if model.SubgraphsLength() != 1:
        return True
    sg = model.Subgraphs(0)
    if any(sg.Tensors(t).IsVariable() for t in range(sg.TensorsLength())):
        return True
    n_codes = model.OperatorCodesLength()
    # (an operator code index out of range is reported by the reader's own checks)
    return any(0 <= sg.Operators(i).OpcodeIndex() < n_codes and
               _OP_NAMES.get(_builtin_code(model, sg.Operators(i))) in STATE_OPS
               for i in range(sg.OperatorsLength()))


def _options(op: Any) -> tuple[str | None, dict[str, Any]]:
    """The builtin options table of ``op`` as (table name, {Field: value}) for
    ``ModelBuilder.add_operator`` (scalars, strings and int vectors)."""
    name = _OPTION_NAMES.get(op.BuiltinOptionsType())
    table = op.BuiltinOptions()
    if not name or name == "NONE" or table is None:
        return None, {}
    mod = importlib.import_module(f"tflite.{name}")
    obj = getattr(mod, name)()
    obj.Init(table.Bytes, table.Pos)
    prefix = f"{name}Add"
    values: dict[str, Any] = {}
    for attr in dir(mod):
        if not attr.startswith(prefix):
            continue
        fieldname = attr[len(prefix):]
        if hasattr(obj, f"{fieldname}AsNumpy"):
            arr = getattr(obj, f"{fieldname}AsNumpy")()
            values[fieldname] = [int(v) for v in arr] if isinstance(arr, np.ndarray) else []
        elif hasattr(obj, fieldname):
            value = getattr(obj, fieldname)()
            if value is None:         # an absent string
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            elif isinstance(value, np.generic):
                value = value.item()
            elif not isinstance(value, (bool, int, float, str)):
                raise ModelError(f"options table {name} field {fieldname} cannot be copied")
            values[fieldname] = value
    return name, values


def _var_key(op: Any) -> str:
    name, opts = _options(op)
    container, shared = opts.get("Container", ""), opts.get("SharedName", "")
    return f"{container}/{shared}" if container else shared


class _Rewriter:
    """Copies subgraph 0 of ``model`` into a ModelBuilder, replacing the state ops."""

    def __init__(self, model: Any, buffers: list, label: str):
        self.model, self.buffers, self.label = model, buffers, label
        self.mb = ModelBuilder(description=(model.Description() or b"").decode("utf-8", "replace"))
        self.tensor_map: dict[int, int] = {}

    def tensor(self, sg: Any, t: int) -> int:
        if t < 0:
            return t
        if t in self.tensor_map:
            return self.tensor_map[t]
        info = sg.Tensors(t)
        dtype = _TYPES.get(info.Type())
        name = (info.Name() or b"").decode("utf-8", "replace")
        if dtype is None:
            raise ModelError(f"{self.label}: tensor {t} '{name}' has a type byoc cannot compile")
        shape = [int(d) for d in info.ShapeAsNumpy()] if info.ShapeLength() else []
        sig = ([int(d) for d in info.ShapeSignatureAsNumpy()]
               if info.ShapeSignatureLength() else None)
        data = self.buffers[info.Buffer()] if info.Buffer() < len(self.buffers) else b""
        arr = np.frombuffer(bytes(data), dtype).reshape(shape) if len(data) else None
        quant = None
        q = info.Quantization()
        if q is not None and q.ScaleLength():
            zps = [int(z) for z in q.ZeroPointAsNumpy()] if q.ZeroPointLength() \
                else [0] * q.ScaleLength()
            quant = Quant([float(s) for s in q.ScaleAsNumpy()], zps, int(q.QuantizedDimension()))
        self.tensor_map[t] = self.mb.add_tensor(name, shape, dtype, arr, quant, sig)
        return self.tensor_map[t]


def _initial_values(model: Any, index: int, buffers: list, label: str) -> dict[str, tuple]:
    """{variable: (value array, scale, zero_point)} assigned by initialiser subgraph
    ``index``, which may only hold VAR_HANDLE and ASSIGN_VARIABLE of constants."""
    if not 0 < index < model.SubgraphsLength():
        raise ModelError(f"{label}: CALL_ONCE runs subgraph {index}, which does not exist")
    sg = model.Subgraphs(index)
    handles: dict[int, str] = {}
    values: dict[str, tuple] = {}
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        name = _OP_NAMES.get(_builtin_code(model, op), "?")
        if name == "VAR_HANDLE":
            handles[int(op.Outputs(0))] = _var_key(op)
        elif name == "ASSIGN_VARIABLE":
            h, v = int(op.Inputs(0)), int(op.Inputs(1))
            t = sg.Tensors(v)
            data = buffers[t.Buffer()] if t.Buffer() < len(buffers) else b""
            dtype = _TYPES.get(t.Type())
            if h not in handles or not len(data) or dtype is None:
                raise UnsupportedOperatorError(
                    f"{label}: subgraph {index} operator {i} (ASSIGN_VARIABLE) assigns a value "
                    "that is not a constant; only constant initialisers are supported")
            shape = [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []
            q = t.Quantization()
            scale = [float(s) for s in q.ScaleAsNumpy()] if q is not None and q.ScaleLength() else []
            zps = [int(z) for z in q.ZeroPointAsNumpy()] if q is not None and q.ZeroPointLength() \
                else [0] * len(scale)
            values[handles[h]] = (np.frombuffer(bytes(data), dtype).reshape(shape).copy(),
                                  scale, zps)
        else:
            raise UnsupportedOperatorError(
                f"{label}: subgraph {index} operator {i} ({name}): the initialiser subgraph "
                "of a CALL_ONCE may only hold VAR_HANDLE and ASSIGN_VARIABLE of constants")
    return values


def _variable_tensor_input(sg: Any, index: int, name: str, ins: list[int],
                           label: str) -> int | None:
    """The activation state input of an SVDF (a variable tensor), None for an operator
    without variable tensor inputs; any other use of a variable tensor is refused."""
    variable = [k for k, t in enumerate(ins) if t >= 0 and sg.Tensors(t).IsVariable()]
    if not variable:
        return None
    if name == "SVDF" and variable == [4] and len(ins) == 5:
        return ins[4]
    tname = (sg.Tensors(ins[variable[0]]).Name() or b"").decode("utf-8", "replace")
    raise UnsupportedOperatorError(
        f"{label}: operator {index} ({name}) takes the variable tensor '{tname}' (input "
        f"{variable[0]}, persistent state); byoc keeps variable tensors only as the "
        "activation state of SVDF (input 4)")


def _tensor_variable(spec: StateSpec, var_index: dict, sg: Any, t: int, op_index: int,
                     label: str) -> str:
    """Register variable tensor ``t`` as a state variable (initial value: the zero point
    for int8, 0 otherwise, as TFLM resets variable tensors); its key."""
    info = sg.Tensors(t)
    key = "tensor:" + (info.Name() or f"t{t}".encode()).decode("utf-8", "replace")
    if key in var_index:
        raise UnsupportedOperatorError(
            f"{label}: operator {op_index} (SVDF) uses the variable tensor '{key[7:]}' that an "
            "earlier operator uses too; each SVDF needs its own state tensor")
    dtype = _TYPES.get(info.Type())
    if dtype not in (np.int8, np.int16, np.float32):
        raise ModelError(f"{label}: operator {op_index} (SVDF) has a state tensor of a type "
                         "byoc cannot compile")
    shape = tuple(int(d) for d in info.ShapeAsNumpy()) if info.ShapeLength() else ()
    q = info.Quantization()
    scale = [float(s) for s in q.ScaleAsNumpy()] if q is not None and q.ScaleLength() else []
    zps = [int(z) for z in q.ZeroPointAsNumpy()] if q is not None and q.ZeroPointLength() \
        else [0] * len(scale)
    fill = zps[0] if dtype == np.int8 and zps else 0
    var_index[key] = len(spec.variables)
    spec.variables.append(StateVariable(key[7:], shape, np.dtype(dtype).name, scale, zps,
                                        np.full(shape, fill, dtype)))
    return key


def split_stateful(model: Any, buffers: list, label: str) -> tuple[bytes, StateSpec]:
    """The stateless single-subgraph form of a stateful ``model`` (a ``tflite.Model``;
    ``buffers`` its buffer contents) and its ``StateSpec``; see the module docstring."""
    sg = model.Subgraphs(0)
    rw = _Rewriter(model, buffers, label)
    mb = rw.mb
    spec = StateSpec([])
    var_index: dict[str, int] = {}
    initial: dict[str, tuple] = {}
    handles: dict[int, str] = {}        # resource tensor -> variable
    current: dict[str, int] = {}        # variable -> builder tensor of its current value
    read_inputs: list[int] = []
    subst: dict[int, int] = {}          # READ_VARIABLE output -> builder tensor

    def variable(key: str, t: Any, op_index: int, what: str) -> int:
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        dtype = np.dtype(_TYPES.get(t.Type(), np.float64)).name
        if key not in var_index:
            if key not in initial:
                raise ModelError(f"{label}: operator {op_index} ({what}) uses variable '{key}', "
                                 "which no CALL_ONCE initialiser assigns")
            value, scale, zps = initial[key]
            if tuple(value.shape) != shape or value.dtype.name != dtype:
                raise ModelError(f"{label}: variable '{key}' is initialised as {value.dtype.name}"
                                 f" {list(value.shape)} but operator {op_index} ({what}) uses "
                                 f"{dtype} {list(shape)}")
            var_index[key] = len(spec.variables)
            spec.variables.append(StateVariable(key, shape, dtype, scale, zps, value))
        v = spec.variables[var_index[key]]
        if v.shape != shape or v.dtype != dtype:
            raise ModelError(f"{label}: operator {op_index} ({what}) uses variable '{key}' as "
                             f"{dtype} {list(shape)}, elsewhere {v.dtype} {list(v.shape)}")
        return var_index[key]

    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code = _builtin_code(model, op)
        name = _OP_NAMES.get(code, f"UNKNOWN_BUILTIN_{code}")
        ins = [int(t) for t in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else []
        state_in = _variable_tensor_input(sg, i, name, ins, label)
        if state_in is not None:
            key, read, current[key] = _copy_svdf(rw, sg, op, code, ins, spec, var_index, i,
                                                 label)
            read_inputs.append(read)
            continue
        if name in CONTROL_FLOW_OPS:
            raise UnsupportedOperatorError(
                f"{label}: operator {i} ({name}) runs another subgraph; control flow is not "
                "supported (only CALL_ONCE initialisers of resource variables)")
        if name == "CALL_ONCE":
            if spec.init_subgraph is not None:
                raise UnsupportedOperatorError(f"{label}: operator {i} (CALL_ONCE) is the second "
                                               "CALL_ONCE; only one initialiser is supported")
            _, opts = _options(op)
            spec.init_subgraph = int(opts.get("InitSubgraphIndex", 0))
            initial.update(_initial_values(model, spec.init_subgraph, buffers, label))
        elif name == "VAR_HANDLE":
            handles[outs[0]] = _var_key(op)
        elif name == "READ_VARIABLE":
            key = handles.get(ins[0])
            if key is None:
                raise ModelError(f"{label}: operator {i} (READ_VARIABLE) reads a resource no "
                                 "VAR_HANDLE created")
            k = variable(key, sg.Tensors(outs[0]), i, name)
            if key not in current:
                current[key] = rw.tensor(sg, outs[0])
                read_inputs.append(current[key])
                spec.reads.append(k)
            subst[outs[0]] = current[key]
        elif name == "ASSIGN_VARIABLE":
            key = handles.get(ins[0])
            if key is None:
                raise ModelError(f"{label}: operator {i} (ASSIGN_VARIABLE) writes a resource "
                                 "no VAR_HANDLE created")
            variable(key, sg.Tensors(ins[1]), i, name)
            current[key] = subst.get(ins[1]) if ins[1] in subst else rw.tensor(sg, ins[1])
        else:
            if any(t in subst for t in outs):
                raise ModelError(f"{label}: operator {i} ({name}) overwrites a variable's value")
            _copy_operator(rw, sg, op, code, [subst[t] if t in subst else rw.tensor(sg, t)
                                              for t in ins])
    _check_other_subgraphs(model, spec.init_subgraph, label)
    model_ins = [int(t) for t in sg.InputsAsNumpy()] if sg.InputsLength() else []
    model_outs = [int(t) for t in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
    spec.num_inputs, spec.num_outputs = len(model_ins), len(model_outs)
    # a variable whose value at the end of the step is still the one read is not written
    key_of = {k: key for key, k in var_index.items()}
    read_tensor = {key_of[k]: t for k, t in zip(spec.reads, read_inputs)}
    writes = [(var_index[k], t) for k, t in current.items() if read_tensor.get(k) != t]
    spec.writes = [k for k, _ in writes]
    mb.set_io([rw.tensor(sg, t) for t in model_ins] + read_inputs,
              [subst[t] if t in subst else rw.tensor(sg, t) for t in model_outs]
              + [t for _, t in writes])
    offset = 0                          # the state buffer: variables in order, each aligned
    for v in spec.variables:
        v.offset = offset
        offset += -(-v.nbytes // STATE_ALIGNMENT) * STATE_ALIGNMENT
    return mb.build(), spec


def _copy_svdf(rw: _Rewriter, sg: Any, op: Any, code: int, ins: list[int], spec: StateSpec,
               var_index: dict, index: int, label: str) -> tuple[str, int, int]:
    """Copy SVDF operator ``index`` with its state tensor (input 4) as a new state variable
    read from an extra input and the updated state as a second output; (variable key,
    builder tensor of the read, builder tensor of the updated state)."""
    key = _tensor_variable(spec, var_index, sg, ins[4], index, label)
    read = rw.tensor(sg, ins[4])
    spec.reads.append(var_index[key])
    v = spec.variables[var_index[key]]
    updated = rw.mb.add_tensor(f"{v.name}/updated", v.shape, v.dtype, None,
                               rw.mb.tensors[read].quant)
    opts_name, opts = _options(op)
    outs = [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else []
    rw.mb.add_operator(code, [rw.tensor(sg, t) for t in ins[:4]] + [read],
                       [rw.tensor(sg, t) for t in outs] + [updated], opts_name, opts)
    return key, read, updated


def _copy_operator(rw: _Rewriter, sg: Any, op: Any, code: int, inputs: list[int]) -> None:
    """Copy one (stateless) operator of subgraph ``sg`` into the builder, its inputs
    already mapped to builder tensors (``inputs``)."""
    opts_name, opts = _options(op)
    outs = [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else []
    custom = code == tflite.BuiltinOperator.CUSTOM
    rw.mb.add_operator(code, inputs, [rw.tensor(sg, t) for t in outs], opts_name, opts,
                       custom_code=(rw.model.OperatorCodes(op.OpcodeIndex()).CustomCode()
                                    or b"").decode() if custom else None,
                       custom_options=bytes(op.CustomOptionsAsNumpy())
                       if op.CustomOptionsLength() else None)


def _check_other_subgraphs(model: Any, init_subgraph: "int | None", label: str) -> None:
    """Refuse subgraphs besides the main one and the CALL_ONCE initialiser."""
    inits = {init_subgraph} if init_subgraph is not None else set()
    others = sorted(set(range(1, model.SubgraphsLength())) - inits)
    if others:
        raise UnsupportedOperatorError(
            f"{label}: model has {model.SubgraphsLength()} subgraphs; only single-subgraph "
            "models are supported, or stateful models whose other subgraph is the CALL_ONCE "
            f"initialiser of their variables (subgraph {others[0]} is not)")
