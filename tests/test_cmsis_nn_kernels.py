"""Bit-exactness of byoc's CMSIS-NN kernel library (kernels_c/cmsis_nn) against TFLite Micro.

Every case is a single-operator int8 TFLite model run in TFLM (the golden reference) plus the
matching CMSIS-NN call with arguments computed by ``byoc.cmsisnn_params`` (what the code
generator will emit). The same cases run

* on the host: the portable C path, built with gcc -Wall -Wextra -Werror (one driver process);
* on Corstone-300 / QEMU: the Helium path (-mcpu=cortex-m55), the DSP path (kernels built with
  -mcpu=cortex-m55+nomve), the portable path on the target (+nomve+nodsp) and the portable path
  as Armv6-M code (a cortex-m0plus firmware), one firmware per path with the cases embedded;

and the kernels must also build for every supported core (build only). Buffer-size functions are
checked against the Python mirror and against Arm's own compiled size functions (from the
``executorch`` wheel, downloaded on demand; skipped when unavailable).

The default run is a bounded sweep; ``BYOC_FULL_SWEEP=1`` adds the exhaustive sweeps (marked slow;
``tests/sweep.py``: the default run does not generate them).
Helpers live in kernels_c/test/cmsis_nn_testlib.py.
"""

from __future__ import annotations

import glob
import importlib.util
import random
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "kernels_c" / "test"))

import cmsis_nn_testlib as tl  # noqa: E402

from byoc import cmsisnn_params as cp  # noqa: E402
from sweep import full_sweep_only
from toolchain import require_tools

OPS = [tl.OP_CONV, tl.OP_DW, tl.OP_FC, tl.OP_AVGPOOL, tl.OP_MAXPOOL, tl.OP_SOFTMAX, tl.OP_ADD,
       tl.OP_MUL]
OP_IDS = [tl.OP_NAMES[o] for o in OPS]


def _need_cross_tools() -> None:
    require_tools()


def _by_op(cases, results, op):
    picked = [(c, r) for c, r in zip(cases, results) if c.op == op]
    assert picked, f"no {tl.OP_NAMES[op]} cases"
    return [c for c, _ in picked], [r for _, r in picked]


# ---------------------------------------------------------------------------------------
# Host: portable C path
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_cases():
    return tl.default_cases()


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    return tl.build_host_driver(tmp_path_factory.mktemp("cmsis_nn_host"))


@pytest.fixture(scope="module")
def host_results(host_driver, default_cases, tmp_path_factory):
    return tl.run_host(host_driver, default_cases, tmp_path_factory.mktemp("cmsis_nn_run"))


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_host_portable_bit_exact(op, default_cases, host_results):
    cases, results = _by_op(default_cases, host_results, op)
    bad = tl.compare(cases, results)
    assert not bad, f"{len(bad)} of {len(cases)} cases differ from TFLM:\n" + "\n".join(bad[:20])


def test_host_scratch_is_what_size_functions_say(default_cases, host_results):
    """The runner gives each kernel exactly *_get_buffer_size() bytes followed by guard bytes;
    a status of 101 would mean a kernel wrote past it. Check that buffers were really used."""
    used = {tl.OP_NAMES[c.op]: r.scratch for c, r in zip(default_cases, host_results) if r.scratch}
    assert "conv" in used and "avgpool" not in used  # portable: conv has a size, avgpool none


@full_sweep_only
@pytest.mark.parametrize("family", ["conv", "dw", "fc", "pool", "softmax", "elementwise"])
def test_host_full_sweep(family, host_driver, tmp_path):
    make = {"conv": tl.random_conv_cases, "dw": tl.random_dw_cases, "fc": tl.random_fc_cases,
            "pool": tl.random_pool_cases, "softmax": tl.random_softmax_cases,
            "elementwise": tl.random_elementwise_cases}[family]
    seed = {"conv": 101, "dw": 102, "fc": 103, "pool": 104, "softmax": 105, "elementwise": 106}[family]
    cases = make(seed, tl.FULL_SWEEP[family])
    bad = tl.compare(cases, tl.run_host(host_driver, cases, tmp_path))
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_host_rejects_bad_arguments(host_driver, tmp_path):
    """Unsupported arguments give ARM_CMSIS_NN_ARG_ERROR, not a crash: a filter depth that
    does not divide the input depth (no valid group count)."""
    case = tl.conv_case("conv_bad_groups", 1, (1, 4, 4, 8), 4, (3, 3), entry=1)
    case.params[7] = 5
    res = tl.run_host(host_driver, [case], tmp_path)[0]
    assert res.status == -1


# ---------------------------------------------------------------------------------------
# Buffer sizes: C == Python mirror == Arm
# ---------------------------------------------------------------------------------------

