"""Bit-exactness of the CMSIS-NN kernels byoc added for issue 16 (maximum / minimum, ...)
against TFLite Micro and, when ``BYOC_ARM_CMSIS_NN`` names Arm's checkouts, against Arm's own
implementation of the same functions.

Every case is a tiny single-operator TFLite model (``byoc.tflite.builder``) run in TFLM (the
golden reference) and the matching ``arm_*`` call made through ctypes on byoc's kernel library
(host portable path, built as a shared object with gcc -Wall -Wextra -Werror), with the kernel
arguments derived from the model's tensors and options. With Arm's sources the same call runs
on Arm's library (host build of its portable C sources) with the same inputs and both outputs
must be equal (and equal to TFLM's).

A bounded random sweep runs by default (a few shapes per operator); ``BYOC_FULL_SWEEP=1``
generates the full one (the case lists are built conditionally: no generated-then-skipped cases).
"""

from __future__ import annotations

import ctypes as C
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "kernels_c" / "test"))

import cmsis_nn_testlib as tl  # noqa: E402

from byoc.tflite.builder import ModelBuilder, Quant  # noqa: E402

FULL_SWEEP = os.environ.get("BYOC_FULL_SWEEP") == "1"
ARM_VAR = "BYOC_ARM_CMSIS_NN"


def sweep_size(bounded: int, full: int) -> int:
    """Cases per operator: ``bounded`` by default, ``full`` under BYOC_FULL_SWEEP=1."""
    return full if FULL_SWEEP else bounded


# ---------------------------------------------------------------------------------------
# Libraries: byoc's (always) and Arm's (each checkout BYOC_ARM_CMSIS_NN names)
# ---------------------------------------------------------------------------------------

