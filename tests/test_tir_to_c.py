"""Unit tests of ``byoc.codegen.tir_to_c``: small TIR PrimFuncs printed as C and run.

Every PrimFunc is printed with ``emit_c_function``, compiled with host gcc ``-std=c99 -Wall
-Wextra -Werror`` and UndefinedBehaviorSanitizer (any report aborts the run), run on seeded
inputs that cover each dtype's whole range, and compared element by element with TVM's own
evaluation of the same PrimFunc (``tvm.compile`` for LLVM on the host): the C must compute
what TIR means, including the wrap-around of 8/16-bit arithmetic, shifts of negative
values, floor division, loop bounds and conditionals. Functions are built with TVMScript,
``te.create_prim_func`` or ``tirx`` nodes (the way byoc's integer kernels are written).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tvm
from tvm import te, tirx
from tvm.script import tirx as T

from byoc.codegen.tir_to_c import HELPER_SOURCE, CFunction, emit_c_function
from byoc.errors import ByocError

# The flags the package is built with on the host (byoc.host), plus UBSan: C's undefined
# behaviour (signed overflow, shifts of negative values) where TIR is defined must not hide.
CFLAGS = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined",
          "-fno-sanitize-recover=all"]
SCRATCH_FILL = 0xA5   # the scratch area starts with garbage: the function must not rely on zeros

I8, I16, I32, I64 = "int8", "int16", "int32", "int64"
U8, U16 = "uint8", "uint16"


@pytest.fixture(scope="module")
def cc() -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found (make setup installs it)")
    return gcc


def full_range(dtype: str, shape, rng: np.random.Generator, nonzero: bool = False) -> np.ndarray:
    """Seeded values over the whole range of ``dtype``, both extremes included."""
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    flat = values.reshape(-1)
    flat[:4] = [info.min, info.max, 0, -1 if info.min < 0 else 1][:flat.size]
    if nonzero:
        flat[flat == 0] = 1
    return values


def tvm_reference(func: tirx.PrimFunc, inputs: list[np.ndarray],
                  outputs: list[tuple[tuple[int, ...], str]]) -> list[np.ndarray]:
    """``func`` evaluated by TVM itself (LLVM on the host)."""
    executable = tvm.compile(tvm.IRModule({"main": func.with_attr("global_symbol", "main")}),
                             target="llvm")
    args = [tvm.runtime.tensor(x) for x in inputs]
    outs = [tvm.runtime.tensor(np.zeros(shape, dtype)) for shape, dtype in outputs]
    executable["main"](*args, *outs)
    return [o.numpy() for o in outs]


def c_program(fn: CFunction) -> str:
    """``fn`` plus a main that reads the inputs from argv[1] and writes the outputs to stdout."""
    lines = ["#include <stdbool.h>", "#include <stdint.h>", "#include <stdio.h>"]
    if fn.uses_math:
        lines.append("#include <math.h>")
    lines += [HELPER_SOURCE[h] for h in sorted(fn.helpers)] + [fn.source]
    ins = [p for p in fn.params if not p.is_output]
    outs = [p for p in fn.params if p.is_output]
    lines += [f"static uint8_t buf{i}[{max(p.nbytes, 1)}] __attribute__((aligned(16)));"
              for i, p in enumerate(fn.params)]
    scratch = max(fn.scratch_bytes, 1)
    lines.append(f"static uint8_t scratch_area[{scratch}] __attribute__((aligned(16)));")
    casts = [f"(const void*)buf{i}" if not p.is_output else f"(void*)buf{i}"
             for i, p in enumerate(fn.params)]
    if fn.scratch_bytes:
        casts.append("scratch_area")
    lines += ["int main(int argc, char** argv) {",
              "  FILE* in = argc > 1 ? fopen(argv[1], \"rb\") : NULL;",
              "  if (in == NULL) return 90;",
              *[f"  if (fread(buf{i}, 1, {p.nbytes}, in) != {p.nbytes}) return 91;"
                for i, p in enumerate(ins)],
              "  fclose(in);",
              f"  for (int k = 0; k < {scratch}; ++k) scratch_area[k] = {SCRATCH_FILL};",
              f"  int32_t status = {fn.name}({', '.join(casts)});",
              *[f"  fwrite(buf{len(ins) + k}, 1, {p.nbytes}, stdout);" for k, p in enumerate(outs)],
              "  return status == 0 ? 0 : 92;",
              "}"]
    return "\n".join(lines) + "\n"


def run_c(cc: str, fn: CFunction, inputs: list[np.ndarray], tmp_path: Path,
          outputs: list[tuple[tuple[int, ...], str]]) -> list[np.ndarray]:
    """Build ``fn`` with gcc -Werror and UBSan, run it on ``inputs``, return its outputs."""
    src, exe, data = tmp_path / "f.c", tmp_path / "f", tmp_path / "inputs.bin"
    src.write_text(c_program(fn))
    build = subprocess.run([cc, *CFLAGS, "-o", str(exe), str(src), "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, f"gcc -Werror failed:\n{build.stderr}\n{fn.source}"
    data.write_bytes(b"".join(np.ascontiguousarray(x).tobytes() for x in inputs))
    run = subprocess.run([str(exe), str(data)], capture_output=True)
    assert run.returncode == 0, f"exit {run.returncode}:\n{run.stderr.decode()}\n{fn.source}"
    got, offset = [], 0
    for shape, dtype in outputs:
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        got.append(np.frombuffer(run.stdout[offset:offset + n], dtype).reshape(shape))
        offset += n
    assert offset == len(run.stdout)
    return got


def check_against_tvm(cc: str, func: tirx.PrimFunc, inputs: list[np.ndarray], tmp_path: Path,
                      outputs: list[tuple[tuple[int, ...], str]]) -> CFunction:
    """The C of ``func`` computes exactly what TVM computes for it."""
    fn = emit_c_function("byoc_test_fn", func, num_outputs=len(outputs))
    expected = tvm_reference(func, inputs, outputs)
    got = run_c(cc, fn, inputs, tmp_path, outputs)
    for k, (e, g) in enumerate(zip(expected, got)):
        bad = np.flatnonzero(e.reshape(-1) != g.reshape(-1))
        assert bad.size == 0, (f"output {k}: {bad.size} of {e.size} elements differ, first at "
                               f"{bad[0]}: TVM {e.reshape(-1)[bad[0]]}, C {g.reshape(-1)[bad[0]]}"
                               f"\n{fn.source}")
    return fn


def elementwise(n: int, in_dtypes: list[str], out_dtype: str, compute) -> tirx.PrimFunc:
    """``out[i] = compute(in0[i], in1[i], ...)`` as a TE PrimFunc."""
    ins = [te.placeholder((n,), dt, name=f"in{k}") for k, dt in enumerate(in_dtypes)]
    out = te.compute((n,), lambda i: compute(*[x[i] for x in ins]).astype(out_dtype), name="out")
    return te.create_prim_func([*ins, out])


def widen(e, dtype: str = I32):
    return tirx.Cast(dtype, e)


# ---------------------------------------------------------------------------------------
# 8/16-bit arithmetic: TIR computes in the operand type and wraps (C promotes to int)
# ---------------------------------------------------------------------------------------

NARROW_CASES = {
    "int8_add": (I8, lambda a, b: widen(a + b)),
    "int8_sub": (I8, lambda a, b: widen(a - b)),
    "int8_mul": (I8, lambda a, b: widen(a * b)),
    "int16_add": (I16, lambda a, b: widen(a + b)),
    "int16_mul": (I16, lambda a, b: widen(a * b)),
    "int16_mul_shift": (I16, lambda a, b: widen((a * b) >> tirx.const(3, I16))),
    "uint8_sub": (U8, lambda a, b: widen(a - b)),
    "uint8_not": (U8, lambda a, b: widen(~a) + widen(b)),
    "uint16_mul": (U16, lambda a, b: widen(a * b)),
    "uint16_add_compare": (U16, lambda a, b: tirx.Select(a + b < a, 1, 0)),
    "int8_wrapped_max": (I8, lambda a, b: widen(tirx.max(a + b, b))),
}


@pytest.mark.parametrize("case", sorted(NARROW_CASES))
def test_narrow_integer_arithmetic_wraps_like_tir(cc, case, tmp_path):
    dtype, compute = NARROW_CASES[case]
    n = 256
    rng = np.random.default_rng(len(case))
    func = elementwise(n, [dtype, dtype], I32, compute)
    check_against_tvm(cc, func, [full_range(dtype, n, rng), full_range(dtype, n, rng)], tmp_path,
                      [((n,), I32)])


# ---------------------------------------------------------------------------------------
# int32 / int64 arithmetic, shifts, saturating casts, division
# ---------------------------------------------------------------------------------------

def _saturate_int8(x):
    return tirx.max(tirx.min(x, tirx.const(127, I32)), tirx.const(-128, I32))


def _rounding_high_mul(a, b):
    """TFLite's SaturatingRoundingDoublingHighMul core: int64 product, rounding, >> 31."""
    prod = widen(a, I64) * widen(b, I64)
    nudge = tirx.Select(prod >= tirx.const(0, I64), tirx.const(1 << 30, I64),
                        tirx.const(1 - (1 << 30), I64))
    return widen((prod + nudge) >> tirx.const(31, I64))


