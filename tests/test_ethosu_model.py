"""byoc's functional Ethos-U55 model (kernels_c/ethosu) against TensorFlow Lite Micro.

Every case is an int8 TFLite model written with ``byoc.tflite.builder``, compiled with Vela 5.2
(``byoc.ethosu.vela.compile_vela``) and run

* on the host: the model's C sources built with gcc -Wall -Wextra -Werror into a small runner
  that lays out the scratch area and calls ``ethosu_invoke_v3`` with the base addresses
  [read_only, scratch, scratch_fast, IFMs..., OFMs...] as TFLite Micro's ethos-u operator does;
* on Corstone-300 / QEMU (a subset): a Cortex-M55 firmware built with the platform layer,

and compared with TFLite Micro on the ORIGINAL (pre-Vela) model. Every operator below is
bit-exact (tolerance 0) for every Ethos-U55 configuration; see kernels_c/ethosu/README.md for
the assumptions behind the few behaviours a model cannot check against hardware.

Also: the weight-stream decoder against Vela's mlw_codec, malformed inputs (corrupted command
streams, regions outside the given base addresses, unsupported NPU configurations: a negative
return, never a crash; the host runs under ASan/UBSan), the Python helper's errors, the
compile-for-Cortex-M55 -Werror/stack checks and the CMake targets.

The default run is bounded; ``BYOC_FULL_SWEEP=1`` adds the random sweeps (marked slow; the
default run does not generate them, ``tests/sweep.py``).
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "kernels_c" / "ethosu" / "test"))

import ethosu_testlib as tl  # noqa: E402

from byoc.errors import ByocError  # noqa: E402
from byoc.ethosu import compile_vela  # noqa: E402
from sweep import full_sweep_only  # noqa: E402

CROSS_TOOLS = ("arm-none-eabi-gcc", "cmake", "ninja", "qemu-system-arm")
SINGLE = tl.single_op_cases()
MULTI = tl.multi_op_cases()


def _need(*tools: str) -> None:
    missing = tl.tools_available(*tools)
    if missing:
        message = f"missing {', '.join(missing)}: run `make setup`"
        if os.environ.get("CI") or os.environ.get("BYOC_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    _need("gcc")
    return tl.build_host_tools(tmp_path_factory.mktemp("ethosu_host"))


@pytest.fixture(scope="module")
def asan_tools(tmp_path_factory):
    _need("gcc")
    try:
        return tl.build_host_tools(tmp_path_factory.mktemp("ethosu_asan"), sanitize=True)
    except RuntimeError as exc:  # no sanitizer runtime on this host
        pytest.skip(f"ASan/UBSan unavailable: {str(exc).splitlines()[0]}")


def _assert_case(tools, case, accelerator, tmp_path, seed=0):
    r = tl.compare_case(tools, case, accelerator, tmp_path, seed=seed)
    assert not r.error, f"{case.name} on {accelerator}: {r.error}"
    assert r.max_diff <= case.tolerance, (
        f"{case.name} on {accelerator}: {r.mismatches}/{r.elements} elements differ from TFLM, "
        f"max |diff| {r.max_diff} > {case.tolerance}")


# ---------------------------------------------------------------------------------------
# Bit-exactness on the host
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", SINGLE, ids=[c.name for c in SINGLE])
def test_single_op_bit_exact(tools, case, tmp_path):
    # The middle configuration; the other three are covered by the configuration test below.
    _assert_case(tools, case, "ethos-u55-128", tmp_path)


@pytest.mark.parametrize("accelerator", tl.ACCELERATORS)
def test_all_configurations(tools, accelerator, tmp_path):
    """Every single-operator and multi-operator case on every Ethos-U55 configuration (the
    weight order depends on the MAC configuration's micro-block)."""
    failures = []
    for case in SINGLE + MULTI:
        r = tl.compare_case(tools, case, accelerator, tmp_path)
        if r.error or r.max_diff > case.tolerance:
            failures.append(f"{case.name}: {r.error or f'max |diff| {r.max_diff}'}")
    assert not failures, f"{accelerator}: " + "; ".join(failures)


@pytest.mark.parametrize("case", MULTI, ids=[c.name for c in MULTI])
def test_multi_op_bit_exact(tools, case, tmp_path):
    for seed in range(3):
        _assert_case(tools, case, "ethos-u55-256", tmp_path, seed)


def test_mobilenet_like_cascaded(tools, tmp_path):
    """A MobileNet-like network compiled for size: Vela cascades operators through rolling
    buffers (feature-map tiles), keeps intermediates in NHCWB16 and streams weights with DMA."""
    def net(lb, x):
        y = lb.conv2d(x, 16, 3, stride=2, activation="RELU6")
        for c, s in [(32, 1), (64, 2), (64, 1)]:
            y = lb.depthwise_conv2d(y, 3, stride=s, activation="RELU6")
            y = lb.conv2d(y, c, 1, activation="RELU6")
        y = lb.avg_pool2d(y, y.shape[1], 1)
        return lb.softmax(lb.fully_connected(lb.reshape(y, (1, -1)), 12))

    model = tl._model(7, [(1, 48, 48, 3)], net)()
    for optimise in ("Size", "Performance"):
        result = compile_vela(model, "ethos-u55-64", optimise=optimise)
        inputs = tl.random_inputs(result, 1)
        run = tl.run_npu(tools.runner, result, inputs, tmp_path)
        assert run.ok, run.stdout
        ref = tl.tflm_run(model, inputs)[0]
        np.testing.assert_array_equal(run.outputs[0].reshape(ref.shape), ref)
    words = struct.unpack(f"<{len(result.command_stream) // 4}I", result.command_stream)
    assert any(w & 0x3FF == 0x010 and not w & 0x4000 for w in words)  # DMA_START present


@pytest.mark.parametrize("kind", ["conv", "dw", "pool", "ew", "lut", "softmax", "mean", "fc"])
def test_random_sweep_bounded(tools, kind, tmp_path):
    """A few random configurations per operator kind, all four NPU configurations."""
    failures = []
    for i, case in enumerate(tl.random_cases(kind, 6, seed=17)):
        r = tl.compare_case(tools, case, tl.ACCELERATORS[i % 4], tmp_path, seed=i)
        if r.error.startswith("not fully on the NPU"):
            continue
        if r.error or r.max_diff:
            failures.append(f"{case.name}/{tl.ACCELERATORS[i % 4]}: {r.error or r.max_diff}")
    assert not failures, "; ".join(failures)


@full_sweep_only
@pytest.mark.parametrize("kind", ["conv", "dw", "pool", "ew", "lut", "softmax", "mean", "fc"])
def test_random_sweep_full(tools, kind, tmp_path):
    failures = []
    for i, case in enumerate(tl.random_cases(kind, 150, seed=1000)):
        r = tl.compare_case(tools, case, tl.ACCELERATORS[i % 4], tmp_path, seed=i)
        if r.error.startswith("not fully on the NPU"):
            continue
        if r.error or r.max_diff:
            failures.append(f"{case.name}/{tl.ACCELERATORS[i % 4]}: {r.error or r.max_diff}")
    assert not failures, "; ".join(failures[:10])


# ---------------------------------------------------------------------------------------
# Hand-made streams (Vela's register-level API): feature-map features Regor does not emit
# ---------------------------------------------------------------------------------------

def _tile_of(y, x, h0, h1, w0):
    if x < w0:
        return (0, y, x) if y < h0 else (2, y - h0, x)
    return (1, y, x - w0) if y < h1 else (3, y - h1, x - w0)


def _fm_offset(layout, strides, base, y, x, c):
    sy, sx, sc = strides
    if layout == "NHWC":
        return base + y * sy + x * sx + c
    return base + y * sy + x * sx + (c // 16) * sc + c % 16


@pytest.mark.parametrize("ifm_layout,ofm_layout,upscale", [
    ("NHWC", "NHWC", "NONE"), ("NHCWB16", "NHWC", "NONE"), ("NHWC", "NHCWB16", "NONE"),
    ("NHCWB16", "NHCWB16", "NONE"), ("NHWC", "NHWC", "NEAREST"), ("NHWC", "NHCWB16", "ZEROS")])
def test_four_tiles_layouts_upscale(tools, tmp_path, ifm_layout, ofm_layout, upscale):
    """MAX pool 3x3 (padded) reading an IFM split into four tiles and writing an OFM split
    differently, in NHWC/NHCWB16, optionally with 2x IFM upscaling (nearest / zero insertion)."""
    from ethosu.vela import api

    rng = np.random.default_rng(3)
    H, W, C = 5, 6, 21
    x = rng.integers(-128, 128, (H, W, C)).astype(np.int8)
    up = 1 if upscale == "NONE" else 2
    OH, OW = H * up, W * up
    scratch = np.zeros(1 << 19, np.int8)

    def fmap(shape, tiles, bases, layout):
        f = api.NpuFeatureMap()
        f.data_type, f.region = api.NpuDataType.INT8, 1
        f.shape = api.NpuShape3D(*shape)
        f.tiles = api.NpuTileBox(height_0=tiles[0], height_1=tiles[1], width_0=tiles[2], addresses=bases)
        f.quantization = api.NpuQuantization(scale_f32=0.1, zero_point=0)
        f.layout = getattr(api.NpuLayout, layout)
        strides = (64 * 32, 32, 1) if layout == "NHWC" else (64 * 64, 16, 16 * 16)  # (y, x, c)
        f.strides = api.NpuShape3D(height=strides[0], width=strides[1], depth=strides[2])
        return f, strides

    itiles, ibases = (3, 2, 4), [k << 16 for k in range(4)]
    otiles, obases = (OH - 2, 1, 2), [k << 16 for k in range(4, 8)]
    op = api.NpuPoolingOperation(api.NpuPoolingOp.MAX)
    op.ifm, istr = fmap((H, W, C), itiles, ibases, ifm_layout)
    op.ofm, ostr = fmap((OH, OW, C), otiles, obases, ofm_layout)
    op.kernel = api.NpuKernel(3, 3, 1, 1)
    op.padding = api.NpuPadding(top=1, left=1, bottom=1, right=1)
    op.ifm_upscale = getattr(api.NpuResamplingMode, "NONE" if upscale == "NONE" else
                             ("NEAREST" if upscale == "NEAREST" else "TRANSPOSE"))
    op.block_config = api.NpuShape3D(height=2, width=2, depth=16)
    for yy in range(H):
        for xx in range(W):
            t, ly, lx = _tile_of(yy, xx, *itiles)
            for c in range(C):
                scratch[_fm_offset(ifm_layout, istr, ibases[t], ly, lx, c)] = x[yy, xx, c]
    accel = api.NpuAccelerator.Ethos_U55_128
    payload = api.npu_create_driver_payload(api.npu_generate_register_command_stream([op], accel), accel)
    (tmp_path / "p.bin").write_bytes(payload)
    (tmp_path / "ro.bin").write_bytes(bytes(16))
    (tmp_path / "s.bin").write_bytes(scratch.tobytes())
    proc = subprocess.run([str(tools.runner), str(tmp_path / "p.bin"), str(tmp_path / "ro.bin"), str(scratch.size),
                           "--in", "0", str(tmp_path / "s.bin"), "--out", "0", str(scratch.size),
                           str(tmp_path / "o.bin")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = np.fromfile(tmp_path / "o.bin", np.int8)
    # Reference: the upscaled plane (nearest: repeat; zero insertion: zero point between values).
    plane = x.astype(int)
    if upscale == "NEAREST":
        plane = plane.repeat(2, axis=0).repeat(2, axis=1)
    elif upscale == "ZEROS":
        z = np.zeros((OH, OW, C), int)
        z[::2, ::2] = plane
        plane = z
    padded = np.pad(plane, ((1, 1), (1, 1), (0, 0)), constant_values=-1000)
    ref = np.max([padded[dy:dy + OH, dx:dx + OW] for dy in range(3) for dx in range(3)], axis=0)
    got = np.zeros_like(ref)
    for yy in range(OH):
        for xx in range(OW):
            t, ly, lx = _tile_of(yy, xx, *otiles)
            for c in range(C):
                got[yy, xx, c] = out[_fm_offset(ofm_layout, ostr, obases[t], ly, lx, c)]
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------------------------------
# Output-stage rounding, driver API
# ---------------------------------------------------------------------------------------

def test_rounding_modes(tools):
    """TFL (double rounding), TRUNCATE and NATURAL against exact integer arithmetic, including
    40-bit accumulators, shifts 0..63 and exact ties."""
    rng = np.random.default_rng(0)
    rows = []
    while len(rows) < 5000:
        acc = int(rng.integers(-(1 << 40), 1 << 40)) >> int(rng.integers(0, 40))
        scale = int(rng.integers(0, 1 << 32)) >> int(rng.integers(0, 32))
        shift, mode = int(rng.integers(0, 64)), int(rng.integers(0, 3))
        if abs(acc * scale) >= 1 << 62:
            continue
        rows.append((acc, scale, shift, mode))
    for s in range(1, 40):
        for a in (1 << (s - 1), -(1 << (s - 1)), 3 << (s - 1), -(3 << (s - 1))):
            rows += [(a, 1, s, m) for m in range(3)]
    text = "".join(f"{a} {b} {c} {d}\n" for a, b, c, d in rows)
    out = subprocess.run([str(tools.unit), "round"], input=text, capture_output=True, text=True).stdout.split()
    assert len(out) == len(rows)
    bad = [(r, int(o)) for r, o in zip(rows, out) if int(o) != tl.scale_round_reference(*r)]
    assert not bad, bad[:5]


def test_driver_api(asan_tools):
    """Reservation, re-initialisation, weak hooks overridden by the application, argument errors,
    fixed MAC configuration, deinit."""
    proc = subprocess.run([str(asan_tools.unit), "api"], capture_output=True, text=True)
    assert proc.returncode == 0 and "API_OK" in proc.stdout, proc.stdout + proc.stderr


def test_header_is_cxx_compatible(tmp_path):
    _need("g++")
    src = tmp_path / "use.cpp"
    src.write_text('#include "ethosu_driver.h"\n#include "ethosu_model.h"\n'
                   "int f(struct ethosu_driver *d, const void *p, int n, uint64_t *b, const size_t *s) {\n"
                   "  return ethosu_invoke(d, p, n, b, s, 3) + ethosu_invoke_v3(d, p, n, b, s, 3, nullptr);\n}\n")
    proc = subprocess.run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                           f"-I{tl.INCLUDE}", str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------------------
# Weight stream decoder
# ---------------------------------------------------------------------------------------

def _weight_vectors(rng, count):
    for t in range(count):
        n = int(rng.integers(1, 3000)) if t % 10 else int(rng.integers(33000, 70000))  # multi-slice
        kind = t % 5
        if kind == 0:
            w = rng.integers(-255, 256, n)
        elif kind == 1:
            w = rng.integers(-3, 4, n)
        elif kind == 2:
            w = np.where(rng.random(n) < 0.85, 0, rng.integers(-255, 256, n))
        elif kind == 3:
            w = rng.choice(rng.integers(-255, 256, 20), n)
        else:
            w = np.round(rng.normal(0, 30, n)).clip(-255, 255).astype(int)
        yield w


def test_weight_decoder_matches_mlw_codec(tools, tmp_path):
    from ethosu import mlw_codec

    rng = np.random.default_rng(5)
    for t, w in enumerate(_weight_vectors(rng, 40)):
        enc = bytes(mlw_codec.encode([int(x) for x in w]))
        (tmp_path / "w.bin").write_bytes(enc)
        proc = subprocess.run([str(tools.mlw_decode), str(tmp_path / "w.bin"), str(tmp_path / "o.bin")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout
        got = np.fromfile(tmp_path / "o.bin", np.int16)
        np.testing.assert_array_equal(got, w, err_msg=f"vector {t} ({len(w)} weights)")
        np.testing.assert_array_equal(np.array(mlw_codec.decode(bytearray(enc))), w)


def test_weight_decoder_rejects_garbage(asan_tools, tmp_path):
    """Random and truncated streams: an error or some values, never a crash (ASan/UBSan)."""
    from ethosu import mlw_codec

    rng = np.random.default_rng(9)
    enc = bytes(mlw_codec.encode([int(x) for x in rng.integers(-255, 256, 2000)]))
    streams = [enc[:n] for n in (1, 3, 17, len(enc) // 2)]
    streams += [bytes(rng.integers(0, 256, int(rng.integers(1, 400)), dtype=np.uint8)) for _ in range(40)]
    streams += [b"\x00" * 64]
    errors = 0
    for s in streams:
        (tmp_path / "w.bin").write_bytes(s)
        proc = subprocess.run([str(asan_tools.mlw_decode), str(tmp_path / "w.bin"), str(tmp_path / "o.bin")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        errors += proc.returncode == 1
    assert errors > len(streams) // 2


# ---------------------------------------------------------------------------------------
# Malformed input: negative return, never a crash
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def conv_result():
    model = tl.single_op_cases()[1].build()  # 3x3 conv: weights, scales
    return model, compile_vela(model, "ethos-u55-128")


def _words(payload: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(payload) // 4}I", payload))


def _pack(words) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


def _cmd_start(words) -> int:
    """Index of the first command word (after the COP1 header actions)."""
    i = 1
    while i < len(words):
        action = words[i] & 0xFF
        if action == 1:
            i += 3
        elif action == 2:
            return i + 1
        else:
            i += 1
    raise AssertionError("no command stream")


def _run_bad(asan_tools, result, tmp_path, payload=None, args=(), read_only=None):
    inputs = tl.random_inputs(result, 0)
    run = tl.run_npu(asan_tools.runner, result, inputs, tmp_path, payload=payload, read_only=read_only,
                     extra_args=args)
    assert run.returncode in (0, 1), f"runner crashed ({run.returncode}): {run.stderr[-2000:]}"
    return run


def test_bad_magic(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    run = _run_bad(asan_tools, result, tmp_path, payload=b"XXXX" + result.command_stream[4:])
    assert run.error_code == -2 and "COP1" in run.error_message


def test_truncated_payload(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    cs = result.command_stream
    for cut in (4, 8, 12, 16, 24, len(cs) // 2 & ~3, len(cs) - 4):
        run = _run_bad(asan_tools, result, tmp_path, payload=cs[:cut])
        assert run.error_code in (-2, -4), (cut, run.stdout)


def test_missing_stop_and_unknown_opcode(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    words = _words(result.command_stream)
    assert words[-1] & 0xFFFF == 0  # STOP
    no_stop = words[:-1] + [0x0012]  # KERNEL_WAIT instead of STOP
    run = _run_bad(asan_tools, result, tmp_path, payload=_pack(no_stop))
    assert run.error_code == -4 and "STOP" in run.error_message
    start = _cmd_start(words)
    unknown = list(words)
    unknown[start] = 0x01FE  # no such cmd0 register
    run = _run_bad(asan_tools, result, tmp_path, payload=_pack(unknown))
    assert run.error_code == -4 and "opcode" in run.error_message


def test_region_outside_base_addresses(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    # Only the read-only region: the IFM/OFM region (1) has no base address.
    run = _run_bad(asan_tools, result, tmp_path, args=["--regions", "1"])
    assert run.error_code == -5
    # Scratch area smaller than what the command stream addresses.
    run = _run_bad(asan_tools, result, tmp_path, args=["--size", "1", "16"])
    assert run.error_code == -5 and "region" in run.error_message.lower()
    # Read-only blob cut short: the weight stream lies partly outside.
    run = _run_bad(asan_tools, result, tmp_path, args=["--size", "0", "64"])
    assert run.error_code == -5
    # An IFM base address far outside the scratch area.
    words = _words(result.command_stream)
    start = _cmd_start(words)
    i = start
    while i < len(words):
        if words[i] & 0xFFFF == 0x4000:  # NPU_SET_IFM_BASE0
            words[i + 1] = 0x7FFFFFF0
            break
        i += 2 if words[i] & 0x4000 else 1
    run = _run_bad(asan_tools, result, tmp_path, payload=_pack(words))
    assert run.error_code == -5 and "IFM" in run.error_message


def test_unsupported_accelerator_config(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    words = _words(result.command_stream)
    assert words[1] & 0xFF == 1  # CONFIG action
    for bad in (words[2] | (1 << 28),            # product: Ethos-U65
                (words[2] & ~0xF) | 9,           # 512 MACs
                (words[2] & ~0xFF00) | (7 << 8)):  # SHRAM size of no Ethos-U55
        patched = list(words)
        patched[2] = bad
        run = _run_bad(asan_tools, result, tmp_path, payload=_pack(patched))
        assert run.error_code == -3, run.stdout
    # A model of a fixed 64-MAC NPU refuses a stream compiled for 128 MACs (as the real driver).
    run = _run_bad(asan_tools, result, tmp_path, args=["--macs", "64"])
    assert run.error_code == -3
    run = _run_bad(asan_tools, result, tmp_path, args=["--macs", "128"])
    assert run.ok


def test_random_corruption_never_crashes(asan_tools, conv_result, tmp_path):
    """Bit flips anywhere in the payload or in the weight/scale blob."""
    _, result = conv_result
    rng = np.random.default_rng(123)
    cs = bytearray(result.command_stream)
    ro = bytearray(result.read_only)
    outcomes = set()
    for t in range(60):
        p, r = bytearray(cs), bytearray(ro)
        target = p if t % 2 == 0 else r
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, len(target)))
            target[pos] ^= 1 << int(rng.integers(0, 8))
        run = _run_bad(asan_tools, result, tmp_path, payload=bytes(p), read_only=bytes(r))
        outcomes.add(run.error_code)
    assert any(code < 0 for code in outcomes)


def _patch_cmd(words, opcode, value):
    """Set every occurrence of register ``opcode`` (cmd0: its parameter; cmd1: its payload)."""
    out, i = list(words), _cmd_start(words)
    while i < len(out):
        w = out[i]
        if w & 0x4000:
            if w & 0x3FF == opcode & 0x3FF and opcode & 0x4000:
                out[i + 1] = value
            i += 2
        else:
            if w & 0x3FF == opcode and not opcode & 0x4000:
                out[i] = (w & 0xFFFF) | (value << 16)
            i += 1
    return out


def test_pathological_operations_refused(asan_tools, tmp_path):
    """Corruption that would make the model loop for hours (a zero OFM stride folding a huge OFM
    into a few bytes, a giant pooling window) is refused with a negative return."""
    model = tl._model(3, [(1, 9, 9, 5)], lambda lb, x: lb.max_pool2d(x, 3, 2, "VALID"))()
    result = compile_vela(model, "ethos-u55-128")
    words = _words(result.command_stream)
    # OFM_STRIDE_X = IFM_STRIDE_X = 0 with OFM_WIDTH_M1 = 65535
    zero_stride = _patch_cmd(_patch_cmd(_patch_cmd(words, 0x4014, 0), 0x4004, 0), 0x111, 0xFFFF)
    run = _run_bad(asan_tools, result, tmp_path, payload=_pack(zero_stride))
    assert run.error_code == -6 and "stride" in run.error_message
    big_kernel = _patch_cmd(_patch_cmd(words, 0x120, 0xFFFF), 0x121, 0xFFFF)  # KERNEL_WIDTH/HEIGHT_M1
    big_kernel = _patch_cmd(_patch_cmd(big_kernel, 0x102, 0xFFFF), 0x103, 0xFFFF)  # pads keep it "valid"
    run = _run_bad(asan_tools, result, tmp_path, payload=_pack(big_kernel))
    assert run.error_code < 0


def test_driver_api_errors(asan_tools, conv_result, tmp_path):
    _, result = conv_result
    # Payload size not a multiple of 4.
    run = _run_bad(asan_tools, result, tmp_path, payload=result.command_stream + b"\0\0")
    assert run.error_code == -2


# ---------------------------------------------------------------------------------------
# Python helper
# ---------------------------------------------------------------------------------------

def test_vela_result_fields(conv_result):
    model, result = conv_result
    assert result.command_stream[:4] == b"COP1"
    assert len(result.calls) == 1 and not result.cpu_operators
    assert result.scratch_size >= sum(t.size for t in result.inputs + result.outputs)
    assert result.npu_cycles > 0 and result.macs == 9 * 7 * 5 * 3 * 3 * 3
    for t in result.inputs + result.outputs:
        assert t.region == 1 and t.offset % 16 == 0 and t.offset + t.size <= result.scratch_size


def test_vela_raw_and_tflite_outputs_agree(conv_result):
    """The documented choice: Vela's TFLite output (custom op + OfflineMemoryAllocation) gives
    the same command stream, blob and IO placement as Regor's raw output."""
    from ethosu import regor
    from ethosu.vela import vela
    from ethosu.vela.architecture_features import CONFIG_FILES_PATH

    model, result = conv_result
    ini = (Path(CONFIG_FILES_PATH) / "Arm/vela.ini").read_text()
    sysconfig = ("[architecture]\nmacs=128\ncores=1\n[vela]\nsystem_config_name=Ethos_U55_High_End_Embedded\n"
                 "memory_mode_name=Shared_Sram\n" + ini)
    opts = vela.get_compiler_config(False, False, False, False, "Performance", None, False, False, False,
                                    False, False, False, False, "raw", False, False, False, False, False,
                                    "COP1", False, 16, "HillClimb", 10.0, "")
    raw = regor.compile("EthosU55", model, "TFLITE", sysconfig, options=opts, verbose=False)
    assert bytes(raw.command_stream) == result.command_stream
    assert bytes(raw.read_only.data) == result.read_only
    assert raw.scratch.size == result.scratch_size
    assert [(t.region, t.address) for t in raw.inputs] == [(t.region, t.offset) for t in result.inputs]
    assert [(t.region, t.address) for t in raw.outputs] == [(t.region, t.offset) for t in result.outputs]


def test_vela_cpu_operators_and_calls():
    def net(lb, x):
        y = lb.conv2d(x, 8, 3)
        z = lb.op("SIN", [y], y.shape, 0.1, 0)
        return lb.conv2d(z, 8, 1)

    result = compile_vela(tl._model(3, [(1, 8, 8, 16)], net)(), "ethos-u55-256")
    assert [c.type for c in result.cpu_operators] == ["SIN"]
    assert len(result.calls) == 2
    assert any("SIN" in w for w in result.warnings)
    with pytest.raises(ByocError, match="2 NPU calls"):
        result.command_stream  # noqa: B018


@pytest.mark.parametrize("kwargs,match", [
    ({"accelerator": "ethos-u55-512"}, "not supported"),
    ({"accelerator": "ethos-u65-256"}, "not supported"),
    ({"system_config": "Nope"}, "System_Config.Nope"),
    ({"memory_mode": "Nope"}, "Memory_Mode.Nope"),
    ({"optimise": "Fast"}, "optimise"),
])
def test_vela_helper_errors(conv_result, kwargs, match):
    model, _ = conv_result
    with pytest.raises(ByocError, match=match) as info:
        compile_vela(model, **kwargs)
    assert "\n" not in str(info.value)


def test_vela_helper_bad_models():
    with pytest.raises(ByocError, match="not a TFLite"):
        compile_vela(b"not a model")
    with pytest.raises(ByocError) as info:
        compile_vela(b"\x18\0\0\0TFL3" + b"\0" * 64)
    assert "\n" not in str(info.value)


def test_vela_custom_ini(conv_result):
    from ethosu.vela.architecture_features import CONFIG_FILES_PATH

    model, result = conv_result
    ini = (Path(CONFIG_FILES_PATH) / "Arm/vela.ini").read_text()
    custom = compile_vela(model, "ethos-u55-128", config_ini=ini)
    assert custom.command_stream == result.command_stream


# ---------------------------------------------------------------------------------------
# Build checks: Cortex-M55 -Werror, stack use, CMake targets
# ---------------------------------------------------------------------------------------

def test_builds_for_cortex_m55_with_bounded_stack(tmp_path):
    _need("arm-none-eabi-gcc")
    frames = {}
    for src in tl.SOURCES:
        obj = tmp_path / (src.stem + ".o")
        cmd = ["arm-none-eabi-gcc", "-std=c99", "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2",
               *tl.WARNINGS, "-fstack-usage", f"-I{tl.INCLUDE}", "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        for line in (tmp_path / (src.stem + ".su")).read_text().splitlines():
            loc, size, kind = line.split("\t")
            assert kind == "static", line  # no VLAs / alloca
            frames[loc.rsplit(":", 1)[-1]] = int(size)
    # Deepest call chain: invoke -> payload -> commands -> conv -> weights -> decoder.
    chain = ["ethosu_invoke_v3", "em_run_payload", "em_run_commands", "em_op_conv", "em_weights_block",
             "em_mlw_next", "em_mlw_chunk", "em_mlw_bits"]
    depth = sum(frames.get(f, 0) for f in chain)
    assert depth < 4096, {f: frames.get(f) for f in chain}
    syms = subprocess.run(["arm-none-eabi-nm", *map(str, tmp_path.glob("*.o"))], capture_output=True,
                          text=True).stdout
    assert not re.search(r"\b(malloc|calloc|realloc|free)\b", syms)


def test_cmake_targets(tmp_path):
    """kernels_c/CMakeLists.txt: `ethosu_core_driver` is byoc's model by default and Arm's driver
    with ETHOSU_DRIVER_PATH (a tree laid out like Arm's: include/ethosu_driver.h and a CMake project
    defining `ethosu_core_driver`) plus CMSIS_PATH (CMSIS/Core/Include/cmsis_compiler.h)."""
    _need("cmake", "ninja", "gcc")
    fake = tmp_path / "fake-driver"
    (fake / "src").mkdir(parents=True)
    (fake / "include").mkdir()
    (fake / "include" / "ethosu_driver.h").write_text("int fake_arm_driver(void);\n")
    (fake / "src" / "ethosu_driver.c").write_text(
        '#include "ethosu_driver.h"\nint fake_arm_driver(void) { return 42; }\n')
    (fake / "CMakeLists.txt").write_text(
        "add_library(ethosu_core_driver STATIC src/ethosu_driver.c)\n"
        "target_include_directories(ethosu_core_driver PUBLIC include)\n")
    cmsis = tmp_path / "fake-cmsis" / "CMSIS" / "Core" / "Include"
    cmsis.mkdir(parents=True)
    (cmsis / "cmsis_compiler.h").write_text("/* fake */\n")
    arm = [f"-DETHOSU_DRIVER_PATH={fake}", f"-DCMSIS_PATH={tmp_path / 'fake-cmsis'}"]
    for name, extra in (("model", []), ("arm", arm)):
        build = tmp_path / name
        cfg = subprocess.run(["cmake", "-G", "Ninja", "-S", str(REPO / "kernels_c"), "-B", str(build), *extra],
                             capture_output=True, text=True)
        assert cfg.returncode == 0, cfg.stdout + cfg.stderr
        out = subprocess.run(["cmake", "--build", str(build), "--target", "ethosu_core_driver"],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout
        lib = next(build.rglob("libethosu_core_driver.a"))
        syms = subprocess.run(["nm", str(lib)], capture_output=True, text=True).stdout
        if name == "model":
            assert "ethosu_invoke_v3" in syms and "fake_arm_driver" not in syms
        else:
            assert "fake_arm_driver" in syms and "ethosu_invoke_v3" not in syms


# ---------------------------------------------------------------------------------------
# Corstone-300 / QEMU
# ---------------------------------------------------------------------------------------

def test_qemu_cortex_m55(tmp_path):
    """A subset on the target: the same payloads, the driver API called from M55 firmware,
    outputs compared on the target with TFLM's; plus malformed payloads (negative return)."""
    _need(*CROSS_TOOLS)
    picks = [c for c in SINGLE if c.name in (
        "conv_1_9x7x3_k3s1Sd1_5_none", "conv_4_12x12x5_k3s1Sd2_7_none", "dw_mult2", "fc_40_10",
        "avgpool_3x3_s1_same", "add_bcast_c", "mul", "softmax_4x5x33", "tanh", "mean_hw",
        "concat_channels")] + MULTI[:2]
    assert len(picks) == 13
    blobs, expected_rc = [], []
    for i, case in enumerate(picks):
        model = case.build()
        result = compile_vela(model, tl.ACCELERATORS[i % 4])
        inputs = tl.random_inputs(result, i)
        blobs.append(tl.pack_fw_case(result, inputs, tl.tflm_run(model, inputs, len(result.outputs))))
        expected_rc.append(0)
    # Malformed on the target: bad magic, missing STOP, out-of-range IFM address.
    result = compile_vela(SINGLE[1].build(), "ethos-u55-128")
    inputs = tl.random_inputs(result, 0)
    ref = tl.tflm_run(SINGLE[1].build(), inputs)
    words = _words(result.command_stream)
    bad = [b"XXXX" + result.command_stream[4:], _pack(words[:-1] + [0x0012])]
    for payload in bad:
        blobs.append(tl.pack_fw_case(result, inputs, ref, expected_rc=-1, payload=payload))
        expected_rc.append(-1)
    run = tl.build_and_run_firmware(blobs, tmp_path)
    rows = tl.parse_fw_cases(run.stdout)
    assert len(rows) == len(blobs), run.stdout[-3000:]
    for row, exp in zip(rows, expected_rc):
        if exp == 0:
            assert row["rc"] == "0" and row["mismatches"] == "0", row
        else:
            assert int(row["rc"]) < 0, row
    assert run.passed, run.stdout[-3000:]
