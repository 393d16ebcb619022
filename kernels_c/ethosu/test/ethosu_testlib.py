"""Test harness of byoc's functional Ethos-U55 model (kernels_c/ethosu).

Used by tests/test_ethosu_model.py:

* ``build_host_tools``: the host runner (``host_main.c``: one payload, one inference, files in
  and out), the weight-stream decoder tool (``mlw_main.c``) and the unit checks (``unit_main.c``:
  rounding modes, driver API), built with gcc -Werror, optionally with ASan/UBSan;
* ``run_npu``: compile nothing, just run a ``VelaResult`` through the model on the host, laying
  out the scratch area and the base addresses as TFLite Micro's ethos-u operator does;
* ``tflm_run``: the golden reference (TFLite Micro) on the ORIGINAL model;
* ``CASES``: single-operator and small multi-operator int8 models written with
  ``byoc.tflite.builder.LayerBuilder``;
* the Corstone-300 firmware (QEMU) that embeds cases and checks them on the target.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from byoc.ethosu.vela import VelaResult, compile_vela
from byoc.tflite.builder import LayerBuilder, ModelBuilder, Quant

HERE = Path(__file__).resolve().parent
MODEL_DIR = HERE.parent
SOURCES = sorted((MODEL_DIR / "src").glob("*.c"))
INCLUDE = MODEL_DIR / "include"
HOST_MAIN = HERE / "host_main.c"
MLW_MAIN = HERE / "mlw_main.c"
UNIT_MAIN = HERE / "unit_main.c"
FW_MAIN = HERE / "fw_main.c"
FW_PKG = HERE / "fw_pkg"

WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes"]
ACCELERATORS = ("ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256")


# ------------------------------------------------------------------------------ host tools

@dataclass
class HostTools:
    runner: Path
    mlw_decode: Path
    unit: Path


def build_host_tools(out_dir: Path, sanitize: bool = False) -> HostTools:
    """Build the host runner and the decoder tool (gcc, -Wall -Wextra -Werror)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-std=c11", "-O1" if sanitize else "-O2", "-g", *WARNINGS, f"-I{INCLUDE}",
             f"-I{MODEL_DIR / 'src'}"]
    if sanitize:
        flags += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer"]
    tools = HostTools(out_dir / "ethosu_host_run", out_dir / "ethosu_mlw_decode", out_dir / "ethosu_unit")
    for exe, main in ((tools.runner, HOST_MAIN), (tools.mlw_decode, MLW_MAIN), (tools.unit, UNIT_MAIN)):
        cmd = ["gcc", *flags, *map(str, SOURCES), str(main), "-o", str(exe)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building {exe.name} failed:\n{proc.stderr}")
    return tools


# ------------------------------------------------------------------------------ running

@dataclass
class NpuRun:
    ok: bool
    outputs: list[np.ndarray]
    returncode: int
    stdout: str
    stderr: str
    error_code: int = 0
    error_message: str = ""


def _parse_error(stdout: str) -> tuple[int, str]:
    for line in stdout.splitlines():
        if line.startswith("ETHOSU_ERROR"):
            rc = int(line.split("rc=")[1].split()[0])
            return rc, line.split("msg=", 1)[1] if "msg=" in line else ""
    return 0, ""


def run_npu(runner: Path, result: VelaResult, inputs: Sequence[np.ndarray], workdir: Path,
            payload: bytes | None = None, read_only: bytes | None = None,
            extra_args: Sequence[str] = (), timeout_s: float = 120.0) -> NpuRun:
    """Run the (single) NPU call of ``result`` on the host model.

    ``inputs`` follow the ORIGINAL model's input order (``result.inputs``); outputs likewise.
    ``payload``/``read_only`` override the command stream / blob (corruption tests).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    call = result.calls[0]
    (workdir / "payload.bin").write_bytes(call.command_stream if payload is None else payload)
    (workdir / "ro.bin").write_bytes(call.read_only if read_only is None else read_only)
    args = [str(runner), str(workdir / "payload.bin"), str(workdir / "ro.bin"),
            str(call.scratch_size)]
    for i, (t, x) in enumerate(zip(result.inputs, inputs)):
        f = workdir / f"in{i}.bin"
        f.write_bytes(np.ascontiguousarray(x, dtype=t.dtype).tobytes())
        args += ["--in", str(t.offset), str(f)]
    for i, t in enumerate(result.outputs):
        args += ["--out", str(t.offset), str(t.size), str(workdir / f"out{i}.bin")]
    args += list(extra_args)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
    outputs = []
    if proc.returncode == 0:
        for i, t in enumerate(result.outputs):
            outputs.append(np.fromfile(workdir / f"out{i}.bin", dtype=t.dtype).reshape(t.shape))
    code, msg = _parse_error(proc.stdout)
    return NpuRun(proc.returncode == 0, outputs, proc.returncode, proc.stdout, proc.stderr, code, msg)


def tflm_run(model: bytes, inputs: Sequence[np.ndarray], n_outputs: int = 1) -> list[np.ndarray]:
    """Run the model once in TFLite Micro (reference kernels): its first n_outputs outputs."""
    from tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model, arena_size=8 << 20)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [np.array(it.get_output(i)) for i in range(n_outputs)]


def random_inputs(result: VelaResult, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for t in result.inputs:
        info = np.iinfo(np.dtype(t.dtype))
        out.append(rng.integers(info.min, info.max + 1, size=t.shape).astype(t.dtype))
    return out


# ------------------------------------------------------------------------------ cases

@dataclass
class Case:
    """A TFLite model to compile with Vela and run on the model; ``tolerance`` is the
    documented maximum absolute difference from TFLM (0 = bit-exact)."""

    name: str
    build: Callable[[], bytes]
    tolerance: int = 0
    slow: bool = False
    note: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def _model(seed: int, shapes, fn) -> Callable[[], bytes]:
    def build() -> bytes:
        lb = LayerBuilder(seed=seed)
        xs = [lb.input(tuple(s)) for s in shapes]
        y = fn(lb, *xs)
        for t in (y if isinstance(y, (list, tuple)) else [y]):
            lb.output(t)
        return lb.build()
    return build


def _binary_model(op: str, s1, z1, s2, z2, so, zo, shape1, shape2) -> Callable[[], bytes]:
    """ADD/SUB/MUL/MAXIMUM/MINIMUM with explicit quantization (LayerBuilder picks its own)."""
    opts = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}

    def build() -> bytes:
        mb = ModelBuilder()
        a = mb.add_tensor("a", shape1, np.int8, quant=Quant.per_tensor(s1, z1))
        b = mb.add_tensor("b", shape2, np.int8, quant=Quant.per_tensor(s2, z2))
        y = mb.add_tensor("y", tuple(np.broadcast_shapes(shape1, shape2)), np.int8,
                          quant=Quant.per_tensor(so, zo))
        if op in opts:
            mb.add_operator(op, [a, b], [y], opts[op], {"FusedActivationFunction": 0})
        else:
            mb.add_operator(op, [a, b], [y])
        mb.set_io([a, b], [y])
        return mb.build()
    return build


def _conv_case(i, h, w, cin, cout, k, s, pad, dil, act, seed):
    return Case(f"conv_{i}_{h}x{w}x{cin}_k{k}s{s}{pad[0]}d{dil}_{cout}_{act or 'none'}",
                _model(seed, [(1, h, w, cin)],
                       lambda lb, x: lb.conv2d(x, cout, k, stride=s, padding=pad, dilation=dil,
                                               activation=act)),
                tags=("conv",))


def single_op_cases() -> list[Case]:
    c: list[Case] = []
    add = c.append
    # CONV_2D: 1x1, 3x3, strides 1-2, SAME/VALID, dilation, odd channel counts, activations
    add(_conv_case(0, 8, 8, 16, 24, 1, 1, "VALID", 1, None, 1))
    add(_conv_case(1, 9, 7, 3, 5, 3, 1, "SAME", 1, None, 2))
    add(_conv_case(2, 10, 11, 7, 13, 3, 2, "SAME", 1, "RELU", 3))
    add(_conv_case(3, 11, 9, 17, 9, 3, 2, "VALID", 1, "RELU6", 4))
    add(_conv_case(4, 12, 12, 5, 7, 3, 1, "SAME", 2, None, 5))
    add(_conv_case(5, 9, 10, 33, 70, 1, 2, "VALID", 1, None, 6))
    add(_conv_case(6, 7, 7, 1, 3, 5, 1, "SAME", 1, "RELU", 7))
    add(_conv_case(7, 6, 6, 64, 40, 3, 1, "SAME", 1, None, 8))
    add(_conv_case(8, 12, 12, 4, 8, 9, 1, "SAME", 1, None, 9))       # > 8x8: sub-kernels
    add(Case("conv_per_tensor", _model(10, [(1, 8, 8, 6)],
                                       lambda lb, x: lb.conv2d(x, 10, 3, per_channel=False)),
             tags=("conv",)))
    # DEPTHWISE_CONV_2D: multiplier 1-2, strides, dilation, padding
    add(Case("dw_3x3_s1_same", _model(11, [(1, 8, 8, 12)], lambda lb, x: lb.depthwise_conv2d(x, 3)),
             tags=("dw",)))
    add(Case("dw_3x3_s2_valid_relu", _model(12, [(1, 9, 9, 7)],
                                           lambda lb, x: lb.depthwise_conv2d(
                                               x, 3, stride=2, padding="VALID", activation="RELU")),
             tags=("dw",)))
    add(Case("dw_mult2", _model(13, [(1, 8, 8, 6)],
                                lambda lb, x: lb.depthwise_conv2d(x, 3, depth_multiplier=2)),
             tags=("dw",)))
    add(Case("dw_5x5_dil2", _model(14, [(1, 12, 12, 5)],
                                   lambda lb, x: lb.depthwise_conv2d(x, 5, dilation=2)),
             tags=("dw",)))
    add(Case("dw_per_tensor_33ch", _model(15, [(1, 6, 6, 33)],
                                          lambda lb, x: lb.depthwise_conv2d(x, 3, per_channel=False)),
             tags=("dw",)))
    # FULLY_CONNECTED
    add(Case("fc_40_10", _model(16, [(1, 40)], lambda lb, x: lb.fully_connected(x, 10)), tags=("fc",)))
    add(Case("fc_batch3_relu", _model(17, [(3, 70)],
                                      lambda lb, x: lb.fully_connected(x, 33, activation="RELU")),
             tags=("fc",)))
    # Pools
    add(Case("maxpool_3x3_s2_valid", _model(18, [(1, 9, 9, 5)], lambda lb, x: lb.max_pool2d(x, 3, 2, "VALID")),
             tags=("pool",)))
    add(Case("maxpool_2x2_s1_same", _model(19, [(1, 7, 8, 17)], lambda lb, x: lb.max_pool2d(x, 2, 1, "SAME")),
             tags=("pool",)))
    add(Case("avgpool_2x2_s2_valid", _model(20, [(1, 8, 8, 5)], lambda lb, x: lb.avg_pool2d(x, 2, 2, "VALID")),
             tags=("pool",)))
    add(Case("avgpool_3x3_s1_same", _model(21, [(1, 9, 9, 16)], lambda lb, x: lb.avg_pool2d(x, 3, 1, "SAME")),
             tags=("pool",)))
    add(Case("avgpool_3x3_s2_same", _model(22, [(1, 9, 10, 7)], lambda lb, x: lb.avg_pool2d(x, 3, 2, "SAME")),
             tags=("pool",)))
    # Elementwise with broadcast / scalars
    add(Case("add", _binary_model("ADD", 0.05, -3, 0.03, 7, 0.07, 2, (1, 6, 6, 8), (1, 6, 6, 8)),
             tags=("ew",)))
    add(Case("add_same_scale", _binary_model("ADD", 0.05, -3, 0.05, 7, 0.1, 2, (1, 5, 5, 8), (1, 5, 5, 8)),
             tags=("ew",)))
    add(Case("add_bcast_c", _binary_model("ADD", 0.02, 0, 0.06, -5, 0.05, -1, (1, 6, 6, 8), (1, 6, 6, 1)),
             tags=("ew",)))
    add(Case("add_bcast_hw_reversed", _binary_model("ADD", 0.04, 1, 0.03, 2, 0.06, 0, (1, 1, 1, 8),
                                                    (1, 5, 6, 8)), tags=("ew",)))
    add(Case("sub", _binary_model("SUB", 0.05, -3, 0.03, 7, 0.07, 2, (1, 6, 6, 8), (1, 6, 6, 8)),
             tags=("ew",)))
    add(Case("sub_bcast_reversed", _binary_model("SUB", 0.05, 4, 0.03, 7, 0.07, 2, (1, 1, 6, 1),
                                                 (1, 4, 6, 3)), tags=("ew",)))
    add(Case("mul", _binary_model("MUL", 0.05, -3, 0.03, 7, 0.02, 2, (1, 6, 6, 8), (1, 6, 6, 8)),
             tags=("ew",)))
    add(Case("mul_bcast_w", _binary_model("MUL", 0.05, 3, 0.04, -7, 0.03, -2, (1, 4, 6, 5), (1, 4, 1, 5)),
             tags=("ew",)))
    add(Case("mul_scalar_tensor", _model(23, [(1, 5, 5, 4)],
                                         lambda lb, x: lb.mul(x, lb.constant((1, 1, 1, 1), 0.02, 3))),
             tags=("ew",)))
    add(Case("maximum", _binary_model("MAXIMUM", 0.05, 3, 0.05, 3, 0.05, 3, (1, 6, 6, 8), (1, 6, 6, 8)),
             tags=("ew",)))
    add(Case("minimum_bcast", _binary_model("MINIMUM", 0.05, -2, 0.05, -2, 0.05, -2, (1, 6, 6, 8),
                                            (1, 1, 6, 8)), tags=("ew",)))
    # Data movement
    add(Case("pad", _model(24, [(1, 5, 5, 4)], lambda lb, x: lb.pad(x, [(0, 0), (1, 2), (2, 1), (0, 0)])),
             tags=("move",)))
    add(Case("concat_channels", _model(25, [(1, 4, 4, 3), (1, 4, 4, 5)],
                                       lambda lb, a, b: lb.concatenation([a, b], axis=3)), tags=("move",)))
    add(Case("concat_height", _model(26, [(1, 3, 4, 8), (1, 2, 4, 8)],
                                     lambda lb, a, b: lb.concatenation([a, b], axis=1)), tags=("move",)))
    add(Case("reshape", _model(27, [(1, 4, 4, 6)], lambda lb, x: lb.reshape(x, (1, 16, 6))), tags=("move",)))
    # Reductions, softmax, LUT activations
    add(Case("mean_hw", _model(28, [(1, 6, 5, 12)], lambda lb, x: lb.mean(x, [1, 2], out_scale=0.04, out_zp=3)),
             tags=("reduce",)))
    add(Case("mean_h", _model(29, [(1, 7, 3, 5)], lambda lb, x: lb.mean(x, [1])), tags=("reduce",)))
    add(Case("softmax_10", _model(30, [(1, 10)], lambda lb, x: lb.softmax(x)), tags=("softmax",)))
    add(Case("softmax_4x5x33", _model(31, [(1, 4, 5, 33)], lambda lb, x: lb.softmax(x)), tags=("softmax",)))
    add(Case("softmax_beta", _model(32, [(1, 3, 100)], lambda lb, x: lb.softmax(x, beta=0.5)),
             tags=("softmax",)))
    add(Case("tanh", _model(33, [(1, 8, 8, 8)], lambda lb, x: lb.op("TANH", [x], x.shape, 1 / 128, 0)),
             tags=("lut",)))
    add(Case("logistic", _model(34, [(1, 8, 8, 8)],
                                lambda lb, x: lb.op("LOGISTIC", [x], x.shape, 1 / 256, -128)), tags=("lut",)))
    c.extend(more_op_cases())
    return c


def _unary_model(op: str, options_name: str | None = None, options: dict | None = None,
                 in_q=(0.05, 3), out_q=(0.05, -2), shape=(1, 6, 6, 8), out_shape=None,
                 extra=None) -> Callable[[], bytes]:
    """One operator on one int8 input (plus constant operands made by ``extra(mb)``)."""
    def build() -> bytes:
        mb = ModelBuilder()
        x = mb.add_tensor("x", shape, np.int8, quant=Quant.per_tensor(*in_q))
        ins = [x] + (extra(mb) if extra else [])
        y = mb.add_tensor("y", out_shape or shape, np.int8, quant=Quant.per_tensor(*out_q))
        mb.add_operator(op, ins, [y], options_name, options or {})
        mb.set_io([x], [y])
        return mb.build()
    return build


def _i32(mb, name, values):
    arr = np.asarray(values, np.int32)
    return mb.add_tensor(name, arr.shape, np.int32, arr)


def _transpose_conv() -> bytes:
    mb = ModelBuilder()
    rng = np.random.default_rng(0)
    x = mb.add_tensor("x", (1, 5, 5, 4), np.int8, quant=Quant.per_tensor(0.05, -3))
    w = rng.integers(-127, 128, (6, 3, 3, 4)).astype(np.int8)
    wi = mb.add_tensor("w", w.shape, np.int8, w, Quant([0.01] * 6, [0] * 6, 0))
    bi = mb.add_tensor("b", (6,), np.int32, np.arange(6, dtype=np.int32) * 100,
                       Quant([0.05 * 0.01] * 6, [0] * 6))
    y = mb.add_tensor("y", (1, 10, 10, 6), np.int8, quant=Quant.per_tensor(0.2, 3))
    mb.add_operator("TRANSPOSE_CONV", [_i32(mb, "shape", [1, 10, 10, 6]), wi, x, bi], [y],
                    "TransposeConvOptions", {"Padding": 0, "StrideW": 2, "StrideH": 2})
    mb.set_io([x], [y])
    return mb.build()


def more_op_cases() -> list[Case]:
    """Further operators Vela maps to the NPU (LUTs, resampling, transposes, reductions)."""
    rng = np.random.default_rng(77)
    other = rng.integers(-128, 128, (1, 6, 6, 8)).astype(np.int8)
    size12 = lambda mb: [_i32(mb, "size", [12, 12])]  # noqa: E731
    return [
        Case("leaky_relu", _unary_model("LEAKY_RELU", "LeakyReluOptions", {"Alpha": 0.1}), tags=("more",)),
        Case("prelu", _unary_model("PRELU", extra=lambda mb: [mb.add_tensor(
            "alpha", (1, 1, 1, 8), np.int8, np.arange(-4, 4, dtype=np.int8), Quant.per_tensor(0.05, 0))]),
            tags=("more",)),
        Case("abs", _unary_model("ABS"), tags=("more",)),
        Case("hard_swish", _unary_model("HARD_SWISH"), tags=("more",)),
        Case("relu", _unary_model("RELU"), tags=("more",)),
        Case("relu6", _unary_model("RELU6", out_q=(0.05, 3)), tags=("more",)),
        Case("quantize_requant", _unary_model("QUANTIZE", out_q=(0.03, 10)), tags=("more",)),
        Case("squared_difference", _unary_model("SQUARED_DIFFERENCE", out_q=(0.1, -128), extra=lambda mb: [
            mb.add_tensor("b", other.shape, np.int8, other, Quant.per_tensor(0.04, 2))]), tags=("more",)),
        Case("resize_nearest", _unary_model("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", {},
                                            out_q=(0.05, 3), out_shape=(1, 12, 12, 8), extra=size12),
             tags=("more",)),
        Case("resize_bilinear_half_pixel", _unary_model("RESIZE_BILINEAR", "ResizeBilinearOptions",
                                                        {"HalfPixelCenters": True}, out_q=(0.05, 3),
                                                        out_shape=(1, 12, 12, 8), extra=size12),
             tags=("more",)),
        Case("transpose_hw", _unary_model("TRANSPOSE", out_q=(0.05, 3), shape=(1, 5, 7, 8), out_shape=(1, 7, 5, 8),
                                          extra=lambda mb: [_i32(mb, "perm", [0, 2, 1, 3])]), tags=("more",)),
        Case("strided_slice", _unary_model("STRIDED_SLICE", "StridedSliceOptions", {}, out_q=(0.05, 3),
                                           out_shape=(1, 4, 3, 5),
                                           extra=lambda mb: [_i32(mb, "begin", [0, 1, 1, 2]),
                                                             _i32(mb, "end", [1, 5, 6, 7]),
                                                             _i32(mb, "strides", [1, 1, 2, 1])]),
             tags=("more",)),
        Case("reduce_max_c", _unary_model("REDUCE_MAX", "ReducerOptions", {"KeepDims": True}, out_q=(0.05, 3),
                                          out_shape=(1, 6, 6, 1), extra=lambda mb: [_i32(mb, "axes", [3])]),
             tags=("more",)),
        Case("transpose_conv_s2", _transpose_conv, tags=("more",)),
    ]


def multi_op_cases() -> list[Case]:
    def cnn(lb, x):
        y = lb.conv2d(x, 16, 3, stride=2, activation="RELU")
        y = lb.depthwise_conv2d(y, 3, activation="RELU6")
        y = lb.conv2d(y, 24, 1)
        y = lb.avg_pool2d(y, 2, 2)
        y = lb.reshape(y, (1, -1))
        return lb.softmax(lb.fully_connected(y, 10))

    def residual(lb, x):
        a = lb.conv2d(x, 16, 3, activation="RELU")
        b = lb.conv2d(a, 16, 3)
        s = lb.add(a, b, activation="RELU")
        return lb.max_pool2d(s, 2, 2)

    def wide(lb, x):
        y = lb.conv2d(x, 32, 3, stride=1)
        y = lb.depthwise_conv2d(y, 3, stride=2)
        z = lb.conv2d(y, 64, 1, activation="RELU")
        return lb.mean(z, [1, 2])

    return [
        Case("cnn_softmax", _model(40, [(1, 16, 16, 3)], cnn), tags=("multi",)),
        Case("residual_add", _model(41, [(1, 12, 12, 8)], residual), tags=("multi",)),
        Case("wide_conv_mean", _model(42, [(1, 24, 24, 16)], wide), tags=("multi",)),
    ]


# ------------------------------------------------------------------------------ comparison

@dataclass
class Comparison:
    name: str
    accelerator: str
    max_diff: int
    mismatches: int
    elements: int
    error: str = ""


def compare_case(tools: HostTools, case: Case, accelerator: str, workdir: Path,
                 seed: int = 0, model: bytes | None = None) -> Comparison:
    """Compile with Vela, run on the model and in TFLM (original model), compare."""
    model = case.build() if model is None else model
    result = compile_vela(model, accelerator)
    if len(result.calls) != 1 or result.cpu_operators:
        return Comparison(case.name, accelerator, -1, -1, 0,
                          f"not fully on the NPU: {[c.type for c in result.cpu_operators]}")
    inputs = random_inputs(result, seed)
    ref = tflm_run(model, inputs, len(result.outputs))
    run = run_npu(tools.runner, result, inputs, workdir)
    if not run.ok:
        return Comparison(case.name, accelerator, -1, -1, 0, run.stdout.strip() + run.stderr.strip())
    max_diff = mismatches = elements = 0
    for got, exp in zip(run.outputs, ref):
        d = np.abs(got.astype(np.int64).reshape(exp.shape) - exp.astype(np.int64))
        max_diff = max(max_diff, int(d.max()) if d.size else 0)
        mismatches += int((d > 0).sum())
        elements += d.size
    return Comparison(case.name, accelerator, max_diff, mismatches, elements)


def tools_available(*names: str) -> list[str]:
    return [n for n in names if shutil.which(n) is None]


def env_flag(name: str) -> bool:
    return os.environ.get(name) == "1"


# ------------------------------------------------------------------------------ random sweeps

def random_cases(kind: str, count: int, seed: int) -> list[Case]:
    """Random single-operator cases of one kind (conv, dw, pool, ew, lut, softmax, mean, fc)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        s = int(rng.integers(1 << 30))
        if kind == "conv":
            k = int(rng.choice([1, 2, 3, 5]))
            st = int(rng.choice([1, 2]))
            dil = 1 if st > 1 else int(rng.choice([1, 1, 2]))
            h, w = int(rng.integers(k * dil, 15)), int(rng.integers(k * dil, 15))
            cin, cout = int(rng.choice([1, 2, 3, 8, 15, 16, 31, 40])), int(rng.choice([1, 4, 7, 16, 17, 48]))
            pad = str(rng.choice(["SAME", "VALID"]))
            act = [None, "RELU", "RELU6"][int(rng.integers(3))]
            cases.append(_conv_case(i, h, w, cin, cout, k, st, pad, dil, act, s))
        elif kind == "dw":
            k = int(rng.choice([1, 3, 5]))
            st = int(rng.choice([1, 2]))
            dil = 1 if st > 1 else int(rng.choice([1, 1, 2]))
            h, w = int(rng.integers(k * dil, 14)), int(rng.integers(k * dil, 14))
            cin, mult = int(rng.choice([1, 3, 8, 16, 19, 32])), int(rng.choice([1, 1, 2]))
            pad = str(rng.choice(["SAME", "VALID"]))
            act = [None, "RELU", "RELU6"][int(rng.integers(3))]
            cases.append(Case(f"dw_{i}", _model(s, [(1, h, w, cin)], lambda lb, x, k=k, st=st, pad=pad, m=mult, d=dil, a=act:
                                                 lb.depthwise_conv2d(x, k, stride=st, padding=pad, depth_multiplier=m,
                                                                     dilation=d, activation=a))))
        elif kind == "pool":
            k = int(rng.choice([1, 2, 3, 4]))
            st = int(rng.choice([1, 2, 3]))
            h, w = int(rng.integers(k, 13)), int(rng.integers(k, 13))
            c = int(rng.choice([1, 3, 8, 16, 21]))
            pad = str(rng.choice(["SAME", "VALID"]))
            op = str(rng.choice(["max_pool2d", "avg_pool2d"]))
            cases.append(Case(f"pool_{i}_{op}_{k}_{st}_{pad}", _model(s, [(1, h, w, c)], lambda lb, x, op=op, k=k, st=st, pad=pad:
                                                                getattr(lb, op)(x, k, st, pad))))
        elif kind == "ew":
            op = str(rng.choice(["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"]))
            shape = (1, int(rng.integers(1, 7)), int(rng.integers(1, 7)), int(rng.integers(1, 20)))
            shape2 = tuple(1 if rng.random() < 0.3 else d for d in shape)
            if rng.random() < 0.5:
                shape, shape2 = shape2, shape
            sc = [float(rng.uniform(0.005, 0.1)) for _ in range(3)]
            zp = [int(rng.integers(-30, 31)) for _ in range(3)]
            if op in ("MAXIMUM", "MINIMUM"):
                sc = [sc[0]] * 3
                zp = [zp[0]] * 3
            cases.append(Case(f"ew_{i}_{op}", _binary_model(op, sc[0], zp[0], sc[1], zp[1], sc[2], zp[2], shape, shape2)))
        elif kind == "lut":
            op = str(rng.choice(["TANH", "LOGISTIC"]))
            isc = float(rng.uniform(0.01, 0.2))
            izp = int(rng.integers(-50, 51))
            osc, ozp = (1 / 128, 0) if op == "TANH" else (1 / 256, -128)

            def build(s=s, op=op, isc=isc, izp=izp, osc=osc, ozp=ozp):
                lb = LayerBuilder(seed=s)
                x = lb.input((1, 4, 8, 8), scale=isc, zero_point=izp)
                lb.output(lb.op(op, [x], x.shape, osc, ozp))
                return lb.build()
            cases.append(Case(f"lut_{i}_{op}", build))
        elif kind == "softmax":
            shape = [(1, int(rng.integers(2, 300))), (1, int(rng.integers(1, 5)), int(rng.integers(1, 5)),
                                                      int(rng.integers(2, 64)))][int(rng.integers(2))]
            isc = float(rng.uniform(0.01, 0.3))
            beta = float(rng.choice([1.0, 1.0, 0.5, 2.0]))

            def build(s=s, shape=shape, isc=isc, beta=beta):
                lb = LayerBuilder(seed=s)
                x = lb.input(tuple(shape), scale=isc, zero_point=int(np.random.default_rng(s).integers(-20, 20)))
                lb.output(lb.softmax(x, beta=beta))
                return lb.build()
            cases.append(Case(f"softmax_{i}", build))
        elif kind == "mean":
            shape = (1, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 24)))
            axes = [[1, 2], [1], [2]][int(rng.integers(3))]
            osc = float(rng.uniform(0.01, 0.1))
            cases.append(Case(f"mean_{i}", _model(s, [shape], lambda lb, x, axes=axes, osc=osc:
                                                   lb.mean(x, axes, out_scale=osc, out_zp=3))))
        elif kind == "fc":
            n, d, u = int(rng.integers(1, 4)), int(rng.integers(1, 200)), int(rng.integers(1, 80))
            act = [None, "RELU"][int(rng.integers(2))]
            cases.append(Case(f"fc_{i}", _model(s, [(n, d)], lambda lb, x, u=u, a=act: lb.fully_connected(x, u, activation=a))))
        else:
            raise ValueError(kind)
    return cases