def _size_queries(count: int, seed: int):
    """Consistent (TFLite SAME / VALID) geometries, plus odd ones."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        n = rng.choice([1, 1, 1, 2])
        h = rng.choice([1, 1, 2, 5, 8, 16, 25])
        w = rng.randint(1, 40)
        c = rng.randint(1, 70)
        kh = 1 if rng.random() < 0.3 else rng.randint(1, 7)
        kw = rng.randint(1, 7)
        sh, sw = rng.randint(1, 3), rng.randint(1, 3)
        dh, dw = (1, 1) if rng.random() < 0.7 else (rng.randint(1, 2), rng.randint(1, 2))
        cm = rng.choice([1, 1, 2, 3])
        pad = rng.choice(["SAME", "VALID"])
        oh, ph = cp.output_size_and_padding(h, kh, sh, pad, dh)
        ow, pw = cp.output_size_and_padding(w, kw, sw, pad, dw)
        if oh < 1 or ow < 1:
            continue
        out.append(dict(n=n, h=h, w=w, c=c, cm=cm, kh=kh, kw=kw, oh=oh, ow=ow, sh=sh, sw=sw,
                        ph=ph, pw=pw, dh=dh, dw=dw))
    return out


def _python_sizes(q):
    inp, out = (q["n"], q["h"], q["w"], q["c"]), (q["n"], q["oh"], q["ow"], q["c"] * q["cm"])
    geo = dict(padding_hw=(q["ph"], q["pw"]), stride_hw=(q["sh"], q["sw"]),
               dilation_hw=(q["dh"], q["dw"]))
    conv = [cp.conv_buffer_size(p, inp, (q["c"] * q["cm"], q["kh"], q["kw"], q["c"]), out, **geo)
            for p in ("mve", "dsp", "c")]
    dw = [cp.depthwise_buffer_size(p, inp, (1, q["kh"], q["kw"], q["c"] * q["cm"]), out,
                                   ch_mult=q["cm"], **geo) for p in ("mve", "dsp", "c")]
    fc = [cp.fully_connected_buffer_size(p, q["c"] * q["cm"]) for p in ("mve", "dsp", "c")]
    pool = [cp.avgpool_buffer_size(p, q["ow"], q["c"]) for p in ("mve", "dsp", "c")]
    return conv + dw + fc + pool


def test_buffer_sizes_c_equal_python(host_driver, tmp_path):
    queries = _size_queries(400, 7)
    cases = [tl.sizes_case(f"sizes_{i}", (q["n"], q["h"], q["w"], q["c"]), q["cm"], (q["kh"], q["kw"]),
                           (q["oh"], q["ow"]), (q["sh"], q["sw"]), (q["ph"], q["pw"]), (q["dh"], q["dw"]))
             for i, q in enumerate(queries)]
    results = tl.run_host(host_driver, cases, tmp_path)
    for q, res in zip(queries, results):
        c_sizes = [int(v) for v in res.output.view(np.int32)]
        assert c_sizes == _python_sizes(q), q


def _load_arm_sizes(tmp_dir: Path):
    """Arm's compiled CMSIS-NN size functions from the executorch wheel, or None."""
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "executorch==1.5.1",
           "-d", str(tmp_dir)]
    try:
        subprocess.run(pip, check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    wheels = glob.glob(str(tmp_dir / "executorch-1.5.1-*.whl"))
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[0]) as z:
        names = [n for n in z.namelist()
                 if n.startswith("executorch/backends/cortex_m/library/_cmsis_nn/cmsis_nn")
                 and n.endswith(".so")]
        if not names:
            return None
        so = tmp_dir / Path(names[0]).name
        so.write_bytes(z.read(names[0]))
    try:
        spec = importlib.util.spec_from_file_location("cmsis_nn", so)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except Exception:  # noqa: BLE001 - wrong Python ABI, missing libraries...
        return None
    return mod


@pytest.fixture(scope="module")
def arm_sizes(tmp_path_factory):
    mod = _load_arm_sizes(tmp_path_factory.mktemp("executorch"))
    if mod is None:
        pytest.skip("Arm's CMSIS-NN size functions (executorch==1.5.1 wheel) unavailable")
    return mod