WIDE_CASES = {
    # (input dtypes, output dtype, compute, nonzero second input)
    "int32_saturating_cast_int8": ([I32, I32], I8,
                                   lambda a, b: _saturate_int8((a >> 8) + (b >> 9)), False),
    "int32_saturating_cast_int16": ([I16, I16], I16, lambda a, b: tirx.max(tirx.min(
        widen(a) * 3 + widen(b), tirx.const(32767, I32)), tirx.const(-32768, I32)), False),
    "int32_shift_left_negative": ([I32, I8], I32,
                                  lambda a, b: a << widen(b & tirx.const(31, I8)), False),
    "int32_shift_right_arithmetic": ([I32, I8], I32,
                                     lambda a, b: a >> widen(b & tirx.const(31, I8)), False),
    "int64_shift_left_negative": ([I32, I8], I64,
                                  lambda a, b: widen(a, I64) << widen(b & tirx.const(31, I8), I64),
                                  False),
    "int64_rounding_high_mul": ([I32, I32], I32, _rounding_high_mul, False),
    "int32_floordiv": ([I32, I32], I32, lambda a, b: tirx.floordiv(a, b | tirx.const(1, I32)),
                       False),
    "int32_floormod": ([I32, I16], I32, lambda a, b: tirx.floormod(a, widen(b)), True),
    "int8_floordiv": ([I8, I8], I32, lambda a, b: widen(tirx.floordiv(
        a, tirx.max(b, tirx.const(-127, I8)))), True),
    "int16_floormod": ([I16, I16], I32, lambda a, b: widen(tirx.floormod(
        a, tirx.max(b, tirx.const(-32767, I16)))), True),
    "int32_truncdiv_truncmod": ([I32, I16], I32, lambda a, b: tirx.truncdiv(a, widen(b)) * 7
                                + tirx.truncmod(a, widen(b)), True),
    "int32_min_literal": ([I32, I32], I32, lambda a, b: tirx.Select(
        a < tirx.const(-(2 ** 31), I32) + tirx.const(5, I32), tirx.const(-(2 ** 31), I32),
        a >> 1), False),
    "int64_extreme_literals": ([I32, I32], I64, lambda a, b: tirx.Select(
        a < tirx.const(0, I32), tirx.const(-(2 ** 63), I64),
        tirx.const(2 ** 62, I64) + widen(b, I64)), False),
    "bitwise_and_or_xor": ([I32, I16], I32, lambda a, b: (a & widen(b)) ^ (a | tirx.const(0x0F0F,
                                                                                      I32)), False),
    "int32_wrapping_add_via_int64": ([I32, I32], I32,
                                     lambda a, b: widen(widen(a, I64) + widen(b, I64)), False),
}


