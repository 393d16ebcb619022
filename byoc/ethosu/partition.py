"""Partitioning for the ``ethos-u55-*`` targets: what Vela 5.2 runs on the NPU.

``partition_for_ethosu(mod, accelerator)`` takes the frontend's (unlegalized) QDQ module:

1. every byoc.qnn chain whose spec has ``ethos_u`` (conv, depthwise, fully connected, pools,
   softmax, add, sub, mul, min/max, mean, sum, concatenation, int8 requantize, pad, tanh,
   logistic, hard swish, leaky relu, relu6, bilinear resize, transpose conv) and every int8
   reshape and strided slice is matched by a pattern registered under ``ethosu.<kind>``;
   a few are refused before Vela is asked (:func:`npu_refusal`: the NPU's result would
   differ from TFLM's);
2. each candidate is checked **by Vela itself**: the chain is written back as a one-operator
   TFLite model (:func:`byoc.tflite.qnn_writer.single_op_tflite`, byoc's TFLite writer, the
   operator's options as the original had them) and compiled in-process for the accelerator;
   it is offloaded only when Vela keeps it on the NPU (no CPU operator in Vela's output). The
   verdict is cached per operator signature (the bytes of that model + the Vela options), so
   nothing is offloaded that Vela would send back to the CPU, with Vela's own reason-free
   constraints exactly as this Vela version applies them;
3. ``relax.transform.MergeCompositeFunctions`` merges neighbouring offloaded chains into
   maximal regions (one ``Codegen="ethos-u"`` function each), so a fully offloadable model is
   ONE region and Vela sees the same graph as plain ``vela`` on the whole model (same
   cascading, same operator count).

Pools, PAD and RESHAPE operate on int8 values without quantization parameters in the Relax
graph; the scale and zero point of their input are looked up in the surrounding graph and
recorded on the composite function (attribute ``ethosu.quant``) for the codegen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax
from tvm.relax.dpl import is_op, wildcard

from .. import partition_common as pc
from ..errors import ByocError
from ..spans import operator_indices
from ..partition_common import Decision
from ..qnn import ops
from ..qnn import patterns as P

PREFIX = "ethosu."
CODEGEN = "ethos-u"

#: byoc.qnn kinds tried on the NPU: the specs with ``ethos_u`` (byoc.qnn.ops; QUANTIZE from
#: float stays on the CPU: Vela is int8 only), then this module's own data-movement kinds.
OWN_KINDS = ("reshape", "strided_slice")
KINDS = tuple(ops.ethos_u_kinds())
#: kinds whose operands carry no quantization in the Relax graph (they keep their input's).
TRANSPARENT = tuple(s.kind for s in ops.SPECS if s.ethos_u and s.transparent) + OWN_KINDS
TFLITE_TYPES = {**{k: ops.TFLITE_TYPES[k] for k in KINDS},
                "reshape": "RESHAPE", "strided_slice": "STRIDED_SLICE"}


@dataclass
class QReshape:
    """RESHAPE of an int8 tensor (quantization kept)."""

    input: "P.QTensor"
    output: "P.QTensor"
    op_type: str = "RESHAPE"


@dataclass
class QStridedSlice:
    """STRIDED_SLICE of an int8 tensor (quantization kept), constant full-rank begin/end
    (TFLite semantics: negative counts from the end) and positive strides."""

    input: "P.QTensor"
    output: "P.QTensor"
    begin: list[int]
    end: list[int]
    strides: list[int]
    op_type: str = "STRIDED_SLICE"


@dataclass
class VelaOptions:
    """The Vela options a partition is checked and compiled with."""

    accelerator: str = "ethos-u55-256"
    system_config: str | None = None
    memory_mode: str | None = None
    config_ini: str | None = None
    optimise: str = "Performance"

    def kwargs(self) -> dict:
        from .vela import DEFAULT_MEMORY_MODE, DEFAULT_SYSTEM_CONFIG
        return {"system_config": self.system_config or DEFAULT_SYSTEM_CONFIG,
                "memory_mode": self.memory_mode or DEFAULT_MEMORY_MODE,
                "config_ini": self.config_ini, "optimise": self.optimise}

    def key(self) -> str:
        return repr((self.accelerator, sorted(self.kwargs().items())))


def check_accelerator(accelerator: str) -> None:
    from .vela import ACCELERATORS
    if accelerator not in ACCELERATORS:
        raise ByocError(f"accelerator configuration '{accelerator}' is not supported; "
                        f"choose one of {', '.join(ACCELERATORS)}")


# ---------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------

def _reshape_pattern():
    return is_op("relax.reshape")(wildcard(), wildcard())


def _check_reshape(ctx) -> bool:
    r = ctx.matched_expr
    # A reshape to the same shape (TVM's frontend writes them before a model output, e.g. a
    # streaming model's new state) is a no-op view; as an NPU region alone it would copy.
    same = [int(d) for d in r.args[0].ty.shape] == [int(d) for d in r.ty.shape]
    return str(r.ty.dtype) == "int8" and not _is_const(r.args[0]) and not same


def _strided_slice_pattern():
    return is_op("relax.strided_slice")(wildcard(), wildcard(), wildcard(), wildcard(),
                                        wildcard())


def _strided_slice_check(session: "_Session | None"):
    def check(ctx) -> bool:
        r = ctx.matched_expr
        if not (str(r.ty.dtype) == "int8" and not _is_const(r.args[0])
                and all(isinstance(a, relax.Tuple) for a in r.args[1:])):
            return False
        # Only a slice of an operator's result can join that operator's NPU region; a slice
        # of a model input, a state variable or a SPLIT part (on the CPU) would be an NPU
        # region of its own that only copies.
        producer = session.producer(r.args[0]) if session is not None else None
        return isinstance(producer, relax.Call) and isinstance(producer.op, tvm.ir.Op) \
            and producer.op.name not in ("relax.split",)
    return check


def _is_const(e) -> bool:
    return type(e).__name__ in ("GenericConst", "Constant")


def _pattern_table(session: "_Session | None") -> list[tuple]:
    """(name, pattern, annotations, check) highest priority first, checks bound to
    ``session`` (without one, every check refuses: Vela is asked only during a run)."""
    out = []
    for kind, pats in pc.qnn_patterns(list(KINDS)).items():
        for p, qcheck in pats:
            out.append((PREFIX + kind, p, {"root": p}, _check(kind, qcheck, session)))
    p = _reshape_pattern()
    out.append((PREFIX + "reshape", p, {"root": p}, _check("reshape", _check_reshape, session)))
    p = _strided_slice_pattern()
    out.append((PREFIX + "strided_slice", p, {"root": p},
                _check("strided_slice", _strided_slice_check(session), session)))
    return out


#: the ``ethosu.*`` patterns (``PATTERNS.register()`` / ``registered()``: TVM's registry)
PATTERNS = pc.PatternSet(PREFIX, _pattern_table)


# ---------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------

MatchChain = pc.MatchChain


def _extract_reshape(chain) -> QReshape:
    r = chain.root
    x = chain.operand(chain.arg(r), 1.0, 0)
    return QReshape(x, P._out_tensor(r, 1.0, 0))


def _extract_strided_slice(chain) -> QStridedSlice:
    r = chain.root
    x = chain.operand(chain.arg(r), 1.0, 0)

    def ints(t) -> list[int]:
        try:
            return [int(f.value) for f in t.fields]
        except (AttributeError, TypeError):
            raise P.ExtractError("STRIDED_SLICE with non-constant bounds") from None

    axes, b, e, st = (ints(a) for a in r.args[1:])
    shape = list(x.shape)
    begin, end, strides = [0] * len(shape), list(shape), [1] * len(shape)
    for k, ax in enumerate(axes):
        ax %= len(shape)
        begin[ax], end[ax] = b[k], e[k]
        strides[ax] = st[k] if k < len(st) else 1
    if any(v <= 0 for v in strides):
        raise P.ExtractError("STRIDED_SLICE with a non-positive stride")
    # relax clamps like TFLite; spell out an end past the dimension as the dimension
    end = [min(v, d) if v >= 0 else v for v, d in zip(end, shape)]
    return QStridedSlice(x, P._out_tensor(r, 1.0, 0), begin, end, strides)


def extract(kind: str, chain):
    """The byoc.qnn dataclass (or :class:`QReshape`, :class:`QStridedSlice`) of a chain."""
    if kind == "reshape":
        return _extract_reshape(chain)
    if kind == "strided_slice":
        return _extract_strided_slice(chain)
    return ops.spec(kind).extract_op(chain)


def set_transparent_quant(kind: str, op, quant: "tuple[float, int] | None") -> None:
    """Give a pool/PAD/RESHAPE its (input = output) quantization, in place."""
    if kind not in TRANSPARENT:
        return
    if quant is None:
        # unknown here (check time only): a nominal quantization; Vela's support of these
        # operators does not depend on it (same scale in and out)
        zp = op.pad_value if kind == "pad" else \
            (op.act_min if getattr(op, "act_min", -128) > -128 else 0)
        quant = (1.0, zp)
    scale, zp = quant
    for t in (op.input, op.output):
        t.scale, t.zero_point = float(scale), int(zp)


def describe(op) -> str:
    if isinstance(op, QReshape):
        return "RESHAPE " + "x".join(str(d) for d in op.output.shape)
    if isinstance(op, QStridedSlice):
        return "STRIDED_SLICE -> " + "x".join(str(d) for d in op.output.shape)
    return ops.describe(op)


# ---------------------------------------------------------------------------------------
# Session state: Vela options, quantization table, decisions, verdict cache
# ---------------------------------------------------------------------------------------

class _Session(pc.Session):
    def __init__(self, options: VelaOptions, quant: dict):
        super().__init__()
        self.options = options
        self.quant = quant           # relax Var -> (scale, zero point) of the int8 value
        self.by_name = {v.name: q for v, q in quant.items()}
        self.bindings: dict = {}     # relax Var of main -> its bound value

    def producer(self, var):
        value = self.bindings.get(var)
        if value is None:
            value = next((v for k, v in self.bindings.items()
                          if k.name == getattr(var, "name", None)), None)
        return value

    def lookup(self, var):
        q = self.quant.get(var)
        return q if q is not None else self.by_name.get(getattr(var, "name", None))


_VERDICTS: dict[str, str | None] = {}


def vela_verdict(model: bytes, options: VelaOptions) -> str | None:
    """None when Vela runs the whole one-operator ``model`` on the NPU, else why not
    (cached per model bytes and options)."""
    from .vela import compile_vela
    key = hashlib.sha256(model).hexdigest() + options.key()
    if key not in _VERDICTS:
        try:
            res = compile_vela(model, options.accelerator, **options.kwargs())
            if res.cpu_operators:
                reason = "Vela keeps it on the CPU (" + \
                    ", ".join(c.type for c in res.cpu_operators) + ")"
            elif len(res.calls) != 1:
                reason = f"Vela made {len(res.calls)} NPU calls of it"
            else:
                reason = None
        except ByocError as err:
            reason = f"Vela: {err}"
        _VERDICTS[key] = reason
    return _VERDICTS[key]


def _quant_table(main: relax.Function) -> dict:
    """Quantization of every int8 value of ``main`` that a (de)quantize shows, propagated
    through the operators that keep it (pad, pools, reshape, int8 clip, astype pairs)."""
    table: dict = {}
    binds = {}
    for block in main.body.blocks:
        for b in block.bindings:
            binds[b.var] = b.value
    keep = ("relax.nn.pad", "relax.nn.max_pool2d", "relax.reshape", "relax.clip",
            "relax.nn.avg_pool2d", "relax.astype", "relax.strided_slice")

    def params(call):
        s, z = call.args[1], call.args[2]
        if not (_is_const(s) and _is_const(z)):
            return None
        s, z = P._np(s).reshape(-1), P._np(z).reshape(-1)
        return (float(s[0]), int(z[0])) if s.size == 1 and z.size == 1 else None

    for var, v in binds.items():
        if isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.Op):
            if v.op.name == "relax.quantize":
                q = params(v)
                if q:
                    table[var] = q
            elif v.op.name == "relax.dequantize" and isinstance(v.args[0], relax.Var):
                q = params(v)
                if q:
                    table.setdefault(v.args[0], q)
    propagate_quant(table, [(v.args[0], var) for var, v in binds.items()
                            if isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.Op)
                            and v.op.name in keep and isinstance(v.args[0], relax.Var)])
    return table


def propagate_quant(table: dict, edges: list) -> None:
    """Spread the quantization in ``table`` (value -> (scale, zero point)) along ``edges``,
    pairs (a, b) of values an operator keeps the quantization between, both ways, until
    nothing changes (in place)."""
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a in table and b not in table:
                table[b] = table[a]
                changed = True
            elif b in table and a not in table:
                table[a] = table[b]
                changed = True


def _check(kind: str, qnn_check, session: "_Session | None"):
    """The check of a ``kind`` match: refused without a session, else decided by Vela."""
    if session is None:
        return lambda ctx: False
    return pc.make_check(qnn_check, lambda ctx: _decide(kind, ctx, session), session)


#: kinds byoc never offers to Vela although Vela takes them (the NPU's result differs from
#: TFLM's), with the reason ``info`` shows
REFUSED = {"sum": "Vela 5.2's SUM is not bit-exact with TFLM (off by 1 over one axis, "
                  "miscompiled over two or more)"}


def npu_refusal(kind: str, op) -> str | None:
    """Why byoc does not offer ``op`` to Vela although Vela would take it: the NPU's
    result would differ from TFLM's (None: ask Vela)."""
    if kind == "relu6" and (op.input.scale, op.input.zero_point) != \
            (op.output.scale, op.output.zero_point):
        return ("TFLM's RELU6 keeps the input's quantization, the NPU rescales to the "
                "output's (they differ)")
    return REFUSED.get(kind)