def test_buffer_sizes_equal_arm(arm_sizes):
    m = arm_sizes
    backends = {"mve": m.Backend.MVE, "dsp": m.Backend.DSP, "c": m.Backend.SCALAR}
    a8w8 = m.DataType.A8W8
    mismatches = []
    for q in _size_queries(1500, 11):
        inp = [q["n"], q["h"], q["w"], q["c"]]
        cout = q["c"] * q["cm"]
        out = [q["n"], q["oh"], q["ow"], cout]
        geo = dict(padding_hw=[q["ph"], q["pw"]], stride_hw=[q["sh"], q["sw"]],
                   dilation_hw=[q["dh"], q["dw"]])
        for path, be in backends.items():
            ours = cp.conv_buffer_size(path, inp, (cout, q["kh"], q["kw"], q["c"]), out,
                                       tuple(geo["padding_hw"]), tuple(geo["stride_hw"]),
                                       tuple(geo["dilation_hw"]))
            arm = m.convolve_wrapper_buffer_size(be, a8w8, input_nhwc=inp,
                                                 filter_nhwc=[cout, q["kh"], q["kw"], q["c"]],
                                                 output_nhwc=out, **geo)
            if ours != arm:
                mismatches.append(("conv", path, q, ours, arm))
            ours = cp.depthwise_buffer_size(path, inp, (1, q["kh"], q["kw"], cout), out,
                                            tuple(geo["padding_hw"]), tuple(geo["stride_hw"]),
                                            tuple(geo["dilation_hw"]), q["cm"])
            arm = m.depthwise_conv_wrapper_buffer_size(be, a8w8, input_nhwc=inp,
                                                       filter_nhwc=[1, q["kh"], q["kw"], cout],
                                                       output_nhwc=out, ch_mult=q["cm"], **geo)
            if ours != arm:
                mismatches.append(("depthwise", path, q, ours, arm))
            ours = cp.fully_connected_buffer_size(path, cout)
            arm = m.fully_connected_buffer_size(be, a8w8, filter_nhwc=[q["c"], 1, 1, cout])
            if ours != arm:
                mismatches.append(("fc", path, q, ours, arm))
            ours = cp.avgpool_buffer_size(path, q["ow"], q["c"])
            arm = m.avgpool_buffer_size(be, a8w8, dim_dst_width=q["ow"], ch_src=q["c"])
            if ours != arm:
                mismatches.append(("avgpool", path, q, ours, arm))
    assert not mismatches, f"{len(mismatches)} size mismatches, e.g. {mismatches[:5]}"
    assert cp.kernel_path("cortex-m55") == "mve" and m.resolve_backend(m.CortexM.M55) == m.Backend.MVE
    assert cp.kernel_path("cortex-m4") == "dsp" and m.resolve_backend(m.CortexM.M4) == m.Backend.DSP
    assert cp.kernel_path("cortex-m3") == "c" and m.resolve_backend(m.CortexM.M3) == m.Backend.SCALAR


def test_buffer_sizes_s16_equal_arm(arm_sizes):
    """The 16x8 (A16W8) size mirrors (and so the C size functions, checked against them in
    tests/test_cmsis_nn_s16.py) equal Arm's compiled size functions on every path."""
    m = arm_sizes
    backends = {"mve": m.Backend.MVE, "dsp": m.Backend.DSP, "c": m.Backend.SCALAR}
    a16 = m.DataType.A16W8
    mismatches = []
    for q in _size_queries(1500, 13):
        inp = [q["n"], q["h"], q["w"], q["c"]]
        cout = q["c"] * q["cm"]
        out = [q["n"], q["oh"], q["ow"], cout]
        geo = dict(padding_hw=[q["ph"], q["pw"]], stride_hw=[q["sh"], q["sw"]],
                   dilation_hw=[q["dh"], q["dw"]])
        tgeo = {k: tuple(v) for k, v in geo.items()}
        for path, be in backends.items():
            ours = cp.conv_buffer_size_s16(path, inp, (cout, q["kh"], q["kw"], q["c"]), out, **tgeo)
            arm = m.convolve_wrapper_buffer_size(be, a16, input_nhwc=inp, filter_nhwc=[cout, q["kh"], q["kw"], q["c"]],
                                                 output_nhwc=out, activation_min=-32768, activation_max=32767, **geo)
            if ours != arm:
                mismatches.append(("conv", path, q, ours, arm))
            ours = cp.depthwise_buffer_size_s16(path, inp, (1, q["kh"], q["kw"], cout), out, ch_mult=q["cm"], **tgeo)
            arm = m.depthwise_conv_wrapper_buffer_size(be, a16, input_nhwc=inp,
                                                       filter_nhwc=[1, q["kh"], q["kw"], cout], output_nhwc=out,
                                                       ch_mult=q["cm"], activation_min=-32768,
                                                       activation_max=32767, **geo)
            if ours != arm:
                mismatches.append(("depthwise", path, q, ours, arm))
            ours = cp.fully_connected_buffer_size_s16(path, cout)
            arm = m.fully_connected_buffer_size(be, a16, filter_nhwc=[q["c"], 1, 1, cout])
            if ours != arm:
                mismatches.append(("fc", path, q, ours, arm))
            ours = cp.avgpool_buffer_size_s16(path, q["ow"], q["c"])
            arm = m.avgpool_buffer_size(be, a16, dim_dst_width=q["ow"], ch_src=q["c"])
            if ours != arm:
                mismatches.append(("avgpool", path, q, ours, arm))
    assert not mismatches, f"{len(mismatches)} size mismatches, e.g. {mismatches[:5]}"