def _build_so(sources, include: Path, out: Path, werror: bool) -> C.CDLL:
    flags = ["-Wall", "-Wextra", "-Werror"] if werror else ["-w"]
    cmd = ["gcc", "-O2", "-std=gnu99", *flags, "-fPIC", "-shared", "-I", str(include),
           *map(str, sources), "-o", str(out), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return C.CDLL(str(out))


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> C.CDLL:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    out = tmp_path_factory.mktemp("cmsis_nn_new") / "libbyoc_cmsisnn.so"
    return _build_so(tl.library_sources(), tl.LIB_DIR / "Include", out, werror=True)


def arm_source_files(tree: Path) -> list[Path]:
    """Arm's integer kernels' C sources (the float API of newer trees and bindings left out)."""
    return sorted(p for p in tree.glob("Source/*/*.c")
                  if p.parent.name != "Bindings" and not p.stem.endswith(("_f16", "_f32")))


@pytest.fixture(scope="module")
def arm_libs(tmp_path_factory) -> dict[str, C.CDLL]:
    """Arm's CMSIS-NN built for the host (portable path) per checkout; skips without them."""
    value = os.environ.get(ARM_VAR, "")
    if not value:
        pytest.skip(f"{ARM_VAR} is not set (path(s) of Arm CMSIS-NN checkouts, "
                    f"{os.pathsep}-separated)")
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    root = tmp_path_factory.mktemp("cmsis_nn_arm")
    libs = {}
    for i, tree in enumerate(Path(p) for p in value.split(os.pathsep) if p):
        libs[str(tree)] = _build_so(arm_source_files(tree), tree / "Include",
                                    root / f"libarm{i}.so", werror=False)
    return libs


# ---------------------------------------------------------------------------------------
# ctypes helpers
# ---------------------------------------------------------------------------------------

class Dims(C.Structure):
    _fields_ = [("n", C.c_int32), ("h", C.c_int32), ("w", C.c_int32), ("c", C.c_int32)]


class Context(C.Structure):
    _fields_ = [("buf", C.c_void_p), ("size", C.c_int32)]


def dims4(shape) -> Dims:
    """NHWC dims of a tensor of rank <= 4: missing leading dimensions are 1."""
    full = [1] * (4 - len(shape)) + [int(d) for d in shape]
    return Dims(*full)


def ptr(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(C.c_void_p)


@dataclass
class Case:
    """A model, its inputs, and the kernel call that should reproduce its output."""
    name: str
    model: bytes
    inputs: list[np.ndarray]
    call: Callable[[C.CDLL], tuple[int, np.ndarray]]


def _check_tflm(case: Case, lib: C.CDLL) -> None:
    expected = tl.tflm_run(case.model, case.inputs)
    status, out = case.call(lib)
    assert status == 0, (case.name, status)
    assert np.array_equal(out.reshape(-1), expected.reshape(-1)), \
        f"{case.name}: {int(np.sum(out.reshape(-1) != expected.reshape(-1)))} elements differ"


def _check_arm(case: Case, lib: C.CDLL, arm_libs: dict[str, C.CDLL]) -> None:
    status, ours = case.call(lib)
    assert status == 0
    for tree, arm in arm_libs.items():
        arm_status, theirs = case.call(arm)
        assert arm_status == 0, (tree, case.name, arm_status)
        assert np.array_equal(ours, theirs), \
            f"{case.name} vs Arm {tree}: {int(np.sum(ours != theirs))} elements differ"


# ---------------------------------------------------------------------------------------
# MAXIMUM / MINIMUM (int8, broadcasting)
# ---------------------------------------------------------------------------------------

def _broadcast_shapes(rng, rank: int):
    out = [int(d) for d in rng.integers(1, 7, size=rank)]
    a = [d if rng.random() < 0.6 else 1 for d in out]
    b = [d if rng.random() < 0.6 else 1 for d in out]
    for i in range(rank):      # the output dimension is the larger of the two
        if a[i] == 1 and b[i] == 1:
            out[i] = 1
    return a, b, out


def minmax_case(op: str, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    a_shape, b_shape, out_shape = _broadcast_shapes(rng, rank)
    if seed % 4 == 0:          # equal shapes: the flat path
        a_shape = b_shape = out_shape
    scale, zp = float(np.float32(rng.uniform(0.01, 0.1))), int(rng.integers(-20, 21))
    mb = ModelBuilder()
    q = Quant.per_tensor(scale, zp)
    ai = mb.add_tensor("a", a_shape, np.int8, quant=q)
    bi = mb.add_tensor("b", b_shape, np.int8, quant=q)
    yi = mb.add_tensor("y", out_shape, np.int8, quant=q)
    mb.add_operator(op, [ai, bi], [yi], "MaximumMinimumOptions", {})
    mb.set_io([ai, bi], [yi])
    a = rng.integers(-128, 128, size=a_shape).astype(np.int8)
    b = rng.integers(-128, 128, size=b_shape).astype(np.int8)

    def call(library):
        out = np.zeros(out_shape, np.int8)
        fn = library.arm_maximum_s8 if op == "MAXIMUM" else library.arm_minimum_s8
        ctx = Context(None, 0)
        status = fn(C.byref(ctx), ptr(a), C.byref(dims4(a_shape)), ptr(b), C.byref(dims4(b_shape)),
                    ptr(out), C.byref(dims4(out_shape)))
        return status, out

    return Case(f"{op.lower()}-{seed} {a_shape}x{b_shape}", mb.build(), [a, b], call)


# ---------------------------------------------------------------------------------------
# PAD / PADV2 (int8)
# ---------------------------------------------------------------------------------------

def pad_case(op: str, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 6, size=rank)]
    pads = [[int(p) for p in rng.integers(0, 3, size=2)] for _ in range(rank)]
    out_shape = [d + p0 + p1 for d, (p0, p1) in zip(shape, pads)]
    scale, zp = float(np.float32(rng.uniform(0.01, 0.1))), int(rng.integers(-30, 31))
    q = Quant.per_tensor(scale, zp)
    mb = ModelBuilder()
    xi = mb.add_tensor("x", shape, np.int8, quant=q)
    pi = mb.add_tensor("paddings", (rank, 2), np.int32, np.array(pads, np.int32))
    yi = mb.add_tensor("y", out_shape, np.int8, quant=q)
    pad_value = zp
    if op == "PADV2":
        pad_value = int(rng.integers(-128, 128))
        vi = mb.add_tensor("value", (1,), np.int8, np.array([pad_value], np.int8), q)
        mb.add_operator("PADV2", [xi, pi, vi], [yi], "PadV2Options", {})
    else:
        mb.add_operator("PAD", [xi, pi], [yi], "PadOptions", {})
    mb.set_io([xi], [yi])
    x = rng.integers(-128, 128, size=shape).astype(np.int8)
    lead = [[0, 0]] * (4 - rank)
    pre = Dims(*[p[0] for p in lead + pads])
    post = Dims(*[p[1] for p in lead + pads])

    def call(library):
        out = np.zeros(out_shape, np.int8)
        library.arm_pad_s8.argtypes = [C.c_void_p, C.c_void_p, C.c_int8, C.c_void_p, C.c_void_p,
                                       C.c_void_p]
        status = library.arm_pad_s8(ptr(x), ptr(out), pad_value, C.byref(dims4(shape)),
                                    C.byref(pre), C.byref(post))
        return status, out

    return Case(f"{op.lower()}-{seed} {shape} {pads}", mb.build(), [x], call)


# ---------------------------------------------------------------------------------------
# TRANSPOSE (int8)
# ---------------------------------------------------------------------------------------

class TransposeParams(C.Structure):
    _fields_ = [("num_dims", C.c_int32), ("permutations", C.c_void_p)]


def dims_first(shape) -> Dims:
    """cmsis_nn_dims of arm_transpose_s8: the sizes fill n, h, w, c from the first field."""
    return Dims(*([int(d) for d in shape] + [1] * (4 - len(shape))))


def transpose_case(seed: int, perm=None, shape=None) -> Case:
    rng = np.random.default_rng(seed)
    if shape is None:
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 7, size=rank)]
    rank = len(shape)
    if perm is None:           # rank 2: the swap (Arm's 2-D path ignores the permutation)
        perm = [1, 0] if rank == 2 else [int(p) for p in rng.permutation(rank)]
    out_shape = [shape[p] for p in perm]
    q = Quant.per_tensor(0.05, int(rng.integers(-10, 11)))
    mb = ModelBuilder()
    xi = mb.add_tensor("x", shape, np.int8, quant=q)
    pi = mb.add_tensor("perm", (rank,), np.int32, np.array(perm, np.int32))
    yi = mb.add_tensor("y", out_shape, np.int8, quant=q)
    mb.add_operator("TRANSPOSE", [xi, pi], [yi], "TransposeOptions", {})
    mb.set_io([xi], [yi])
    x = rng.integers(-128, 128, size=shape).astype(np.int8)
    perm_arr = np.array(perm, np.uint32)

    def call(library):
        out = np.zeros(out_shape, np.int8)
        params = TransposeParams(rank, ptr(perm_arr))
        status = library.arm_transpose_s8(ptr(x), ptr(out), C.byref(dims_first(shape)),
                                          C.byref(dims_first(out_shape)), C.byref(params))
        return status, out

    return Case(f"transpose-{seed} {shape} perm {perm}", mb.build(), [x], call)