def _decide(kind: str, ctx, session: _Session) -> Decision:
    from ..tflite.qnn_writer import single_op_tflite
    chain = MatchChain(ctx)
    try:
        op = extract(kind, chain)
        if kind in TRANSPARENT:
            set_transparent_quant(kind, op, session.lookup(chain.params[0]))
        desc = describe(op)
        reason = None if pc.internal_uses_only(ctx) else \
            "an intermediate value is used outside the chain"
        if getattr(op, "weight_zero_point", 0):
            # TFLM ignores a convolution's weight zero point; byoc's generic kernel does
            # the same, the NPU is not asked to
            reason = f"weight zero point {op.weight_zero_point} != 0"
        if "int16" in P.op_dtypes(op):
            reason = ("int16 operators are not offloaded to the NPU (byoc's Ethos-U path "
                      "is int8); CMSIS-NN or generic C computes them")
        if reason is None:
            reason = npu_refusal(kind, op)
        if reason is None:
            reason = vela_verdict(single_op_tflite(kind, op), session.options)
    except P.ExtractError as err:
        reason, desc = str(err), TFLITE_TYPES[kind]
    return Decision(kind, desc, reason,
                    operators=operator_indices(*ctx.matched_bindings.values()))


# ---------------------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------------------

def _annotate_quant(mod: tvm.IRModule) -> tvm.IRModule:
    """Record the input quantization of pool/PAD/RESHAPE composites (``ethosu.quant``),
    taken from the neighbouring chains (their dequantize/quantize) of the fused main."""
    main = mod["main"]
    table = _quant_table(main)
    transparent = []
    for block in main.body.blocks:
        for b in block.bindings:
            v = b.value
            if not (isinstance(v, relax.Call) and isinstance(v.op, tvm.ir.GlobalVar)):
                continue
            func = mod[v.op]
            if not isinstance(func, relax.Function) or func.attrs is None \
                    or "Composite" not in func.attrs:
                continue
            kind = str(func.attrs["Composite"])[len(PREFIX):]
            if kind in TRANSPARENT:
                transparent.append((v.op, v.args[0], b.var))
                continue
            try:
                op = extract(kind, P._Chain(func))
            except P.ExtractError:
                continue
            for t in P.operands(op):
                if t.source is not None and isinstance(v.args[t.source], relax.Var):
                    table.setdefault(v.args[t.source], (t.scale, t.zero_point))
            table.setdefault(b.var, (op.output.scale, op.output.zero_point))
    propagate_quant(table, [(src, dst) for _, src, dst in transparent])
    for gv, src, _ in transparent:
        if src in table:
            s, z = table[src]
            mod[gv] = mod[gv].with_attr("ethosu.quant", [repr(float(s)), int(z)])
    return mod