def test_vector_sum_python_mirror():
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(5, 9)).astype(np.int8)
    bias = rng.integers(-1000, 1000, size=5).astype(np.int32)
    got = cp.vector_sum(w, 17, 2, bias)
    want = bias + 17 * (w.astype(np.int64) + 2).sum(axis=1)
    assert got.dtype == np.int32 and np.array_equal(got, want)


def test_kernel_path_names():
    assert cp.kernel_path("cortex-m55+nomve") == "dsp"
    assert [cp.kernel_path(c) for c in ("cortex-m0plus", "cortex-m7", "cortex-m33", "cortex-m85")] == \
        ["c", "dsp", "dsp", "mve"]
    with pytest.raises(ValueError):
        cp.kernel_path("cortex-a53")


# ---------------------------------------------------------------------------------------
# Corstone-300 / QEMU: Helium and DSP paths
# ---------------------------------------------------------------------------------------

#: Kernel paths on the Cortex-M55 (extensions compiled out), plus the portable path built as
#: Armv6-M code (m0plus: Thumb-1 assembly blocks and 32-bit-only requantization of its own).
QEMU_PATHS = ["mve", "dsp", "c", "m0plus"]


@pytest.fixture(scope="module")
def firmwares(default_cases, tmp_path_factory):
    _need_cross_tools()
    root = tmp_path_factory.mktemp("cmsis_nn_fw")

    def build(path):
        try:
            return tl.build_case_firmware(default_cases, root / path, path)
        except Exception as exc:  # noqa: BLE001 - reported by the test that needs it
            return exc

    with ThreadPoolExecutor(max_workers=len(QEMU_PATHS)) as pool:
        return dict(zip(QEMU_PATHS, pool.map(build, QEMU_PATHS)))


@pytest.mark.parametrize("path", QEMU_PATHS)
def test_qemu_bit_exact(path, firmwares, default_cases):
    elf = firmwares[path]
    if isinstance(elf, Exception):
        raise AssertionError(f"{path} firmware build failed: {elf}")
    rows, run = tl.run_case_firmware(elf, default_cases)
    assert run.result.get("path") == tl.firmware_config(path)[2], run.result
    bad = tl.firmware_failures(default_cases, rows)
    assert not bad, f"{len(bad)} of {len(default_cases)} cases fail on {path}:\n" + "\n".join(bad[:25])
    assert run.passed


@full_sweep_only
@pytest.mark.parametrize("path", QEMU_PATHS)
def test_qemu_full_sweep(path, tmp_path):
    _need_cross_tools()
    cases = tl.full_sweep_cases()
    elf = tl.build_case_firmware(cases, tmp_path, path)
    rows, _ = tl.run_case_firmware(elf, cases, timeout_s=1200)
    bad = tl.firmware_failures(cases, rows)
    assert not bad, f"{len(bad)} of {len(cases)} cases fail on {path}:\n" + "\n".join(bad[:25])


BUILD_ONLY = {"cortex-m0plus": "c", "cortex-m3": "c", "cortex-m4": "dsp", "cortex-m7": "dsp",
              "cortex-m33": "dsp", "cortex-m85": "mve"}


def test_cross_build_all_cores(tmp_path):
    """The library compiles warning-free (-Werror) for every supported core and selects the
    expected path there."""
    _need_cross_tools()
    failures = []

    def build(cpu):
        return cpu, tl.build_library_for_cpu(cpu, tmp_path / cpu)

    with ThreadPoolExecutor(max_workers=tl.jobs()) as pool:
        for cpu, (ok, detail) in pool.map(build, BUILD_ONLY):
            if not ok:
                failures.append(f"{cpu}: {detail}")
            elif detail != BUILD_ONLY[cpu]:
                failures.append(f"{cpu}: built the {detail} path, expected {BUILD_ONLY[cpu]}")
    assert not failures, "\n".join(failures)


def test_cmsis_nn_path_selects_external_sources(tmp_path):
    """-DCMSIS_NN_PATH builds target cmsis-nn from another CMSIS-NN tree (Arm's layout:
    Include/ and Source/*/*.c). Arm's sources are not available here, so the check points it at
    byoc's own tree, which has the same layout."""
    _need_cross_tools()
    ok, detail = tl.build_library_for_cpu("cortex-m4", tmp_path,
                                          [f"-DCMSIS_NN_PATH={tl.LIB_DIR}"])
    assert ok, detail
    log = (tmp_path / "build.log").read_text()
    assert "cmsis-nn: Arm CMSIS-NN from" in log
