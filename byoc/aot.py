"""AOT assembly: one ``<prefix>_run`` function that calls every operator in order.

Input: the lowered Relax ``main`` (a sequence of ``call_tir`` bindings, ``call_dps_packed``
calls of external partitions such as the CMSIS-NN ones, plus view operators such as
reshape) and the C functions the codegens produced for each callee (PrimFunc name or
external symbol). Output: an
``AOTProgram`` - the call sequence, the constants, the model IO and the static arena plan -
and the C source of the entry point.

Storage rules:
* Model inputs are read in place from the caller's buffers; model outputs are written in
  place into the caller's buffers (the producing operator writes there directly).
* View operators (reshape, squeeze...) alias their input: no copy, no code.
* Every other intermediate tensor, and every kernel scratch area, is placed in the arena by
  ``memory_plan.plan_arena`` according to its lifetime.
* An output that is also a model input, a constant or another output is copied at the end.
* State (a stateful model's resource variables, ``byoc.tflite.state``) lives in the caller's
  state buffer: the operators read a variable in place; its new value is written in place
  by the producing operator when every read of the old value comes before it, otherwise it
  is copied into the state buffer at the end of the run (after the model outputs).
* A C function may declare that an IO parameter can live inside its own scratch area, at
  an offset (``CParam.scratch_offset``; the Ethos-U backend's region functions do, at Vela's
  offsets). Such an arena IO tensor is placed there when it can: that scratch area is then
  planned as a whole during its call and as those tensors' bytes while they are alive
  (``Buffer.pieces``), and the function finds its IO in place instead of copying it. Nothing
  here knows which backend emitted a function.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import tvm
from tvm import relax

from . import fault_injection
from .codegen.tir_to_c import CFunction, c_type
from .naming import c_comment
from .errors import ByocError
from .generic import VIEW_OPS
from .memory_plan import ALIGNMENT, ArenaPlan, Buffer, align, plan_arena


@dataclass
class IOTensor:
    """A model input or output as the generated header describes it."""

    c_name: str                 # sanitised C identifier (struct member)
    tflite_name: str            # name in the .tflite file
    shape: tuple[int, ...]
    dtype: str
    scale: list[float] = field(default_factory=list)
    zero_point: list[int] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass
class Storage:
    """Where a tensor lives: 'input'/'output' (index into IO), 'arena' (buffer), 'const'."""

    kind: str
    name: str
    dtype: str
    nbytes: int
    index: int = -1
    const_value: np.ndarray | None = None
    qualifier: str = "BYOC_CONST"      # the C macro declaring a constant (section, alignment)
    offset: int = 0                    # 'state': byte offset in the state buffer


@dataclass
class OpCall:
    index: int
    func: CFunction
    args: list[Storage]               # inputs then outputs, in the function's order
    scratch: Buffer | None = None
    label: str = ""


@dataclass
class Copy:
    dst: Storage
    src: Storage


@dataclass
class AOTProgram:
    prefix: str
    inputs: list[IOTensor]
    outputs: list[IOTensor]
    calls: list[OpCall]
    copies: list[Copy]
    constants: list[Storage]
    plan: ArenaPlan
    functions: list[CFunction]
    state: Any = None                  # byoc.tflite.state.StateSpec of a stateful model
    state_copies: list[Copy] = field(default_factory=list)   # end-of-run state updates

    @property
    def constant_bytes(self) -> int:
        return sum(c.nbytes for c in self.constants)

    @property
    def state_bytes(self) -> int:
        """Bytes of the caller's state buffer (0 for a stateless model)."""
        return self.state.size if self.state is not None else 0


def _tensor_type(ty) -> tuple[tuple[int, ...], str]:
    if not isinstance(ty, relax.TensorType) or ty.shape is None:
        raise ByocError(f"AOT: expected a statically shaped tensor, got {ty}")
    try:
        shape = tuple(int(d) for d in ty.shape.values)
    except (TypeError, AttributeError) as exc:
        raise ByocError(f"AOT: dynamic shape {ty.shape} is not supported") from exc
    return shape, str(ty.dtype)


