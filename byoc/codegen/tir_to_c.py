"""Lower a TIR PrimFunc and print it as one plain C function.

TVM's own C backend emits packed TVM-FFI functions that need the TVM runtime; a
microcontroller wants ``int32_t f(const int8_t* a, ..., int8_t* out)``. So this module runs
TVM's TIR lowering passes (blocks -> loops, flattened buffers, simplification) and prints
the lowered statement tree itself. Only a small, fixed set of TIR nodes appears after
lowering; anything else raises ``ByocError`` naming the node, so an unsupported construct is
caught at compile time instead of miscompiling.

Temporary buffers (``AllocBuffer``) of more than ``LOCAL_ARRAY_LIMIT`` bytes are not put on
the stack: they become slices of a per-call scratch area (``uint8_t* scratch``) that the AOT
memory planner places in the arena. Their total size is reported as ``scratch_bytes``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import tvm
from tvm import s_tir, tirx

from ..errors import ByocError
from ..naming import C_KEYWORDS, LIBC_NAMES

# Temporaries up to this many bytes become local C arrays (registers or a few stack bytes);
# larger ones come from the planned scratch area.
LOCAL_ARRAY_LIMIT = 64
SCRATCH_ALIGN = 16

_C_TYPES = {
    "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
    "float32": "float", "float64": "double", "bool": "bool",
}

_SIGNED_INTS = ("int8", "int16", "int32", "int64")
_NARROW_INTS = ("int8", "int16", "uint8", "uint16")

_BINARY = {
    "Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%",
    "EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=",
    "And": "&&", "Or": "||",
    "LShift": "<<", "RShift": ">>", "BitwiseAnd": "&", "BitwiseOr": "|", "BitwiseXor": "^",
}

# Binary operators whose C result can differ from TIR's for 8/16-bit operands: C computes
# them in int (integer promotion), TIR (and TVM's LLVM code) in the operand type, wrapping.
_WRAPPING = {"Add", "Sub", "Mul", "Div", "Mod", "LShift"}

# Names a local or parameter must not take (besides C keywords, the C library's macros and
# byoc's helpers): typedefs (a variable named int8_t would hide the type), macros of
# <stdint.h> and <math.h>, and the scratch area parameter. Exact names: "int8_t_1" is free.
_RESERVED_NAME = re.compile(r"(u?int(8|16|32|64|ptr|max)_t|size_t|ptrdiff_t|"
                            r"U?INT(8|16|32|64|PTR|MAX)_(MAX|MIN|C)|NAN|INFINITY|HUGE_VALF?|scratch)$")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_CALL_BINARY = {
    "prim.shift_left": "LShift", "prim.shift_right": "RShift", "prim.bitwise_and": "BitwiseAnd",
    "prim.bitwise_or": "BitwiseOr", "prim.bitwise_xor": "BitwiseXor",
}

# Float math intrinsics -> C99 <math.h> functions (float32 variant, float64 variant).
_MATH = {
    "exp": ("expf", "exp"), "log": ("logf", "log"), "sqrt": ("sqrtf", "sqrt"),
    "tanh": ("tanhf", "tanh"), "fabs": ("fabsf", "fabs"), "floor": ("floorf", "floor"),
    "ceil": ("ceilf", "ceil"), "round": ("nearbyintf", "nearbyint"),
    "nearbyint": ("nearbyintf", "nearbyint"), "trunc": ("truncf", "trunc"),
    "pow": ("powf", "pow"), "erf": ("erff", "erf"), "sin": ("sinf", "sin"),
    "cos": ("cosf", "cos"), "exp2": ("exp2f", "exp2"), "log2": ("log2f", "log2"),
}


def c_type(dtype: str) -> str:
    dtype = str(dtype)
    if dtype not in _C_TYPES:
        raise ByocError(f"generic C path: unsupported data type '{dtype}'")
    return _C_TYPES[dtype]


@dataclass
class CParam:
    name: str
    dtype: str
    nbytes: int
    is_output: bool
    # Byte offset inside the function's scratch area where this tensor may live instead of a
    # separate buffer (an Ethos-U region's IO at Vela's offset): when the caller passes
    # ``scratch + scratch_offset`` the function skips its copy. None: no such place.
    scratch_offset: int | None = None


@dataclass
class CFunction:
    """One generated C function.

    ``source`` is the full definition; ``params`` lists the data pointers in call order
    (inputs then outputs); when ``scratch_bytes`` > 0 a final ``uint8_t* scratch``
    parameter takes a scratch area of that many bytes (16-byte aligned). ``constants``
    are arrays the function itself refers to by name (a kernel-library codegen's weights
    and parameters); the AOT emits them with the model's other constants.
    """

    name: str
    source: str
    params: list[CParam]
    scratch_bytes: int
    uses_math: bool = False
    helpers: set[str] = field(default_factory=set)
    constants: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # In-place: output parameter index -> input parameter indices whose memory the output
    # may take over (the function reads each element of that input before writing the
    # same element of the output, and both have the same shape and type).
    inplace: dict[int, list[int]] = field(default_factory=dict)

    @property
    def prototype(self) -> str:
        return self.source.split("{", 1)[0].strip() + ";"


def lower_primfunc(func: tirx.PrimFunc) -> tirx.PrimFunc:
    """Run TVM's TIR lowering (no vectorisation, no packed API) on one PrimFunc.

    ``NarrowDataType`` turns the int64 indices LegalizeOps produces into int32 (much cheaper
    on a 32-bit core). Its bound analysis rejects some functions with expression-level
    ``Let`` bindings; those are written with int32 indices already, so they are lowered
    without it.
    """
    mod = tvm.IRModule({"main": func.with_attr("global_symbol", "main")})

    # byoc's own integer kernels (attribute "byoc.kind") are written loop by loop with named
    # intermediate values; StmtSimplify would substitute those back into one huge
    # expression (slow to simplify, unreadable C, unused variables), so they skip it.
    simplify = "byoc.kind" not in (func.attrs or {})

    def pipeline(narrow: bool) -> list:
        return [
            s_tir.transform.CanonicalizeLoop(),
            s_tir.transform.LowerInitBlock(),
            s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
            s_tir.transform.ConvertBlocksToOpaque(),
            s_tir.transform.CompactBufferAllocation(),
            s_tir.transform.LowerMatchBuffer(),
            s_tir.transform.LowerOpaqueBlock(),
            tirx.transform.FlattenBuffer(),
            *([tirx.transform.NarrowDataType(32)] if narrow else []),
            *([tirx.transform.StmtSimplify()] if simplify else []),
            tirx.transform.RemoveNoOp(),
        ]

    with tvm.transform.PassContext(opt_level=3, config={"tirx.disable_vectorize": True}):
        try:
            lowered = tvm.transform.Sequential(pipeline(True))(mod)
        except tvm.error.InternalError:
            lowered = tvm.transform.Sequential(pipeline(False))(mod)
    return lowered["main"]


def _int_literal(value: int, dtype: str) -> str:
    if dtype == "bool":
        return "1" if value else "0"
    if dtype.startswith("uint"):
        return f"{value}u" if dtype != "uint64" else f"UINT64_C({value})"
    if dtype == "int64":
        if value == -(2 ** 63):
            return "INT64_MIN"
        return f"INT64_C({value})"
    if value == -(2 ** 31):
        return "INT32_MIN"
    return f"({value})" if value < 0 else str(value)


def _float_literal(value: float, dtype: str) -> str:
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    if dtype == "float32":
        # repr of the float32 value read as double round-trips to the same float32.
        text = repr(float(np.float32(value)))
        if "e" not in text and "." not in text:
            text += ".0"
        return f"{text}f" if value >= 0 else f"({text}f)"
    text = repr(float(value))
    return text if value >= 0 else f"({text})"


def _dtype(expr) -> str:
    """dtype string of a TIR expression or scalar variable."""
    return str(expr.ty.dtype)


def _is_reserved(name: str) -> bool:
    return (name in C_KEYWORDS or name in LIBC_NAMES or name in HELPER_SOURCE
            or _RESERVED_NAME.match(name) is not None)


def _storage_of(expr):
    """The object identifying a pointer: ``buffer_data(x)`` calls are keyed by ``x``."""
    if type(expr).__name__ == "Call" and expr.op.name.endswith("buffer_data"):
        return expr.args[0]
    return expr


class _Printer:
    def __init__(self, func_name: str):
        self.func_name = func_name
        self.names: dict[int, str] = {}       # id(Var handle) -> C name
        self.used: set[str] = {func_name}
        self.ptr_types: dict[int, str] = {}   # storage key -> element dtype of its declaration
        self.aliases: dict[int, int] = {}     # DeclBuffer view -> the storage it views
        self.lines: list[str | None] = []  # None: dropped (drop_unused_locals)
        self.indent = 1
        self.scratch_bytes = 0
        self.uses_math = False
        self.helpers: set[str] = set()
        self.locals: list[tuple[int, str]] = []   # (line index, name) of each named value

    # -- names ------------------------------------------------------------------------
    def key_of(self, expr) -> int:
        """Identity of the storage behind a pointer expression, through DeclBuffer aliases."""
        key = hash(_storage_of(expr))
        while key in self.aliases:
            key = self.aliases[key]
        return key

    def name_of(self, var) -> str:
        key = self.key_of(var)
        var = _storage_of(var)
        if key not in self.names:
            base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in var.name) or "v"
            if base[0].isdigit():
                base = "v" + base
            name, n = base, 1
            while name in self.used or _is_reserved(name):
                name, n = f"{base}_{n}", n + 1
            self.used.add(name)
            self.names[key] = name
        return self.names[key]

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.indent + line)

    def declare(self, c_decl: str, var, value) -> None:
        """A named intermediate value (``Bind``, or a hoisted ``Let``) as a C local."""
        name = self.name_of(var)
        self.locals.append((len(self.lines), name))
        self.emit(f"{c_decl} {name} = {self.expr(value)};")

    def drop_unused_locals(self) -> None:
        """Remove the named values nothing reads (-Werror=unused-variable), e.g. an
        accumulator whose requantization folded to a constant. Their values are pure
        expressions (loads, arithmetic, math functions), so not evaluating them changes
        nothing; removing one can leave the values it read unused in turn."""
        dropped = True
        while dropped:
            uses = Counter(tok for line in self.lines if line is not None
                           for tok in _IDENTIFIER.findall(line))
            dropped = False
            for index, name in self.locals:
                if self.lines[index] is not None and uses[name] == 1:
                    self.lines[index] = None
                    dropped = True
        self.lines = [line for line in self.lines if line is not None]

    # -- expressions ------------------------------------------------------------------
    def expr(self, e) -> str:  # noqa: C901 - one dispatch over node kinds
        kind = type(e).__name__
        dtype = _dtype(e)
        if kind == "IntImm":
            return _int_literal(int(e.value), dtype)
        if kind == "FloatImm":
            return _float_literal(float(e.value), dtype)
        if kind == "Var":
            return self.name_of(e)
        if kind == "Cast":
            return f"(({c_type(dtype)})({self.expr(e.value)}))"
        if kind in _BINARY:
            return self.binary(kind, e.a, e.b, dtype)
        if kind in ("FloorDiv", "FloorMod"):
            helper = f"byoc_{kind.lower()}_{_dtype(e.a)}"
            self.helpers.add(helper)
            return f"{helper}({self.expr(e.a)}, {self.expr(e.b)})"
        if kind in ("Min", "Max"):
            helper = f"byoc_{kind.lower()}_{dtype}"
            self.helpers.add(helper)
            return f"{helper}({self.expr(e.a)}, {self.expr(e.b)})"
        if kind == "Not":
            return f"(!{self.expr(e.a)})"
        if kind == "BitwiseNot":
            return self.bitwise_not(e.a, dtype)
        if kind == "Select":
            return f"({self.expr(e.condition)} ? {self.expr(e.true_value)} : {self.expr(e.false_value)})"
        if kind in ("BufferLoad", "TensorLoad"):
            buffer = e.source if kind == "TensorLoad" else e.buffer
            return self.buffer_access(buffer, e.indices)
        if kind == "Call":
            return self.call(e)
        raise ByocError(f"generic C path: cannot print TIR expression {kind} in {self.func_name}")

    def binary(self, kind: str, a, b, dtype: str) -> str:
        """``a <op> b`` with TIR's integer semantics.

        8/16-bit results wrap in TIR: the C result is converted back to the type (unsigned
        operands are computed in uint32_t, where int would overflow, e.g. uint16 * uint16).
        A signed left shift is done on the unsigned type (TIR shifts the bits; C leaves the
        shift of a negative value undefined) and converted back (modulo, as gcc defines it).
        """
        op, x, y = _BINARY[kind], self.expr(a), self.expr(b)
        narrow = dtype in _NARROW_INTS and kind in _WRAPPING
        if narrow and dtype.startswith("uint"):
            return f"(({c_type(dtype)})((uint32_t)({x}) {op} (uint32_t)({y})))"
        if kind == "LShift" and dtype in _SIGNED_INTS:
            wide = "uint64_t" if dtype == "int64" else "uint32_t"
            return f"(({c_type(dtype)})(({wide})({x}) << ({y})))"
        if narrow:
            return f"(({c_type(dtype)})({x} {op} {y}))"
        return f"({x} {op} {y})"

    def bitwise_not(self, a, dtype: str) -> str:
        if dtype in _NARROW_INTS:   # ~ of a promoted uint8 also sets the bits above the type
            return f"(({c_type(dtype)})(~{self.expr(a)}))"
        return f"(~{self.expr(a)})"

    def call(self, e) -> str:
        op = e.op.name
        args = list(e.args)
        dtype = _dtype(e)
        if op == "prim.if_then_else":
            return f"({self.expr(args[0])} ? {self.expr(args[1])} : {self.expr(args[2])})"
        if op in _CALL_BINARY:
            return self.binary(_CALL_BINARY[op], args[0], args[1], dtype)
        if op == "prim.bitwise_not":
            return self.bitwise_not(args[0], dtype)
        if op == "prim.likely":
            return self.expr(args[0])
        short = op.split(".", 1)[-1]
        if short in _MATH and dtype in ("float32", "float64"):
            self.uses_math = True
            fn = _MATH[short][0 if dtype == "float32" else 1]
            return f"{fn}({', '.join(self.expr(a) for a in args)})"
        if short == "sigmoid" and dtype == "float32":
            self.uses_math = True
            return f"(1.0f / (1.0f + expf(-({self.expr(args[0])}))))"
        raise ByocError(f"generic C path: unsupported TIR intrinsic '{op}' in {self.func_name}")

    def buffer_access(self, buffer, indices) -> str:
        if len(indices) != 1:
            raise ByocError(f"generic C path: buffer {buffer.name} was not flattened")
        ptr = self.name_of(buffer.data)
        decl = self.ptr_types.get(self.key_of(buffer.data))
        index = self.expr(indices[0])
        if decl is not None and decl != str(buffer.dtype):
            return f"(({c_type(buffer.dtype)}*){ptr})[{index}]"
        return f"{ptr}[{index}]"

    def hoist_lets(self, e):
        """Emit the chain of ``Let`` bindings around an expression as local variables.

        Only a Let at the top of a stored value is hoisted: its value is evaluated
        unconditionally by TIR's semantics anyway. A Let nested under a condition (whose
        hoisting could evaluate a guarded load) is refused by ``expr``."""
        while type(e).__name__ == "Let":
            value = self.hoist_lets(e.value)
            self.declare(f"const {c_type(_dtype(e.var))}", e.var, value)
            e = e.body
        return e

    # -- statements -------------------------------------------------------------------
    def stmt(self, s) -> None:  # noqa: C901
        kind = type(s).__name__
        if kind == "SeqStmt":
            for item in s.seq:
                self.stmt(item)
        elif kind == "For":
            var = self.name_of(s.loop_var)
            ty = c_type(_dtype(s.loop_var))
            start, extent = self.expr(s.min), self.expr(s.extent)
            end = extent if start == "0" else f"{start} + {extent}"
            self.emit(f"for ({ty} {var} = {start}; {var} < {end}; ++{var}) {{")
            self.indent += 1
            self.stmt(s.body)
            self.indent -= 1
            self.emit("}")
        elif kind == "BufferStore":
            value = self.hoist_lets(s.value)
            self.emit(f"{self.buffer_access(s.buffer, s.indices)} = {self.expr(value)};")
        elif kind == "Bind":
            value = self.hoist_lets(s.value)
            self.declare(c_type(_dtype(s.var)), s.var, value)
        elif kind == "IfThenElse":
            self.emit(f"if ({self.expr(s.condition)}) {{")
            self.indent += 1
            self.stmt(s.then_case)
            self.indent -= 1
            if s.else_case is not None:
                self.emit("} else {")
                self.indent += 1
                self.stmt(s.else_case)
                self.indent -= 1
            self.emit("}")
        elif kind == "DeclBuffer":
            # A flattened view of an existing pointer: accesses go through buffer.data.
            view, storage = hash(_storage_of(s.buffer.data)), self.key_of(s.data)
            if view != storage:
                self.aliases[view] = storage
            self.ptr_types.setdefault(storage, str(s.buffer.dtype))
        elif kind == "AllocBuffer":
            self.alloc(s.buffer)
        elif kind == "AttrStmt":
            if getattr(s, "body", None) is not None:
                self.stmt(s.body)
        elif kind == "AssertStmt":
            pass  # shapes are static: runtime shape assertions have nothing to check
        elif kind == "Evaluate":
            value = s.value
            if type(value).__name__ == "IntImm":
                return
            self.emit(f"(void)({self.expr(value)});")
        else:
            raise ByocError(f"generic C path: cannot print TIR statement {kind} in {self.func_name}")

    def alloc(self, buffer) -> None:
        count = 1
        for dim in buffer.shape:
            count *= int(dim)
        ty = c_type(buffer.dtype)
        nbytes = count * np.dtype(str(buffer.dtype)).itemsize
        name = self.name_of(buffer.data)
        self.ptr_types[self.key_of(buffer.data)] = str(buffer.dtype)
        if nbytes <= LOCAL_ARRAY_LIMIT:
            # Zero-initialised: TIR initialises reductions inside the first loop iteration,
            # which compilers cannot prove, and -Werror=maybe-uninitialized would fail.
            self.emit(f"{ty} {name}[{count}] = {{0}};")
        else:
            offset = self.scratch_bytes
            self.scratch_bytes += (nbytes + SCRATCH_ALIGN - 1) // SCRATCH_ALIGN * SCRATCH_ALIGN
            self.emit(f"{ty}* {name} = ({ty}*)(void*)(scratch + {offset});")


_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

HELPER_SOURCE = {
    # floor division/modulo for signed integers (C truncates towards zero; the quotient and
    # remainder of 8/16-bit operands are computed in int and converted back, like TIR's).
    **{f"byoc_floordiv_{t}": (
        f"static inline {c_type(t)} byoc_floordiv_{t}({c_type(t)} a, {c_type(t)} b) {{\n"
        f"  {c_type(t)} q = ({c_type(t)})(a / b);\n"
        f"  return (a % b != 0 && ((a < 0) != (b < 0))) ? ({c_type(t)})(q - 1) : q;\n}}")
       for t in _SIGNED_INTS},
    **{f"byoc_floormod_{t}": (
        f"static inline {c_type(t)} byoc_floormod_{t}({c_type(t)} a, {c_type(t)} b) {{\n"
        f"  {c_type(t)} r = ({c_type(t)})(a % b);\n"
        f"  return (r != 0 && ((r < 0) != (b < 0))) ? ({c_type(t)})(r + b) : r;\n}}")
       for t in _SIGNED_INTS},
    # unsigned: floor and truncation are the same
    **{f"byoc_{op}_{t}": (
        f"static inline {c_type(t)} byoc_{op}_{t}({c_type(t)} a, {c_type(t)} b) {{ "
        f"return ({c_type(t)})(a {'/' if op == 'floordiv' else '%'} b); }}")
       for op in ("floordiv", "floormod") for t in _INTS if t.startswith("uint")},
    **{f"byoc_{op}_{t}": (
        f"static inline {c_type(t)} byoc_{op}_{t}({c_type(t)} a, {c_type(t)} b) {{ "
        f"return a {'<' if op == 'min' else '>'} b ? a : b; }}")
       for op in ("min", "max") for t in (*_INTS, "float32", "float64")},
}


def emit_c_function(name: str, func: tirx.PrimFunc, num_outputs: int = 1,
                    inplace: dict[int, list[int]] | None = None) -> CFunction:
    """Lower ``func`` and print it as ``int32_t name(const T* in..., T* out..., [uint8_t* scratch])``.

    The last ``num_outputs`` parameters are outputs (destination-passing style, as
    ``call_tir`` uses); the others are read-only inputs and are declared ``const``.
    """
    inplace = inplace or {}
    may_alias = {i for out, ins in inplace.items() for i in [out, *ins]}
    lowered = lower_primfunc(func)
    printer = _Printer(name)
    params: list[CParam] = []
    n_params = len(lowered.params)
    decls = []
    for i, p in enumerate(lowered.params):
        if type(p.ty).__name__ != "BufferType":
            raise ByocError(f"generic C path: scalar parameter {p} in {name} is not supported")
        is_out = i >= n_params - num_outputs
        count = 1
        for dim in p.ty.shape:
            count *= int(dim)
        dt = str(p.ty.dtype)
        pname = printer.name_of(p)
        printer.ptr_types[printer.key_of(p)] = dt
        qual = "" if is_out else "const "
        # Parameters that may share memory (in-place) must not be declared restrict.
        restrict = "" if i in may_alias else "restrict "
        decls.append(f"{qual}{c_type(dt)}* {restrict}{pname}")
        params.append(CParam(pname, dt, count * np.dtype(dt).itemsize, is_out))
    printer.stmt(lowered.body)
    printer.drop_unused_locals()
    if printer.scratch_bytes:
        decls.append("uint8_t* restrict scratch")
    # A parameter the lowered body never reads (e.g. an input TVM folded away) would fail
    # -Werror=unused-parameter; mark every one used.
    unused = [f"  (void){p.name};" for p in params
              if not re.search(rf"\b{re.escape(p.name)}\b", "\n".join(printer.lines))]
    body = "\n".join(unused + printer.lines)
    signature = f"int32_t {name}({', '.join(decls) if decls else 'void'})"
    source = f"{signature} {{\n{body}\n  return 0;\n}}\n"
    return CFunction(name, source, params, printer.scratch_bytes, printer.uses_math,
                     printer.helpers, inplace=dict(inplace))