# ------------------------------------------------------------------------------ firmware (QEMU)

FW_CASE_MAGIC = 0x31435545


def _pad16(b: bytes) -> bytes:
    return b + b"\0" * ((-len(b)) % 16)


def pack_fw_case(result: VelaResult, inputs: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                 expected_rc: int = 0, payload: bytes | None = None) -> bytes:
    """One case blob of fw_pkg/include/ethosu_fw_cases.h."""
    import struct

    call = result.calls[0]
    payload = call.command_stream if payload is None else payload
    body = _pad16(payload) + _pad16(call.read_only)
    for t, x in list(zip(result.inputs, inputs)) + list(zip(result.outputs, expected)):
        raw = np.ascontiguousarray(x, dtype=t.dtype).tobytes()
        body += _pad16(struct.pack("<4I", t.offset, len(raw), 0, 0) + raw)
    total = 32 + len(body)
    head = struct.pack("<4I4i", FW_CASE_MAGIC, total, len(payload), len(call.read_only),
                       call.scratch_size, expected_rc, len(result.inputs), len(result.outputs))
    return head + body


def write_fw_data(blobs: Sequence[bytes], path: Path) -> Path:
    data = b"".join(blobs)
    lines = ["/* generated by ethosu_testlib.py */", "#include <stdint.h>", '#include "byoc_platform.h"',
             f"const uint32_t ethosu_case_data_size = {len(data)}u;",
             "const uint8_t ethosu_case_data[] BYOC_DATA_ATTR = {"]
    for i in range(0, len(data), 24):
        lines.append("    " + ",".join(str(b) for b in data[i:i + 24]) + ",")
    lines.append("};")
    path.write_text("\n".join(lines) + "\n")
    return path