# ---------------------------------------------------------------------------------------
# TANH / LOGISTIC (int16, every input value)
# ---------------------------------------------------------------------------------------

# input scale 2^(left_shift - 12); the full sweep adds the ends of the range byoc calls it
# with (TFLM's shift 0..31 on the multiplier 3 * 2^13: left_shift 13 .. -18)
ACT_S16_SHIFTS = [1, 0, -1, -2, -3] + ([13, 5, 2, -8, -18] if FULL_SWEEP else [])


def activation_s16_case(op: str, left_shift: int) -> Case:
    scale = 2.0 ** (left_shift - 12)
    x = np.arange(-32768, 32768, dtype=np.int16)
    mb = ModelBuilder()
    xi = mb.add_tensor("x", x.shape, np.int16, quant=Quant.per_tensor(scale, 0))
    yi = mb.add_tensor("y", x.shape, np.int16, quant=Quant.per_tensor(1.0 / 32768.0, 0))
    mb.add_operator(op, [xi], [yi])
    mb.set_io([xi], [yi])
    kind = 1 if op == "TANH" else 0   # arm_nn_activation_type: ARM_SIGMOID 0, ARM_TANH 1

    def call(library):
        out = np.zeros_like(x)
        library.arm_nn_activation_s16.argtypes = [C.c_void_p, C.c_void_p, C.c_int32, C.c_int32,
                                                  C.c_int]
        status = library.arm_nn_activation_s16(ptr(x), ptr(out), x.size, left_shift, kind)
        return status, out

    return Case(f"{op.lower()}-s16 left_shift {left_shift}", mb.build(), [x], call)