def _rename_codegen(mod: tvm.IRModule) -> tvm.IRModule:
    """MergeCompositeFunctions names the codegen after the pattern prefix ("ethosu"); the
    codegen is registered as ``relax.ext.ethos-u``."""
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function) and func.attrs is not None \
                and str(func.attrs.get("Codegen", "")) == PREFIX[:-1]:
            mod[gv] = func.with_attr("Codegen", CODEGEN)
    return mod


def partition_for_ethosu(mod: tvm.IRModule, accelerator: str = "ethos-u55-256", *,
                         system_config: str | None = None, memory_mode: str | None = None,
                         config_ini: str | None = None, optimise: str = "Performance",
                         report: list | None = None) -> tvm.IRModule:
    """Group every chain Vela runs on the Ethos-U55 ``accelerator`` into maximal
    ``Codegen="ethos-u"`` regions (see the module docstring). ``report`` receives one
    :class:`Decision` per checked candidate."""
    check_accelerator(accelerator)
    options = VelaOptions(accelerator, system_config, memory_mode, config_ini, optimise)
    # a bad system config / memory mode / vela.ini is reported once, before any pattern
    from .vela import _import_vela  # noqa: F401 - availability
    _probe_options(options)
    session = _Session(options, _quant_table(mod["main"]))
    session.bindings = {b.var: b.value for block in mod["main"].body.blocks
                        for b in block.bindings}
    out = PATTERNS.fuse(mod, session, annotate_codegen=False)
    if report is not None:
        report.extend(session.decisions)
    out = _annotate_quant(out)
    out = relax.transform.MergeCompositeFunctions()(out)
    return _rename_codegen(out)


def _probe_options(options: VelaOptions) -> None:
    from ..tflite.qnn_writer import single_op_tflite
    x = P.QTensor((1, 1, 1, 1), 1.0, 0, source=0)
    probe = single_op_tflite("reshape", QReshape(x, P.QTensor((1, 1), 1.0, 0)))
    from .vela import compile_vela
    try:
        compile_vela(probe, options.accelerator, **options.kwargs())
    except ByocError as err:
        if "configuration" in str(err) or "optimise" in str(err):
            raise