@pytest.mark.parametrize("case", sorted(WIDE_CASES))
def test_integer_arithmetic_matches_tvm(cc, case, tmp_path):
    in_dtypes, out_dtype, compute, nonzero = WIDE_CASES[case]
    n = 512
    rng = np.random.default_rng(100 + len(case))
    func = elementwise(n, in_dtypes, out_dtype, compute)
    inputs = [full_range(in_dtypes[0], n, rng), full_range(in_dtypes[1], n, rng, nonzero)]
    check_against_tvm(cc, func, inputs, tmp_path, [((n,), out_dtype)])


# ---------------------------------------------------------------------------------------
# Loops, reductions, conditionals, temporaries
# ---------------------------------------------------------------------------------------

@T.prim_func
def loop_bounds_and_branches(A: T.Buffer((16,), "int32"), B: T.Buffer((8,), "int32"),
                             C: T.Buffer((4, 3), "int32")):
    for i in T.serial(3, 11):
        if A[i] > 0:
            B[i - 3] = A[i] >> 2
        else:
            B[i - 3] = T.if_then_else(A[i] < -5, A[i] >> 1, A[i] // 3)
    for r, c in T.grid(4, 3):
        C[r, c] = 0
        for k in T.serial(1, 4):
            if (r + c + k) % 2 == 0:
                C[r, c] = C[r, c] + A[r * 3 + k] // 16


def test_loop_bounds_and_conditionals(cc, tmp_path):
    rng = np.random.default_rng(7)
    a = full_range(I32, 16, rng)
    check_against_tvm(cc, loop_bounds_and_branches, [a], tmp_path, [((8,), I32), ((4, 3), I32)])


def test_reduction_with_padding_condition(cc, tmp_path):
    """A padded 1-D convolution: reduction over a window, out-of-bounds taps read 0."""
    x = te.placeholder((20,), I8, name="x")
    w = te.placeholder((5,), I8, name="w")
    k = te.reduce_axis((0, 5), name="k")

    def tap(i, k):
        j = i + k - 2
        inside = tirx.all(j >= 0, j < 20)
        return tirx.if_then_else(inside, widen(x[tirx.min(tirx.max(j, 0), 19)]) + 3, 0)

    y = te.compute((20,), lambda i: te.sum(tap(i, k) * widen(w[k]), axis=k), name="y")
    out = te.compute((20,), lambda i: _saturate_int8(y[i] >> 4).astype(I8), name="out")
    func = te.create_prim_func([x, w, out])
    rng = np.random.default_rng(8)
    check_against_tvm(cc, func, [full_range(I8, 20, rng), full_range(I8, 5, rng)], tmp_path,
                      [((20,), I8)])


@pytest.mark.parametrize("n", [4, 64], ids=["local_array", "scratch_area"])
def test_temporaries_local_or_scratch(cc, n, tmp_path):
    """An intermediate buffer is a local array up to LOCAL_ARRAY_LIMIT bytes, else a slice of
    the scratch area (filled with garbage before the call)."""
    a = te.placeholder((n,), I16, name="a")
    tmp = te.compute((n,), lambda i: widen(a[i]) * 3 - 1, name="tmp")
    out = te.compute((n,), lambda i: tmp[n - 1 - i] + tmp[i], name="out")
    func = te.create_prim_func([a, out])
    rng = np.random.default_rng(n)
    fn = check_against_tvm(cc, func, [full_range(I16, n, rng)], tmp_path, [((n,), I32)])
    assert (fn.scratch_bytes >= 4 * n) == (4 * n > 64), fn.source


def test_two_outputs_and_an_unread_input(cc, tmp_path):
    """Outputs are the trailing parameters; an input the body never reads is still accepted
    by -Werror (unused parameter)."""
    a = te.placeholder((6,), I8, name="a")
    unread = te.placeholder((3,), I8, name="unread")
    lo = te.compute((6,), lambda i: tirx.min(a[i], tirx.const(0, I8)), name="lo")
    hi = te.compute((6,), lambda i: widen(a[i]) * widen(a[i]), name="hi")
    func = te.create_prim_func([a, unread, lo, hi])
    rng = np.random.default_rng(9)
    fn = check_against_tvm(cc, func, [full_range(I8, 6, rng), full_range(I8, 3, rng)], tmp_path,
                           [((6,), I8), ((6,), I32)])
    assert [p.is_output for p in fn.params] == [False, False, True, True]


def test_float_math(cc, tmp_path):
    """float32 intrinsics map to <math.h> (compared with a small tolerance: libm vs LLVM)."""
    x = te.placeholder((32,), "float32", name="x")
    y = te.compute((32,), lambda i: tirx.exp(x[i] * 0.25) + tirx.sigmoid(x[i]) - tirx.floor(x[i]),
                   name="y")
    func = te.create_prim_func([x, y])
    data = np.linspace(-8, 8, 32, dtype=np.float32)
    fn = emit_c_function("byoc_test_fn", func)
    assert fn.uses_math
    expected = tvm_reference(func, [data], [((32,), "float32")])[0]
    got = run_c(cc, fn, [data], tmp_path, [((32,), "float32")])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Named intermediate values (byoc's kernels: Bind statements, Let expressions)
# ---------------------------------------------------------------------------------------

def _kernel_with_binds(used_only: bool) -> tirx.PrimFunc:
    """``out[i] = a[i] * 3 + 1`` written as byoc's kernels are (attribute ``byoc.kind``, so
    not simplified): named values in Bind statements and a Let expression, some of them not
    used by the result (as a requantization whose multiplier folded to 0 leaves its
    accumulator unused)."""
    a = tirx.decl_buffer((8,), I32, "a")
    out = tirx.decl_buffer((8,), I32, "out")
    i = tirx.Var("i", I32)
    acc = tirx.Var("acc", I32)
    unused_acc = tirx.Var("acc", I32)          # same name: printed as acc_1
    chain = tirx.Var("chain", I32)             # used only by another unused value
    let_var = tirx.Var("scaled", I32)
    load = tirx.BufferLoad(a, [i])
    stmts = [tirx.Bind(acc, load * 3)]
    if not used_only:
        stmts += [tirx.Bind(chain, load - 4), tirx.Bind(unused_acc, chain * 2)]
    value = tirx.Let(let_var, acc + 1, let_var if used_only else acc + 1)
    stmts.append(tirx.BufferStore(out, value, [i]))
    body = tirx.For(i, 0, 8, tirx.ForKind.SERIAL, tirx.SeqStmt(stmts))
    return tirx.PrimFunc([a, out], body).with_attr("byoc.kind", "test")


@pytest.mark.parametrize("used_only", [True, False], ids=["all_used", "some_unused"])
def test_named_values_and_unused_ones(cc, used_only, tmp_path):
    """Every named value the result needs is computed; one it does not need is not declared
    (it would fail -Werror=unused-variable, issue 17's ``acc_1``)."""
    func = _kernel_with_binds(used_only)
    rng = np.random.default_rng(10)
    a = rng.integers(-1000, 1000, size=8, dtype=np.int32)
    fn = check_against_tvm(cc, func, [a], tmp_path, [((8,), I32)])
    assert "acc_1" not in fn.source and "chain" not in fn.source


# ---------------------------------------------------------------------------------------
# What the printer refuses, and names
# ---------------------------------------------------------------------------------------

def test_unsupported_intrinsic_is_refused_by_name():
    x = te.placeholder((4,), I32, name="x")
    y = te.compute((4,), lambda i: tirx.popcount(x[i]), name="y")
    with pytest.raises(ByocError, match=r"unsupported TIR intrinsic .*popcount.* in byoc_test_fn"):
        emit_c_function("byoc_test_fn", te.create_prim_func([x, y]))


def test_unsupported_dtype_is_refused():
    x = te.placeholder((4,), "float16", name="x")
    y = te.compute((4,), lambda i: x[i] + x[i], name="y")
    with pytest.raises(ByocError, match="unsupported data type 'float16'"):
        emit_c_function("byoc_test_fn", te.create_prim_func([x, y]))


@pytest.mark.parametrize("name", ["int", "for", "int8_t", "scratch", "restrict", "2x", "a-b",
                                  "byoc_min_int32", "INT32_MIN"])
def test_buffer_names_become_safe_identifiers(cc, name, tmp_path):
    """TIR names that are C keywords, types, macros, helpers or not identifiers at all (the
    int8 temporary is declared after the parameters: a parameter named int8_t would hide
    the type)."""
    x = te.placeholder((4,), I32, name=name)
    tmp = te.compute((4,), lambda i: (tirx.min(x[i], 5) >> 24).astype(I8), name=name)
    y = te.compute((4,), lambda i: widen(tmp[i]) + (x[i] >> 1), name=name)
    func = te.create_prim_func([x, y])
    rng = np.random.default_rng(11)
    check_against_tvm(cc, func, [full_range(I32, 4, rng)], tmp_path, [((4,), I32)])


def test_generated_sources_build_for_cortex_m(tmp_path):
    """The same functions build with arm-none-eabi-gcc -Werror (Cortex-M55, 32-bit int)."""
    cross = shutil.which("arm-none-eabi-gcc")
    if cross is None:
        pytest.skip("arm-none-eabi-gcc not found (make setup installs it)")
    funcs = [elementwise(16, [dt, dt], I32, compute) for dt, compute in NARROW_CASES.values()]
    funcs += [elementwise(16, ins, out, compute) for ins, out, compute, _ in WIDE_CASES.values()]
    funcs += [loop_bounds_and_branches, _kernel_with_binds(False)]
    parts = ["#include <stdbool.h>", "#include <stdint.h>"]
    outputs = [1] * (len(funcs) - 2) + [2, 1]   # loop_bounds_and_branches writes B and C
    printed = [emit_c_function(f"byoc_test_fn{k}", f, n) for k, (f, n) in enumerate(zip(funcs, outputs))]
    helpers = set().union(*(fn.helpers for fn in printed))
    parts += [HELPER_SOURCE[h] for h in sorted(helpers)] + [fn.source for fn in printed]
    src = tmp_path / "all.c"
    src.write_text("\n".join(parts) + "\n")
    build = subprocess.run([cross, "-mcpu=cortex-m55", "-mthumb", "-std=c99", "-O2", "-Wall",
                            "-Wextra", "-Werror", "-c", "-o", str(tmp_path / "all.o"), str(src)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
