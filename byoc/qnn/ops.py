"""The operator spec: one :class:`OpSpec` per quantized TFLite operator form, and every
per-operator table of the compiler derived from it.

Vocabulary (used the same way everywhere in byoc):

* ``kind`` - the byoc.qnn pattern name of an operator form, lower case: ``"conv2d"``,
  ``"quantize_float"``. Composite functions are named ``byoc.qnn.<kind>`` (``cmsisnn.<kind>``,
  ``ethosu.<kind>`` in the backends' partitions), the generic kernels carry it as the
  PrimFunc attribute ``byoc.kind``, the partition decisions as ``Decision.kind``.
* ``op_type`` - the TFLite operator type, upper case: ``"CONV_2D"``. The parameter
  dataclasses of :mod:`byoc.qnn.patterns` carry it as ``op.op_type`` (one exception:
  ``"QUANTIZE_FLOAT"``, the dataclass of a QUANTIZE whose input is float).

One TFLite operator usually has one kind; QUANTIZE has two (``quantize`` between integer
types, ``quantize_float`` from float32). A spec holds everything byoc knows about the form:
its frontend chain (patterns + check), the parameter extraction into a dataclass, the
integer kernel builder of the generic C path (:mod:`byoc.qnn.kernels_te`), the activation
dtypes that kernel is bit-exact for, and the per-backend hooks: the CMSIS-NN function per
activation dtype, whether the Ethos-U partition asks Vela about it, and whether its
operands carry no quantization in the Relax graph (``transparent``: pools and PAD keep
their input's, which the Ethos-U partition looks up around them).

Adding an operator: one :class:`OpSpec` in :data:`SPECS` (see ARCHITECTURE.md, "How to add
an operator").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from tvm import relax
from tvm.relax.backend.pattern_registry import get_patterns_with_prefix, register_patterns
from tvm.relax.dpl import DFPattern

from . import kernels_te as K
from . import patterns as P

PREFIX = P.PREFIX
INT8 = ("int8",)
INT8_INT16 = ("int8", "int16")


@dataclass(frozen=True)
class OpSpec:
    """Everything byoc knows about one quantized operator form (see the module docstring)."""

    kind: str                                      # byoc.qnn pattern name ("conv2d")
    op_type: str                                   # TFLite operator type ("CONV_2D")
    patterns: Callable[[], list[DFPattern]]        # the frontend chains, longest first
    check: Callable[[Any], bool] | None            # FuseOpsByPattern check of a match
    extract: Callable[[Any], Any]                  # P._Chain -> parameter dataclass
    kernel: Callable[[Any], K.Kernel]              # dataclass -> generic integer kernel
    #: activation dtypes the generic kernel is bit-exact with TFLM for (int16: "16x8")
    dtypes: tuple[str, ...] = INT8
    #: PrimFunc name stem of the generic kernel (``<kernel_name>_<n>``); "q" + kind if empty
    kernel_name: str = ""
    #: cmsis-nn backend: activation dtype -> the CMSIS-NN function that computes it
    cmsis_nn: Mapping[str, str] = field(default_factory=dict)
    #: ethos-u backend: the partition asks Vela whether the NPU runs it (int8 only)
    ethos_u: bool = False
    #: operands without quantization in the Relax graph (they keep the input's)
    transparent: bool = False
    #: the TVM frontend's chain for this operator (documentation, FRONTEND_CHAINS)
    chain: str = ""
    #: short report label of a dataclass, e.g. "CONV_2D 3x3 s1" (default: op_type)
    describe: Callable[[Any], str] | None = None
    #: activation dtype of a matched chain for the dtype guard (default: its root's; the
    #: SVDF state update's root is the state, int16 in an int8 model)
    activation: Callable[[Any], str] | None = None
    #: cmsis-nn backend: (patterns, extractor) of a longer chain its kernel computes in one
    #: call instead of the generic one (SVDF: state update and output); None: the same
    cmsis_nn_chain: tuple[Callable[[], list[DFPattern]], Callable[[Any], Any]] | None = None

    @property
    def c_name(self) -> str:
        return self.kernel_name or "q" + self.kind

    def extract_op(self, chain) -> Any:
        """The parameter dataclass of a matched chain (``P.ExtractError`` when byoc's
        kernels cannot compute it). The dtype guard comes first: an int16 chain of an
        int8-only operator is refused here, by name, whatever its other parameters."""
        dtype = (self.activation(chain) if self.activation is not None
                 else str(chain.root.ty.dtype))
        if dtype in P.INT_DTYPES and dtype not in self.dtypes:
            raise P.ExtractError(f"{dtype} {self.op_type} has no integer kernel on the "
                                 f"generic path (byoc and TFLM: {', '.join(self.dtypes)})")
        return self.extract(chain)


# ---------------------------------------------------------------------------------------
# Report labels
# ---------------------------------------------------------------------------------------

def _strides(op) -> str:
    s = f"s{op.strides[0]}"
    return s + (f"x{op.strides[1]}" if op.strides[1] != op.strides[0] else "")


def _describe_conv(op) -> str:
    kh, kw = op.weight.shape[1:3]
    s = f"{op.op_type} {kh}x{kw} {_strides(op)}"
    if op.dilation != (1, 1):
        s += f" d{op.dilation[0]}"
    if getattr(op, "depth_multiplier", 1) != 1:
        s += f" m{op.depth_multiplier}"
    return s


def _describe_transpose_conv(op) -> str:
    kh, kw = op.weight.shape[1:3]
    return f"{op.op_type} {kh}x{kw} s{op.strides[0]}"


def _describe_fc(op) -> str:
    return f"{op.op_type} {op.weight.shape[1]}->{op.weight.shape[0]}"


def _describe_bmm(op) -> str:
    m = op.lhs.shape[-1] if op.adj_x else op.lhs.shape[-2]
    n = op.rhs.shape[-2] if op.adj_y else op.rhs.shape[-1]
    adj = "".join(f" {a}" for a, on in (("adj_x", op.adj_x), ("adj_y", op.adj_y)) if on)
    return f"{op.op_type} {m}x{op.depth}x{n}{adj}"


def _describe_pool(op) -> str:
    return f"{op.op_type} {op.pool_size[0]}x{op.pool_size[1]} s{op.strides[0]}"


def _describe_reduction(op) -> str:
    return f"{op.op_type} axes={list(op.axes)}"


def _describe_concat(op) -> str:
    return f"{op.op_type} x{len(op.inputs)} axis={op.axis}"


# ---------------------------------------------------------------------------------------
# The specs (priority order: a longer chain before one it contains)
# ---------------------------------------------------------------------------------------

_CMSIS_CONV = {"int8": "arm_convolve_wrapper_s8", "int16": "arm_convolve_wrapper_s16"}
_CMSIS_DW = {"int8": "arm_depthwise_conv_wrapper_s8", "int16": "arm_depthwise_conv_wrapper_s16"}

SPECS: tuple[OpSpec, ...] = (
    # SVDF: two chains of one operator (byoc.frontend), the state update and the output
    OpSpec("svdf_state", "SVDF", P.svdf_state_patterns, P._check_int_root,
           P._extract_svdf_state, K.svdf_state, activation=lambda c: "int8",
           chain="byoc.frontend (stateless form of byoc.tflite.state): quantize(reshape("
                 "concat(strided_slice(reshape(dequantize(state))), expand_dims(matmul("
                 "dequantize(x), permute_dims(dequantize(W_feature))))))) -> the new state"),
    OpSpec("svdf", "SVDF", P.svdf_patterns, P._check_int8_root, P._extract_svdf, K.svdf,
           activation=lambda c: "int8", cmsis_nn={"int8": "arm_svdf_s8"},
           cmsis_nn_chain=(P.svdf_pair_patterns, P._extract_svdf_pair),
           chain="quantize(add(sum(reshape(sum(multiply(reshape(dequantize(new state)), "
                 "dequantize(W_time))))), dequantize(bias))) -> the output"),
    OpSpec("conv2d", "CONV_2D", lambda: P._conv_patterns(False), P._check_conv,
           lambda c: P._extract_conv(c, False), K.conv2d, INT8_INT16,
           cmsis_nn=_CMSIS_CONV, ethos_u=True, describe=_describe_conv,
           chain="dequantize(x) , dequantize(W_HWIO const, axis=3) -> nn.conv2d(NHWC, HWIO) "
                 "-> add(dequantize(bias)) -> quantize -> clip (only with a fused activation); "
                 "the stock converter crashes on a bias-less conv (fixed in byoc.frontend)"),
    OpSpec("depthwise_conv2d", "DEPTHWISE_CONV_2D", lambda: P._conv_patterns(True),
           P._check_depthwise, lambda c: P._extract_conv(c, True), K.depthwise_conv2d,
           INT8_INT16, cmsis_nn=_CMSIS_DW, ethos_u=True, describe=_describe_conv,
           chain="as CONV_2D, weight 1HWC dequantized on axis 3 then reshape to "
                 "(KH, KW, C*M, 1), kernel_layout HWOI, groups=C; per-tensor weights "
                 "are reshaped as a constant (no reshape op); C == 1 becomes an HWIO "
                 "conv with groups=1"),
    OpSpec("fully_connected", "FULLY_CONNECTED", P._fc_patterns, P._check_int_root,
           P._extract_fc, K.fully_connected, INT8_INT16,
           cmsis_nn={"int8": "arm_fully_connected_s8", "int16": "arm_fully_connected_s16"},
           ethos_u=True, describe=_describe_fc,
           chain="dequantize(x) -> matmul(., dequantize(permute_dims(W), axis=1)) -> "
                 "add(dequantize(bias)) -> quantize -> clip (fused activation only); "
                 "keep_num_dims adds a reshape after"),
    OpSpec("batch_matmul", "BATCH_MATMUL", P.batch_matmul_patterns, P._check_int_root,
           P._extract_batch_matmul, K.batch_matmul, INT8_INT16, describe=_describe_bmm,
           cmsis_nn={"int8": "arm_batch_matmul_s8", "int16": "arm_batch_matmul_s16"},
           ethos_u=True,
           chain="byoc.frontend: quantize(matmul(dequantize(lhs), dequantize(rhs))), an "
                 "operand wrapped in permute_dims (last two axes) for adj_x / adj_y; batch "
                 "dimensions broadcast by matmul (TVM's converter refuses quantized "
                 "BATCH_MATMUL)"),
    OpSpec("transpose_conv", "TRANSPOSE_CONV", P._transpose_conv_patterns,
           P._check_transpose_conv, P._extract_transpose_conv, K.transpose_conv,
           cmsis_nn={"int8": "arm_transpose_conv_wrapper_s8"},
           ethos_u=True, describe=_describe_transpose_conv),
    OpSpec("avg_pool2d", "AVERAGE_POOL_2D", P.avg_pool_patterns, P._check_avg_pool,
           lambda c: P.QAvgPool(**P._pool_common(c, "avg")), K.avg_pool2d, INT8_INT16,
           cmsis_nn={"int8": "arm_avgpool_s8", "int16": "arm_avgpool_s16"}, ethos_u=True,
           transparent=True, describe=_describe_pool,
           chain="astype(int32) -> nn.avg_pool2d(count_include_pad=False) -> "
                 "astype(int8) -> clip (fused activation only)"),
    OpSpec("max_pool2d", "MAX_POOL_2D", P.max_pool_patterns, P._check_int_root,
           lambda c: P.QMaxPool(**P._pool_common(c, "max")), K.max_pool2d, INT8_INT16,
           cmsis_nn={"int8": "arm_max_pool_s8", "int16": "arm_max_pool_s16"}, ethos_u=True,
           transparent=True, describe=_describe_pool,
           chain="nn.max_pool2d on int8 -> clip (fused activation only)"),
    OpSpec("softmax", "SOFTMAX", P.softmax_patterns, P._check_softmax, P._extract_softmax,
           K.softmax, INT8_INT16, cmsis_nn={"int8": "arm_softmax_s8", "int16": "arm_softmax_s16"},
           ethos_u=True,
           chain="dequantize -> nn.softmax(axis=-1) -> quantize (beta dropped by the stock "
                 "frontend; byoc.frontend inserts multiply(beta))"),
    OpSpec("add", "ADD", lambda: P._binary_patterns("relax.add"), P._check_int_root,
           lambda c: P._extract_binary(c, False), K.add, INT8_INT16,
           cmsis_nn={"int8": "arm_elementwise_add_s8", "int16": "arm_elementwise_add_s16"},
           ethos_u=True,
           chain="dequantize(a), dequantize(b) -> add -> nn.relu | clip(0,6) | clip(-1,1) "
                 "(float) -> quantize"),
    OpSpec("mul", "MUL", lambda: P._binary_patterns("relax.multiply"), P._check_int_root,
           lambda c: P._extract_binary(c, True), K.mul, INT8_INT16,
           cmsis_nn={"int8": "arm_elementwise_mul_s8", "int16": "arm_elementwise_mul_s16"},
           ethos_u=True, chain="as ADD with multiply"),
    OpSpec("mean", "MEAN", lambda: P.unary_patterns("relax.mean"), P._check_int_root,
           P._extract_mean, K.mean, INT8_INT16, ethos_u=True, describe=_describe_reduction,
           chain="dequantize -> mean(axis, keepdims) -> quantize"),
    OpSpec("sum", "SUM", lambda: P.unary_patterns("relax.sum"), P._check_int_root,
           lambda c: P._extract_mean(c, total=True), K.mean, INT8_INT16, ethos_u=True,
           describe=_describe_reduction),
    OpSpec("reduce_max", "REDUCE_MAX", lambda: P.unary_patterns("relax.max"),
           P._check_int_root, P._extract_reduce_max, K.reduce_max,
           describe=_describe_reduction),
    OpSpec("concatenation", "CONCATENATION", P.concat_patterns, P._check_int_root,
           P._extract_concat, K.concatenation, INT8_INT16, kernel_name="qconcat",
           ethos_u=True, describe=_describe_concat,
           chain="dequantize each -> concat -> quantize (-> clip; TFLM rejects fused "
                 "activations and mixed quantization on int8 concat)"),
    OpSpec("squared_difference", "SQUARED_DIFFERENCE", P.squared_difference_patterns,
           P._check_int_root, P._extract_squared_difference, K.squared_difference),
    OpSpec("sub", "SUB", lambda: P._binary_patterns("relax.subtract"), P._check_int_root,
           P._extract_sub, K.add, INT8_INT16, ethos_u=True),
    OpSpec("maximum", "MAXIMUM", lambda: P.elementwise_patterns("relax.maximum"),
           P._check_int_root, lambda c: P._extract_min_max(c, True), K.min_max, INT8_INT16,
           cmsis_nn={"int8": "arm_maximum_s8"}, ethos_u=True),
    OpSpec("minimum", "MINIMUM", lambda: P.elementwise_patterns("relax.minimum"),
           P._check_int_root, lambda c: P._extract_min_max(c, False), K.min_max, INT8_INT16,
           cmsis_nn={"int8": "arm_minimum_s8"}, ethos_u=True),
    OpSpec("hard_swish", "HARD_SWISH", P.hard_swish_patterns, P._check_int_root,
           P._extract_hard_swish, K.hard_swish, ethos_u=True),
    OpSpec("leaky_relu", "LEAKY_RELU", lambda: P.unary_patterns("relax.nn.leakyrelu"),
           P._check_int_root, P._extract_leaky_relu, K.leaky_relu, INT8_INT16, ethos_u=True),
    OpSpec("relu", "RELU", lambda: P.unary_patterns("relax.nn.relu"), P._check_int_root,
           P._extract_relu, K.relu, INT8_INT16),
    OpSpec("prelu", "PRELU", P.prelu_patterns, P._check_int8_root, P._extract_prelu,
           K.prelu, chain="byoc.frontend: dequantize(x), dequantize(alpha) -> "
                          "where(x >= 0, x, x * alpha) -> quantize"),
    # Vela 5.2 maps L2_NORMALIZATION (Op.L2Norm) but has no NPU lowering for it
    OpSpec("l2_normalization", "L2_NORMALIZATION", P.l2_normalization_patterns,
           P._check_int8_root, P._extract_l2_normalization, K.l2_normalization,
           kernel_name="ql2norm",
           chain="byoc.frontend: dequantize(x) -> x / sqrt(sum(x * x, axis=-1, keepdims)) "
                 "-> quantize"),
    OpSpec("abs", "ABS", lambda: P.unary_patterns("relax.abs"), P._check_int_root,
           P._extract_abs, K.abs_, INT8_INT16, kernel_name="qabs", ethos_u=True,
           chain="dequantize -> abs -> quantize"),
    # TFLM has no RELU_N1_TO_1 kernel: bit-exact with LiteRT's reference kernel instead
    OpSpec("relu_n1_to_1", "RELU_N1_TO_1", P.relu6_patterns, P._check_relu_n1_to_1,
           P._extract_relu_n1_to_1, K.relu, kernel_name="qrelu_n1_to_1",
           chain="dequantize -> clip(-1, 1) -> quantize"),
    OpSpec("relu6", "RELU6", P.relu6_patterns, P._check_relu6, P._extract_relu6, K.relu6,
           INT8_INT16, ethos_u=True),
    OpSpec("resize_bilinear", "RESIZE_BILINEAR", P.resize_bilinear_patterns, P._check_resize,
           lambda c: P._extract_resize(c, True), K.resize, ethos_u=True),
    OpSpec("resize_nearest", "RESIZE_NEAREST_NEIGHBOR", P.resize_nearest_patterns,
           P._check_resize, lambda c: P._extract_resize(c, False), K.resize, INT8_INT16),
    OpSpec("logistic", "LOGISTIC", lambda: P.unary_patterns("relax.sigmoid"),
           P._check_int_root, lambda c: P._extract_sigmoid_like(c, False), K.logistic,
           INT8_INT16, cmsis_nn={"int16": "arm_nn_activation_s16"}, ethos_u=True,
           chain="dequantize -> sigmoid -> quantize"),
    OpSpec("tanh", "TANH", lambda: P.unary_patterns("relax.tanh"), P._check_int_root,
           lambda c: P._extract_sigmoid_like(c, True), K.tanh, INT8_INT16,
           cmsis_nn={"int16": "arm_nn_activation_s16"}, ethos_u=True,
           chain="dequantize -> tanh -> quantize"),
    OpSpec("quantize", "QUANTIZE", P.requantize_patterns, P._check_requantize,
           P._extract_requantize, K.requantize, INT8_INT16, kernel_name="qrequantize",
           ethos_u=True,
           chain="int8->int8: dequantize -> quantize; float32->int8: quantize (TVM's "
                 "legalization rounds half to even, TFLite half away from zero)"),
    OpSpec("quantize_float", "QUANTIZE", P.float_quantize_patterns, P._check_float_quantize,
           P._extract_float_quantize, K.quantize_float, INT8_INT16, kernel_name="qquantize"),
    OpSpec("transpose", "TRANSPOSE", P.transpose_patterns, P._check_transpose,
           P._extract_transpose, K.transpose, INT8_INT16, cmsis_nn={"int8": "arm_transpose_s8"},
           transparent=True, chain="permute_dims(x, axes) on the integer tensor (a raw copy)"),
    OpSpec("pad", "PAD", P.pad_patterns, P._check_int_root, P._extract_pad, K.pad,
           INT8_INT16, cmsis_nn={"int8": "arm_pad_s8"}, ethos_u=True, transparent=True,
           chain="nn.pad on int8 with pad_value = zero point (quantized PAD is rejected by "
                 "the stock frontend's allow-list; byoc.frontend allows it)"),
)

BY_KIND: dict[str, OpSpec] = {s.kind: s for s in SPECS}
assert len(BY_KIND) == len(SPECS), "two specs share a kind"


# ---------------------------------------------------------------------------------------
# Derived tables
# ---------------------------------------------------------------------------------------

#: kind -> TFLite operator type
TFLITE_TYPES: dict[str, str] = {s.kind: s.op_type for s in SPECS}
#: Dataclass ``op_type`` of the operators whose generic kernel also takes int16 activations.
INT16_KINDS: frozenset[str] = frozenset(
    "QUANTIZE_FLOAT" if s.kind == "quantize_float" else s.op_type
    for s in SPECS if "int16" in s.dtypes)
#: TFLite chain of each operator as TVM's frontend writes it (plus two left to LegalizeOps).
FRONTEND_CHAINS: dict[str, str] = {
    **{s.op_type: s.chain for s in SPECS
       if s.chain and s.kind not in ("quantize_float", "svdf_state")},
    "DEQUANTIZE": "dequantize (float32 (x - zp) * scale: already exact, left to LegalizeOps)",
    "RESHAPE": "reshape on int8 (left to LegalizeOps)",
}


def spec(kind: str) -> OpSpec:
    """The spec of a byoc.qnn kind (``KeyError`` naming it when there is none)."""
    try:
        return BY_KIND[kind]
    except KeyError:
        raise KeyError(f"no byoc.qnn operator '{kind}'") from None


def op_type(kind: str) -> str:
    """TFLite operator type of ``kind``; an unknown kind upper-cased (backends' own kinds,
    e.g. the Ethos-U partition's ``reshape``)."""
    s = BY_KIND.get(kind)
    return s.op_type if s is not None else kind.upper()


def cmsis_kinds() -> list[str]:
    """The kinds CMSIS-NN has a kernel for, in priority order."""
    return [s.kind for s in SPECS if s.cmsis_nn]


def ethos_u_kinds() -> list[str]:
    """The kinds the Ethos-U partition asks Vela about, in priority order."""
    return [s.kind for s in SPECS if s.ethos_u]


# ---------------------------------------------------------------------------------------
# Patterns, extraction, kernels
# ---------------------------------------------------------------------------------------

def patterns() -> list[tuple[str, DFPattern, dict, Callable]]:
    """All patterns as (name, pattern, annotations, check), highest priority first, ready
    for ``FuseOpsByPattern`` (and for ``register_patterns`` after reversing)."""
    out = []
    for s in SPECS:
        for p in s.patterns():
            item = (PREFIX + s.kind, p, {"root": p})
            out.append(item + ((s.check,) if s.check is not None else ()))
    return out


_REGISTERED = [False]


def register() -> None:
    """Register the patterns in TVM's pattern registry under ``byoc.qnn.*`` (idempotent).

    The registry gives later entries higher priority, so the list is registered reversed;
    ``get_patterns_with_prefix("byoc.qnn.")`` then returns them highest priority first."""
    if not _REGISTERED[0]:
        register_patterns(list(reversed(patterns())))
        _REGISTERED[0] = True


def registered_patterns():
    register()
    return get_patterns_with_prefix(PREFIX)


def composite_kind(func: relax.Function) -> str | None:
    """``"conv2d"`` etc. for a ``byoc.qnn.*`` composite function, else None."""
    if func.attrs is None or "Composite" not in func.attrs:
        return None
    name = str(func.attrs["Composite"])
    return name[len(PREFIX):] if name.startswith(PREFIX) else None


def extract(func: relax.Function) -> P.QOp:
    """Parameters of a matched ``byoc.qnn.*`` composite function as a dataclass."""
    kind = composite_kind(func)
    if kind is None or kind not in BY_KIND:
        raise P.ExtractError(f"not a byoc.qnn composite function: {kind}")
    return BY_KIND[kind].extract_op(P._Chain(func))


def build_kernel(kind: str, op: P.QOp) -> K.Kernel:
    """The generic integer kernel of a parameter dataclass of ``kind``."""
    return BY_KIND[kind].kernel(op)


def describe(op: P.QOp) -> str:
    """Short human description for reports, e.g. ``"CONV_2D 3x3 s1"``."""
    for s in SPECS:
        if s.describe is not None and s.op_type == op.op_type:
            return s.describe(op)
    return op.op_type