def _nbytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


class _Bindings:
    """The walk over ``main``'s bindings: where every value lives, the operator calls in
    order, the arena tensors with their last use, the constants, and the last call reading
    each state variable's old value."""

    def __init__(self, functions: dict[str, CFunction], labels: dict[str, str], prefix: str):
        self.functions, self.labels, self.prefix = functions, labels, prefix
        self.storage: dict[int, Storage] = {}        # relax var -> storage root
        self.consts: dict[int, Storage] = {}
        self.calls: list[OpCall] = []
        self.arena_tensors: dict[str, Buffer] = {}
        self.uses: dict[str, int] = {}
        self.last_read: dict[int, int] = {}           # variable -> last call reading it
        self.call_tir = tvm.ir.Op.get("relax.call_tir")
        self.call_dps = tvm.ir.Op.get("relax.call_dps_packed")
        self.view_ops = {tvm.ir.Op.get(name) for name in VIEW_OPS}

    def const_storage(self, c) -> Storage:
        key = hash(c)
        if key not in self.consts:
            arr = c.value.numpy()
            arr = np.ascontiguousarray(arr.reshape(-1) if arr.ndim else arr.reshape(1))
            self.consts[key] = Storage("const", f"{self.prefix}_const_{len(self.consts)}",
                                       str(arr.dtype), arr.nbytes, const_value=arr)
        return self.consts[key]

    def storage_of(self, expr) -> Storage:
        if type(expr).__name__ in ("GenericConst", "Constant"):
            return self.const_storage(expr)
        if hash(expr) not in self.storage:
            raise ByocError(f"AOT: value {expr} used before it is defined")
        return self.storage[hash(expr)]

    def touch(self, st: Storage, step: int) -> None:
        """``st`` is read at call ``step`` (an arena tensor lives at least until then)."""
        if st.kind == "arena":
            self.uses[st.name] = max(self.uses.get(st.name, step), step)
        if st.kind == "state":
            self.last_read[st.index] = step

    def _is_operator_call(self, value) -> bool:
        return isinstance(value, relax.Call) and (value.op.same_as(self.call_tir) or (
            value.op.same_as(self.call_dps) and isinstance(value.args[0], relax.ExternFunc)))

    def bind(self, var, value) -> None:
        """Record one binding ``var = value`` of main."""
        if self._is_operator_call(value):
            self._operator_call(var, value)
        elif isinstance(value, relax.Call) and any(value.op.same_as(op) for op in self.view_ops):
            self.storage[hash(var)] = self.storage_of(value.args[0])
        elif isinstance(value, relax.TupleGetItem):
            parts = self.storage_of(value.tuple_value).parts  # type: ignore[attr-defined]
            self.storage[hash(var)] = parts[value.index]
        elif isinstance(value, relax.Var):
            self.storage[hash(var)] = self.storage_of(value)
        elif isinstance(value, relax.Tuple):
            st = Storage("tuple", var.name, "", 0)
            st.parts = [self.storage_of(f) for f in value.fields]  # type: ignore[attr-defined]
            self.storage[hash(var)] = st
        else:
            op = getattr(getattr(value, "op", None), "name", type(value).__name__)
            raise ByocError(f"AOT: operator '{op}' was not lowered to a C function")

    def _operator_call(self, var, value) -> None:
        """A ``call_tir`` / ``call_dps_packed`` of a C function: its outputs are new arena
        tensors, its scratch area a buffer alive during the call."""
        callee = (value.args[0].name_hint if value.op.same_as(self.call_tir)
                  else str(value.args[0].global_symbol))
        if callee not in self.functions:
            raise ByocError(f"AOT: no C function for {callee}")
        step = len(self.calls)
        in_st = [self.storage_of(a) for a in value.args[1].fields]
        out_types = list(var.ty.fields) if isinstance(var.ty, relax.TupleType) else [var.ty]
        out_st = []
        for k, ty in enumerate(out_types):
            shape, dtype = _tensor_type(ty)
            name = f"t{step}_{k}"
            st = Storage("arena", name, dtype, _nbytes(shape, dtype))
            self.arena_tensors[name] = Buffer(name, st.nbytes, step, step)
            out_st.append(st)
        for st in in_st:
            self.touch(st, step)
        func = self.functions[callee]
        scratch = (Buffer(f"scratch{step}", func.scratch_bytes, step, step, kind="scratch")
                   if func.scratch_bytes else None)
        self.calls.append(OpCall(step, func, in_st + out_st, scratch,
                                 self.labels.get(callee, callee)))
        if isinstance(var.ty, relax.TupleType):
            self.storage[hash(var)] = Storage("tuple", var.name, "", 0)
            self.storage[hash(var)].parts = out_st  # type: ignore[attr-defined]
        else:
            self.storage[hash(var)] = out_st[0]