# ---------------------------------------------------------------------------------------
# TRANSPOSE_CONV (int8, per-channel weights)
# ---------------------------------------------------------------------------------------

class TConvParams(C.Structure):
    _fields_ = [("input_offset", C.c_int32), ("output_offset", C.c_int32),
                ("stride", C.c_int32 * 2), ("padding", C.c_int32 * 2),
                ("padding_offsets", C.c_int32 * 2), ("dilation", C.c_int32 * 2),
                ("activation", C.c_int32 * 2)]   # tiles are {w, h}; activation {min, max}


class PerChannel(C.Structure):
    _fields_ = [("multiplier", C.c_void_p), ("shift", C.c_void_p)]


def tconv_geometry(size: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """TRANSPOSE_CONV output size and TFLite's padding_values (before, odd part) per axis."""
    out = size * stride if padding == "SAME" else (size - 1) * stride + k
    total = max((size - 1) * stride + k - out, 0)
    return out, total // 2, total % 2


def _tconv_random(rng):
    return dict(n=int(rng.choice([1, 1, 2])), h=int(rng.integers(1, 6)), w=int(rng.integers(1, 6)),
                c_in=int(rng.choice([1, 3, 8, 17, 20])), c_out=int(rng.integers(1, 9)),
                kh=int(rng.integers(1, 5)), kw=int(rng.integers(1, 5)),
                sh=int(rng.integers(1, 4)), sw=int(rng.integers(1, 4)),
                padding=str(rng.choice(["SAME", "VALID"])), bias=bool(rng.random() < 0.7),
                activation=str(rng.choice(["NONE", "NONE", "RELU", "RELU6"])))


def tconv_case(seed: int, wrapper: bool = True) -> Case:
    from byoc import cmsisnn_params as cp
    from byoc.tflite.builder import ACTIVATIONS

    rng = np.random.default_rng(seed)
    g = _tconv_random(rng)
    oh, ph, ph_odd = tconv_geometry(g["h"], g["kh"], g["sh"], g["padding"])
    ow, pw, pw_odd = tconv_geometry(g["w"], g["kw"], g["sw"], g["padding"])
    in_scale, in_zp = float(np.float32(rng.uniform(0.01, 0.05))), int(rng.integers(-20, 21))
    w_scales = (0.01 * rng.uniform(0.5, 2.0, size=g["c_out"])).astype(np.float32)
    out_scale = float(np.float32(in_scale * float(np.mean(w_scales)) * 40.0 *
                                 np.sqrt(g["c_in"] * g["kh"] * g["kw"]) * rng.uniform(0.5, 1.5)))
    out_zp = int(rng.integers(-20, 21))
    wts = rng.integers(-127, 128, size=(g["c_out"], g["kh"], g["kw"], g["c_in"])).astype(np.int8)
    bias = rng.integers(-3000, 3001, size=g["c_out"]).astype(np.int32)
    act = None if g["activation"] == "NONE" else g["activation"]

    mb = ModelBuilder()
    out_shape = (g["n"], oh, ow, g["c_out"])
    si = mb.add_tensor("output_shape", (4,), np.int32, np.array(out_shape, np.int32))
    wi = mb.add_tensor("w", wts.shape, np.int8, wts, Quant([float(v) for v in w_scales],
                                                           [0] * g["c_out"], 0))
    xi = mb.add_tensor("x", (g["n"], g["h"], g["w"], g["c_in"]), np.int8,
                       quant=Quant.per_tensor(in_scale, in_zp))
    bi = (mb.add_tensor("b", bias.shape, np.int32, bias,
                        Quant([float(np.float32(in_scale * float(v))) for v in w_scales],
                              [0] * g["c_out"])) if g["bias"] else -1)
    yi = mb.add_tensor("y", out_shape, np.int8, quant=Quant.per_tensor(out_scale, out_zp))
    import tflite
    mb.add_operator("TRANSPOSE_CONV", [si, wi, xi, bi], [yi], "TransposeConvOptions",
                    {"Padding": getattr(tflite.Padding, g["padding"]), "StrideW": g["sw"],
                     "StrideH": g["sh"], "FusedActivationFunction": ACTIVATIONS[act]})
    mb.set_io([xi], [yi])
    x = rng.integers(-128, 128, size=(g["n"], g["h"], g["w"], g["c_in"])).astype(np.int8)
    q = cp.conv_quant(in_scale, in_zp, w_scales, out_scale, out_zp, act)
    mult = np.ascontiguousarray(q.multiplier, np.int32)
    shift = np.ascontiguousarray(q.shift, np.int32)
    params = TConvParams(q.input_offset, q.output_offset, (g["sw"], g["sh"]), (pw, ph),
                         (pw_odd, ph_odd), (1, 1), (q.act_min, q.act_max))
    in_dims, f_dims = Dims(g["n"], g["h"], g["w"], g["c_in"]), Dims(*wts.shape)
    o_dims, b_dims = Dims(*out_shape), Dims(1, 1, 1, g["c_out"])

    def call(library):
        size = library.arm_transpose_conv_s8_get_buffer_size(C.byref(params), C.byref(in_dims),
                                                             C.byref(f_dims), C.byref(o_dims))
        rsize = library.arm_transpose_conv_s8_get_reverse_conv_buffer_size(
            C.byref(params), C.byref(in_dims), C.byref(f_dims))
        # Arm's kernel (non-reverse path) writes max(KH, stride.h) rows of
        # ((W - 1) * stride.w + max(KW, stride.w)) * C_OUT int32 values, more than its size
        # function's stride.h-based answer when stride.w is the larger: allocate that much
        rows = max(g["kh"], g["sh"]) * ((g["w"] - 1) * g["sw"] + max(g["kw"], g["sw"])) * g["c_out"]
        buf = np.zeros(max(size, 4 * rows, 4), np.int8)
        rbuf = np.zeros(max(rsize, 4), np.int8)
        ctx, rctx = Context(ptr(buf), size), Context(ptr(rbuf), rsize)
        out = np.zeros(out_shape, np.int8)
        fn = library.arm_transpose_conv_wrapper_s8 if wrapper else library.arm_transpose_conv_s8
        status = fn(C.byref(ctx), C.byref(rctx), C.byref(params), C.byref(PerChannel(ptr(mult), ptr(shift))),
                    C.byref(in_dims), ptr(x), C.byref(f_dims), ptr(wts), C.byref(b_dims),
                    ptr(bias) if g["bias"] else None, C.byref(o_dims), ptr(out))
        return status, out

    return Case(f"transpose_conv-{seed} {g}", mb.build(), [x], call)


# ---------------------------------------------------------------------------------------
# BATCH_MATMUL (int8, int16) in the kernel layout: lhs [n, h, M, K], rhs [n, h, N, K]
# ---------------------------------------------------------------------------------------

class FcParams(C.Structure):
    _fields_ = [("input_offset", C.c_int32), ("filter_offset", C.c_int32),
                ("output_offset", C.c_int32), ("act_min", C.c_int32), ("act_max", C.c_int32)]


class BmmParams(C.Structure):
    _fields_ = [("adj_x", C.c_bool), ("adj_y", C.c_bool), ("fc_params", FcParams)]


class PerTensorQuant(C.Structure):
    _fields_ = [("multiplier", C.c_int32), ("shift", C.c_int32)]


def bmm_case(seed: int, dtype=np.int8) -> Case:
    """TFLite BATCH_MATMUL with adj_y (its RHS is then the kernel's transposed layout), batch
    dimensions n, h broadcast on either side; int16 with zero points 0 and a requantization
    inside Arm's 32-bit rounding range (cmsisnn_params.batch_matmul_s16_exact)."""
    from byoc import cmsisnn_params as cp
    from byoc.qnn import quant_math as qm
    rng = np.random.default_rng(seed)
    m, k, n = (int(v) for v in rng.integers(1, 12, size=3))
    out_nh = [int(v) for v in rng.integers(1, 4, size=2)]
    a_nh, b_nh = ([d if rng.random() < 0.6 else 1 for d in out_nh] for _ in range(2))
    out_nh = [max(x, y) for x, y in zip(a_nh, b_nh)]
    info = np.iinfo(dtype)
    s16 = dtype == np.int16
    zps = [0, 0, 0] if s16 else [int(v) for v in rng.integers(-128, 128, size=3)]
    scales = [float(np.float32(rng.uniform(0.01, 0.1))) for _ in range(2)]
    while True:
        out_scale = float(np.float32(scales[0] * scales[1] * rng.uniform(1, 40) *
                                     (8192 if s16 else 1)))
        real = scales[0] * scales[1] / out_scale
        mult, shift = qm.quantize_multiplier(real)
        if not s16 or cp.batch_matmul_s16_exact(k, mult, shift):
            break
    mb = ModelBuilder()
    shapes = [(*a_nh, m, k), (*b_nh, n, k), (*out_nh, m, n)]
    ids = [mb.add_tensor(name, shape, dtype, quant=Quant.per_tensor(sc, zp))
           for name, shape, sc, zp in zip("aby", shapes, scales + [out_scale], zps)]
    mb.add_operator("BATCH_MATMUL", ids[:2], ids[2:], "BatchMatMulOptions",
                    {"AdjX": False, "AdjY": True})
    mb.set_io(ids[:2], ids[2:])
    a, b = (rng.integers(info.min, info.max + 1, size=sh).astype(dtype) for sh in shapes[:2])

    def call(library):
        out = np.zeros(shapes[2], dtype)
        params = BmmParams(False, True, FcParams(-zps[0], -zps[1], zps[2], info.min, info.max))
        ctx_buf = np.zeros(max(n, 1), np.int32)      # Arm's Helium kernel sums (4 * N bytes)
        ctx = Context(ctx_buf.ctypes.data_as(C.c_void_p), ctx_buf.nbytes)
        fn = library.arm_batch_matmul_s16 if s16 else library.arm_batch_matmul_s8
        dims = [dims4(sh) for sh in shapes]
        status = fn(C.byref(ctx), C.byref(params), C.byref(PerTensorQuant(mult, shift)),
                    C.byref(dims[0]), ptr(a), C.byref(dims[1]), ptr(b), C.byref(dims[2]), ptr(out))
        return status, out

    return Case(f"batch_matmul_{'s16' if s16 else 's8'}-{seed} {shapes}", mb.build(), [a, b], call)


# ---------------------------------------------------------------------------------------
# The case lists and the tests
# ---------------------------------------------------------------------------------------

CASE_FACTORIES: dict[str, Callable[[int], Case]] = {
    "maximum": lambda seed: minmax_case("MAXIMUM", seed),
    "minimum": lambda seed: minmax_case("MINIMUM", seed),
    "pad": lambda seed: pad_case("PAD", seed),
    "padv2": lambda seed: pad_case("PADV2", seed),
    "transpose": transpose_case,
    "tanh_s16": lambda i: activation_s16_case("TANH", ACT_S16_SHIFTS[i]),
    "logistic_s16": lambda i: activation_s16_case("LOGISTIC", ACT_S16_SHIFTS[i]),
    "transpose_conv": tconv_case,
    "transpose_conv_direct": lambda seed: tconv_case(seed, wrapper=False),
    "batch_matmul_s8": bmm_case,
    "batch_matmul_s16": lambda seed: bmm_case(seed, np.int16),
}
SWEEP = {"maximum": sweep_size(6, 60), "minimum": sweep_size(6, 60), "pad": sweep_size(4, 40),
         "padv2": sweep_size(4, 40), "transpose": sweep_size(6, 60),
         "tanh_s16": len(ACT_S16_SHIFTS), "logistic_s16": len(ACT_S16_SHIFTS),
         "transpose_conv": sweep_size(8, 80), "transpose_conv_direct": sweep_size(3, 30),
         "batch_matmul_s8": sweep_size(6, 60), "batch_matmul_s16": sweep_size(4, 40)}
# the activation cases are indexed by their shift (exhaustive over the int16 inputs already)
_SEED_BASE = {op: 0 if op.endswith("_s16") else 1000 * k for k, op in enumerate(CASE_FACTORIES)}
CASE_IDS = [(op, _SEED_BASE[op] + s) for op in CASE_FACTORIES for s in range(SWEEP[op])]


@pytest.mark.parametrize("op,seed", CASE_IDS, ids=[f"{op}-{s}" for op, s in CASE_IDS])
def test_bit_exact_with_tflm(lib, op, seed):
    """byoc's kernel reproduces TFLM's output of the one-operator model exactly."""
    _check_tflm(CASE_FACTORIES[op](seed), lib)


@pytest.mark.parametrize("op,seed", CASE_IDS, ids=[f"{op}-{s}" for op, s in CASE_IDS])
def test_equal_to_arm(lib, arm_libs, op, seed):
    """Same call, same inputs: byoc's output equals Arm's CMSIS-NN's (each checkout)."""
    _check_arm(CASE_FACTORIES[op](seed), lib, arm_libs)


def test_minmax_rejects_mismatched_dims(lib):
    """An input dimension that is neither the output's nor 1 is an argument error."""
    a = np.zeros(6, np.int8)
    out = np.zeros(6, np.int8)
    status = lib.arm_maximum_s8(None, ptr(a), C.byref(Dims(1, 1, 2, 3)), ptr(a),
                                C.byref(Dims(1, 1, 3, 2)), ptr(out), C.byref(Dims(1, 1, 3, 3)))
    assert status == -1


@pytest.mark.parametrize("shape", [[3, 5], [4, 1]])
def test_transpose_2d_identity_is_a_copy(lib, shape):
    """TRANSPOSE of a 2-D tensor with the identity permutation (byoc applies the permutation
    for 2-D too; Arm's 2-D path always swaps)."""
    _check_tflm(transpose_case(77, perm=[0, 1], shape=shape), lib)


def _tconv_size_queries(count: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        g = _tconv_random(rng)
        g["c_in"] = int(rng.integers(1, 40))
        oh, ph, ph_odd = tconv_geometry(g["h"], g["kh"], g["sh"], g["padding"])
        ow, pw, pw_odd = tconv_geometry(g["w"], g["kw"], g["sw"], g["padding"])
        params = TConvParams(0, 0, (g["sw"], g["sh"]), (pw, ph), (pw_odd, ph_odd), (1, 1), (-128, 127))
        out.append((params, Dims(g["n"], g["h"], g["w"], g["c_in"]),
                    Dims(g["c_out"], g["kh"], g["kw"], g["c_in"]), Dims(g["n"], oh, ow, g["c_out"])))
    return out


def _tconv_sizes(library, q):
    params, in_dims, f_dims, o_dims = q
    return (library.arm_transpose_conv_s8_get_buffer_size(C.byref(params), C.byref(in_dims),
                                                          C.byref(f_dims), C.byref(o_dims)),
            library.arm_transpose_conv_s8_get_reverse_conv_buffer_size(
                C.byref(params), C.byref(in_dims), C.byref(f_dims)))


def test_transpose_conv_buffer_sizes_equal_arm(lib, arm_libs):
    """arm_transpose_conv_s8_get_buffer_size / _get_reverse_conv_buffer_size give Arm's answers
    (host build: the portable path) for random geometries, both sides of the reverse-conv rule."""
    queries = _tconv_size_queries(sweep_size(200, 2000), 91)
    for tree, arm in arm_libs.items():
        bad = [i for i, q in enumerate(queries) if _tconv_sizes(lib, q) != _tconv_sizes(arm, q)]
        assert not bad, f"{len(bad)} of {len(queries)} geometries differ from {tree}"