def build_and_run_firmware(blobs: Sequence[bytes], build_dir: Path, timeout_s: float = 120.0,
                           npu_macs: int | None = None):
    """Build the Corstone-300 firmware with the cases and run it on QEMU: with byoc's
    functional model in the firmware, or (``npu_macs``) with byoc's register-level driver on
    the emulated Ethos-U55 device of that MAC configuration."""
    from byoc.platform import corstone300 as platform

    build_dir.mkdir(parents=True, exist_ok=True)
    data_c = write_fw_data(blobs, build_dir / "ethosu_case_data.c")
    driver = "model" if npu_macs is None else "npu"
    elf = platform.build_firmware(FW_PKG, [FW_MAIN, data_c], build_dir / "fw",
                                  constants_region="DDR",
                                  cmake_args=[f"-DBYOC_ETHOSU_DRIVER={driver}"])
    return platform.run_firmware(elf, backend="qemu", timeout_s=timeout_s, npu_macs=npu_macs)


def parse_fw_cases(stdout: str) -> list[dict[str, str]]:
    rows = []
    for line in stdout.splitlines():
        if line.startswith("ETHOSU_CASE "):
            rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    return rows


# ------------------------------------------------------------------------------ rounding reference

def scale_round_reference(acc: int, scale: int, shift: int, mode: int) -> int:
    """Python mirror of the output-stage rounding modes (0 TFL, 1 TRUNCATE, 2 NATURAL)."""
    p = acc * scale
    if mode == 1:
        q = abs(p) >> shift
        return q if p >= 0 else -q
    if mode == 2:
        return p if shift == 0 else (p + (1 << (shift - 1))) >> shift
    if shift < 31:
        p <<= 31 - shift
    high = (p + (1 << 30)) >> 31 if p >= 0 else -((-p + (1 << 30) - 1) >> 31)
    e = shift - 31
    if e <= 0:
        return high
    mask = (1 << e) - 1
    rem = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> e) + (1 if rem > threshold else 0)