def _bind_params(main, inputs: list[IOTensor], state: Any, walk: _Bindings
                 ) -> dict[int, Storage]:
    """Storage of main's parameters: the model inputs, then the state variables read
    (``state.reads``). Returns {variable: storage of its value at the start}."""
    reads = list(state.reads) if state is not None else []
    if len(main.params) != len(inputs) + len(reads):
        raise ByocError(f"AOT: main has {len(main.params)} inputs, the model "
                        f"{len(inputs) + len(reads)}")
    for i, (param, io) in enumerate(zip(main.params, inputs)):
        walk.storage[hash(param)] = Storage("input", io.c_name, io.dtype, io.nbytes, index=i)
    read_storage: dict[int, Storage] = {}
    for param, k in zip(main.params[len(inputs):], reads):
        v = state.variables[k]
        read_storage[k] = walk.storage[hash(param)] = Storage(
            "state", f"state_{k}", v.dtype, v.nbytes, index=k, offset=v.offset)
    return read_storage


def _bind_outputs(out_roots: list[Storage], outputs: list[IOTensor], walk: _Bindings,
                  claimed: set[str]) -> list[Copy]:
    """The producing operator writes straight into the caller's output buffer when the
    tensor is an arena tensor claimed by no other output; otherwise it is copied at the end
    (returned)."""
    copies: list[Copy] = []
    for k, (root, io) in enumerate(zip(out_roots, outputs)):
        out_st = Storage("output", io.c_name, io.dtype, io.nbytes, index=k)
        if root.kind == "arena" and root.name not in claimed:
            claimed.add(root.name)
            del walk.arena_tensors[root.name]
            root.kind, root.name, root.index = "output", io.c_name, k
        else:
            copies.append(Copy(out_st, root))
            walk.touch(root, len(walk.calls))
    return copies


def _functions_and_constants(calls: list[OpCall], constants: list[Storage]
                             ) -> list[CFunction]:
    """The C functions in first-call order; the constants they own join ``constants``."""
    seen, funcs = set(), []
    for c in calls:
        if c.func.name in seen:
            continue
        seen.add(c.func.name)
        funcs.append(c.func)
        for name, arr, *qualifier in c.func.constants:
            arr = np.ascontiguousarray(arr.reshape(-1) if arr.ndim else arr.reshape(1))
            constants.append(Storage("const", name, str(arr.dtype), arr.nbytes, const_value=arr,
                                     qualifier=qualifier[0] if qualifier else "BYOC_CONST"))
    return funcs


def assemble(mod: tvm.IRModule, functions: dict[str, CFunction], inputs: list[IOTensor],
             outputs: list[IOTensor], prefix: str,
             labels: dict[str, str] | None = None, state: Any = None) -> AOTProgram:
    """Turn the lowered ``main`` into an AOTProgram with a planned arena.

    ``functions`` maps callee names (PrimFunc global names of ``call_tir``, symbols of
    ``call_dps_packed``) to their C functions; ``labels`` optionally maps callee names to a
    human-readable operator description. Constants a C function owns
    (``CFunction.constants``) join the model's constants. ``state`` (a
    ``byoc.tflite.state.StateSpec``): ``main`` takes the variables ``state.reads`` after
    ``inputs`` and returns the new values of ``state.writes`` after ``outputs``.
    """
    main = mod["main"]
    walk = _Bindings(functions, labels or {}, prefix)
    read_storage = _bind_params(main, inputs, state, walk)
    for block in main.body.blocks:
        for binding in block.bindings:
            walk.bind(binding.var, binding.value)
    result_st = walk.storage_of(main.body.body)
    out_roots = result_st.parts if result_st.kind == "tuple" else [result_st]  # type: ignore
    writes = list(state.writes) if state is not None else []
    if len(out_roots) != len(outputs) + len(writes):
        raise ByocError(f"AOT: main returns {len(out_roots)} tensors, the model has "
                        f"{len(outputs) + len(writes)}")
    claimed: set[str] = set()
    copies = _bind_outputs(out_roots[:len(outputs)], outputs, walk, claimed)
    state_copies = _state_updates(writes, out_roots[len(outputs):], state, read_storage,
                                  walk.last_read, walk.arena_tensors, claimed)
    for cp in state_copies:
        walk.touch(cp.src, len(walk.calls))
    calls, arena_tensors = walk.calls, walk.arena_tensors
    for name, buf in arena_tensors.items():
        buf.last = max(walk.uses.get(name, buf.first), buf.first)
    aliases = _merge_in_place(calls, arena_tensors)
    plan = _plan_with_scratch_io(calls, arena_tensors, aliases)
    constants = list(walk.consts.values())
    funcs = _functions_and_constants(calls, constants)
    if state is not None:
        constants += _state_initialisers(state, prefix)
    return AOTProgram(prefix, inputs, outputs, calls, copies, constants, plan, funcs,
                      state, state_copies)


def _state_updates(writes: list[int], roots: list[Storage], state: Any,
                   read_storage: dict[int, Storage], last_read: dict[int, int],
                   arena_tensors: dict[str, Buffer], claimed: set[str]) -> list[Copy]:
    """Connect each variable's new value to its place in the state buffer: an arena tensor
    born after the last read of the variable's old value becomes that place (its producer
    writes the state in place); anything else is copied at the end (returned)."""
    copies = []
    for k, root in zip(writes, roots):
        v = state.variables[k]
        dst = Storage("state", f"state_{k}", v.dtype, v.nbytes, index=k, offset=v.offset)
        if root is read_storage.get(k):
            continue                      # the variable keeps its value
        if any(root is st for j, st in read_storage.items() if j != k):
            raise ByocError(f"variable '{v.name}' is assigned the value another variable had "
                            "at the start of the step; not supported")
        if root.kind == "arena" and root.name not in claimed and \
                arena_tensors[root.name].first > last_read.get(k, -1):
            claimed.add(root.name)
            del arena_tensors[root.name]
            root.kind, root.name, root.index, root.offset = "state", dst.name, k, v.offset
            continue
        copies.append(Copy(dst, root))
    return copies


def _state_initialisers(state: Any, prefix: str) -> list[Storage]:
    """Constants holding the initial values of the variables that are not one repeated
    byte (those are set with memset)."""
    out = []
    for k, v in enumerate(state.variables):
        raw = np.ascontiguousarray(v.initial).reshape(-1)
        if len(set(raw.view(np.uint8).tolist())) > 1:
            out.append(Storage("const", f"{prefix}_state_init_{k}", str(raw.dtype), raw.nbytes,
                               const_value=raw))
    return out


def _scratch_io_members(calls: list[OpCall], arena_tensors: dict[str, Buffer],
                       aliases: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Arena tensors that can live inside the scratch area of the call they are an IO of
    (``CParam.scratch_offset``, e.g. an Ethos-U region's IO at Vela's offset), so that the
    function copies nothing: {tensor name: (scratch buffer name, offset inside it)}.

    A tensor qualifies when it is an IO of exactly one such parameter (not also an IO of
    another such call, not passed twice), takes part in no in-place merge, fits the scratch
    area at an aligned offset, and - for an input - dies at that call (the callee may reuse
    its bytes). Two members may share bytes only as an input and an output of the call (the
    input dies where the output is born). Everything else keeps the copy."""
    merged = set(aliases) | set(aliases.values())
    bound: dict[str, int] = {}
    for call in calls:
        for st, param in zip(call.args, call.func.params):
            if param.scratch_offset is not None and st.kind == "arena":
                bound[st.name] = bound.get(st.name, 0) + 1
    members: dict[str, tuple[str, int]] = {}
    for call in calls:
        if call.scratch is None:
            continue
        taken: list[tuple[int, int, bool]] = []     # (start, end, is_output) inside scratch
        names = [st.name for st in call.args if st.kind == "arena"]
        for st, param in zip(call.args, call.func.params):
            off = param.scratch_offset
            if off is None or st.kind != "arena" or st.name not in arena_tensors \
                    or st.name in merged or bound[st.name] != 1 or names.count(st.name) != 1:
                continue
            end = off + align(st.nbytes)
            if off % ALIGNMENT or end > align(call.scratch.size):
                continue
            if not param.is_output and arena_tensors[st.name].last != call.index:
                continue
            if any(off < e and s < end and out == param.is_output for s, e, out in taken):
                continue
            taken.append((off, end, param.is_output))
            members[st.name] = (call.scratch.name, off)
    return members


def _plan_with_scratch_io(calls: list[OpCall], arena_tensors: dict[str, Buffer],
                         aliases: dict[str, str]) -> ArenaPlan:
    """The arena plan, with the calls' IO tensors inside their scratch areas when that is
    possible (``_scratch_io_members``) and the plan is no larger than with the copies."""
    scratches = [c.scratch for c in calls if c.scratch is not None]
    members = _scratch_io_members(calls, arena_tensors, aliases)
    if members:
        tensors = [b for n, b in arena_tensors.items() if n not in members]
        hosts = {b.name: replace(b) for b in scratches}
        for name, (host, off) in members.items():
            # the scratch area is in use as a whole during its call, and before/after it
            # only where its member tensors are, while they are alive
            t, h = arena_tensors[name], hosts[host]
            if h.pieces is None:
                h.pieces = [(0, align(h.size), h.first, h.last)]
            h.pieces.append((off, off + align(t.size), t.first, t.last))
            h.first, h.last = min(h.first, t.first), max(h.last, t.last)
        grouped = plan_arena(tensors + list(hosts.values()))
    plan = plan_arena(list(arena_tensors.values()) + scratches)
    plan.aliases = aliases
    if not members or grouped.size > plan.size:
        return plan
    grouped.aliases, grouped.members = aliases, members
    for c in calls:                         # the calls' scratch areas as placed
        if c.scratch is not None:
            c.scratch = hosts[c.scratch.name]
    for name in members:
        del arena_tensors[name]
    return grouped


def _merge_in_place(calls: list[OpCall], arena_tensors: dict[str, Buffer]) -> dict[str, str]:
    """Let elementwise operators write over an input that dies at that call.

    For each call whose function allows it (``CFunction.inplace``), an arena output takes
    the bytes of a same-sized arena input whose last use is this call: the two buffers
    become one whose lifetime covers both. Returns {merged output name: buffer it uses};
    the merged outputs are removed from ``arena_tensors``."""
    aliases: dict[str, str] = {}

    def root(name: str) -> str:
        while name in aliases:
            name = aliases[name]
        return name

    for call in calls:
        for out_i, cands in call.func.inplace.items():
            out_st = call.args[out_i]
            if out_st.kind != "arena" or out_st.name not in arena_tensors:
                continue
            for in_i in cands:
                in_st = call.args[in_i]
                if in_st.kind != "arena":
                    continue
                host = arena_tensors.get(root(in_st.name))
                if host is None or host.last != call.index or host.size != out_st.nbytes:
                    continue
                out_buf = arena_tensors.pop(out_st.name)
                host.last = out_buf.last
                aliases[out_st.name] = host.name
                break
    return {name: root(name) for name in aliases}


# ---------------------------------------------------------------------------------------
# C emission of the entry point
# ---------------------------------------------------------------------------------------

def _pointer(st: Storage, plan: ArenaPlan, const_ok: bool) -> str:
    ty = c_type(st.dtype)
    if st.kind == "input":
        return f"(const {ty}*)inputs->{st.name}" if const_ok else f"({ty}*)inputs->{st.name}"
    if st.kind == "output":
        return f"({ty}*)outputs->{st.name}"
    if st.kind == "const":
        return st.name
    if st.kind == "state":
        return f"({ty}*)(void*)(state + {st.offset})"
    return f"({ty}*)(void*)(arena + {plan.offset_of(st.name)})"


def run_signature(program: AOTProgram) -> str:
    """The C prototype of ``<prefix>_run`` (stateful models take the state buffer too)."""
    p = program.prefix
    extra = ", void* state_buffer" if program.state is not None else ""
    return (f"int32_t {p}_run(const struct {p}_inputs* inputs, struct {p}_outputs* outputs, "
            f"void* workspace{extra})")


def emit_run_source(program: AOTProgram) -> str:
    """C source of ``int32_t <prefix>_run(inputs, outputs, workspace[, state_buffer])`` and,
    for a stateful model, of ``<prefix>_init`` / ``<prefix>_reset``."""
    p = program.prefix
    P = p.upper()
    stateful = program.state is not None
    lines = _state_init_source(program) if stateful else []
    lines += [
        f"{run_signature(program)} {{",
        "  if (inputs == NULL || outputs == NULL || workspace == NULL"
        + (" || state_buffer == NULL) {" if stateful else ") {"),
        f"    return {P}_ERROR_NULL_ARGUMENT;",
        "  }",
        f"  if (((uintptr_t)workspace % {P}_WORKSPACE_ALIGNMENT) != 0u) {{",
        f"    return {P}_ERROR_WORKSPACE_ALIGNMENT;",
        "  }",
    ]
    if stateful:
        lines += [f"  if (((uintptr_t)state_buffer % {P}_STATE_ALIGNMENT) != 0u) {{",
                  f"    return {P}_ERROR_STATE_ALIGNMENT;", "  }",
                  "  uint8_t* state = (uint8_t*)state_buffer;"]
    if program.plan.size:
        lines.append("  uint8_t* arena = (uint8_t*)workspace;")
    if program.calls:
        lines.append("  int32_t status;")
    fault = fault_injection.from_environment()   # None unless a test sets BYOC_TEST_FAULT
    for call in program.calls:
        args = []
        for st, param in zip(call.args, call.func.params):
            args.append(_pointer(st, program.plan, not param.is_output))
        if call.scratch is not None:
            args.append(f"arena + {call.scratch.offset}")
        label = call.label.replace("\\", "/").replace('"', "'")
        lines += [
            f"  BYOC_PROFILE_ENTER({call.index}u, \"{label}\");",
            f"  status = {call.func.name}({', '.join(args)});",
            f"  BYOC_PROFILE_EXIT({call.index}u);",
            "  if (status != 0) {",
            f"    return {P}_ERROR_OPERATOR;",
            "  }",
        ]
        if fault is not None:
            outs = [(_pointer(st, program.plan, False), st.nbytes)
                    for st, param in zip(call.args, call.func.params) if param.is_output]
            lines += fault.lines_after(call.label, call.func.name, outs)
    for cp in program.copies:
        src = _pointer(cp.src, program.plan, True)
        lines.append(f"  memcpy(outputs->{cp.dst.name}, {src}, {cp.dst.nbytes}u);")
    for cp in program.state_copies:
        src = _pointer(cp.src, program.plan, True)
        lines.append(f"  memcpy(state + {cp.dst.offset}, {src}, {cp.dst.nbytes}u);"
                     f" /* {c_comment(program.state.variables[cp.dst.index].name)} */")
    if stateful and not any(st.kind == "state" for c in program.calls for st in c.args) \
            and not program.state_copies:
        lines.append("  (void)state;")
    if not program.plan.size:
        lines.append("  (void)workspace;")
    lines += [f"  return {P}_OK;", "}", ""]
    return "\n".join(lines)


def _state_init_source(program: AOTProgram) -> list[str]:
    """``<prefix>_init(state)``: every variable takes its initial value (the constants the
    model's CALL_ONCE initialiser assigns); ``<prefix>_reset`` does the same."""
    p, P = program.prefix, program.prefix.upper()
    consts = {st.name for st in program.constants}
    lines = [
        f"int32_t {p}_init(void* state_buffer) {{",
        "  if (state_buffer == NULL) {",
        f"    return {P}_ERROR_NULL_ARGUMENT;",
        "  }",
        f"  if (((uintptr_t)state_buffer % {P}_STATE_ALIGNMENT) != 0u) {{",
        f"    return {P}_ERROR_STATE_ALIGNMENT;",
        "  }",
        "  uint8_t* state = (uint8_t*)state_buffer;",
        f"  memset(state, 0, {P}_STATE_SIZE);",
    ]
    for k, v in enumerate(program.state.variables):
        name = f"{p}_state_init_{k}"
        comment = f" /* {c_comment(v.name)} */"
        if name in consts:
            lines.append(f"  memcpy(state + {v.offset}, {name}, {v.nbytes}u);{comment}")
        else:
            byte = int(np.ascontiguousarray(v.initial).reshape(-1).view(np.uint8)[0])
            lines.append(f"  memset(state + {v.offset}, {byte:#04x}, {v.nbytes}u);{comment}")
    lines += [f"  return {P}_OK;", "}", "",
              f"int32_t {p}_reset(void* state_buffer) {{",
              f"  return {p}_init(state_buffer);", "}", ""]
    return lines


def emit_constants_source(program: AOTProgram) -> str:
    """Const arrays for all weights/parameters, aligned and in a configurable section."""
    out = []
    for st in program.constants:
        arr = st.const_value
        assert arr is not None
        ty = c_type(st.dtype)
        if arr.dtype == np.float32:
            vals = [repr(float(v)) + "f" for v in arr]
        elif arr.dtype == np.float64:
            vals = [repr(float(v)) for v in arr]
        else:
            vals = [str(int(v)) if int(v) != -(2 ** 31) or arr.dtype != np.int32 else "INT32_MIN"
                    for v in arr]
            if arr.dtype == np.int64:
                vals = [f"INT64_C({v})" for v in vals]
        body = ",\n".join("  " + ", ".join(vals[i:i + 16]) for i in range(0, len(vals), 16))
        out.append(f"{st.qualifier} {ty} {st.name}[{arr.size}] = {{\n{body}\n}};\n")
    return "\n".join(out)


def arena_report(program: AOTProgram) -> dict:
    d = program.plan.to_json()
    d["constant_bytes"] = program.constant_bytes
    return d


__all__ = ["AOTProgram", "IOTensor", "OpCall", "assemble", "emit_run_source",
           "emit_constants_source", "align"]
