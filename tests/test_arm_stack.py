"""byoc's kernels next to Arm's real stack.

* Namespace (always): byoc's CMSIS-NN library defines only functions of the public CMSIS-NN
  API (declared in its ``arm_nnfunctions.h``) and ``byoc_nn_*`` helpers, on every kernel path
  (cortex-m55 Helium, cortex-m4 DSP, cortex-m0plus portable), so it can share an image with
  Arm's library.
* With Arm's sources (``BYOC_ARM_CMSIS_NN`` / ``BYOC_ARM_ETHOSU_DRIVER`` / ``BYOC_ARM_CMSIS``
  pointing at checkouts; skipped otherwise): see the tests below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import byoc
from byoc import zoo
from byoc.tflite.builder import LayerBuilder
from toolchain import require_tools

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "kernels_c" / "test"))
import cmsis_nn_testlib as tl  # noqa: E402

CROSS = ("arm-none-eabi-gcc", "cmake", "ninja")
PATH_CPUS = {"cortex-m55": "mve", "cortex-m4": "dsp", "cortex-m0plus": "c"}


def declared_functions(header: Path) -> set[str]:
    """Names of the functions a CMSIS-NN ``arm_nnfunctions.h`` declares."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header.read_text(), flags=re.S)
    return set(re.findall(r"\b(arm_[a-z0-9_]+)\s*\(", text))


def defined_globals(library: Path) -> set[str]:
    """Global symbols an archive defines (arm-none-eabi-nm)."""
    out = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(library)],
                         capture_output=True, text=True, check=True).stdout
    return {parts[2] for parts in (ln.split() for ln in out.splitlines()) if len(parts) == 3}


def build_library(cpu: str, build_dir: Path, cmake_args=()) -> Path:
    ok, detail = tl.build_library_for_cpu(cpu, build_dir, cmake_args)
    assert ok, detail
    libs = sorted(build_dir.rglob("libcmsis-nn.a"))
    assert len(libs) == 1, libs
    return libs[0]


@pytest.fixture(scope="module")
def byoc_libraries(tmp_path_factory) -> dict[str, Path]:
    """byoc's kernel library built for each kernel path (cpu -> libcmsis-nn.a)."""
    require_tools(CROSS)
    root = tmp_path_factory.mktemp("byoc_nn")
    return {cpu: build_library(cpu, root / cpu) for cpu in PATH_CPUS}


@pytest.mark.parametrize("cpu", list(PATH_CPUS))
def test_byoc_library_defines_only_api_and_byoc_nn_names(byoc_libraries, cpu):
    api = declared_functions(tl.LIB_DIR / "Include" / "arm_nnfunctions.h")
    stray = sorted(s for s in defined_globals(byoc_libraries[cpu])
                   if not s.startswith("byoc_nn_") and s not in api)
    assert not stray, f"{cpu}: symbols outside the CMSIS-NN API and byoc_nn_*: {stray}"


def test_private_headers_are_not_arm_header_names():
    """byoc's private headers live under Include/Internal/ with byoc names, so a build that
    also has Arm's Include/ on its path never picks the other library's internal header."""
    public = {p.name for p in (tl.LIB_DIR / "Include").glob("*.h")}
    assert public == {"arm_nnfunctions.h", "arm_nn_types.h", "arm_nn_math_types.h"}
    internal = {p.name for p in (tl.LIB_DIR / "Include" / "Internal").glob("*.h")}
    assert internal and all(name.startswith("byoc_nn_") for name in internal)


# ------------------------------------------------------------------ with Arm's sources

def arm_trees(var: str) -> list[Path]:
    """The checkouts ``var`` names (several separated by ``os.pathsep``, e.g. CMSIS-NN main
    and v7.0.0); skips the test when it is unset."""
    value = os.environ.get(var, "")
    if not value:
        pytest.skip(f"{var} is not set (path of an Arm checkout; see README, vendor SDKs)")
    return [Path(p) for p in value.split(os.pathsep) if p]


def _int8_families() -> bytes:
    """One int8 model with every CMSIS-NN kernel family byoc calls: convolutions (generic,
    1x1, 1xN, strided, per-tensor), depthwise (ch_mult 1 and 2), pools, fully connected
    (per-channel and per-tensor), softmax, add, mul."""
    lb = LayerBuilder(seed=41)
    x = lb.input((1, 9, 11, 8), scale=0.04, zero_point=-6)
    r = lb.input((1, 1, 13, 4), scale=0.02, zero_point=9)
    y = lb.conv2d(x, 12, 3, activation="RELU")
    outs = [lb.conv2d(y, 16, 1), lb.conv2d(x, 6, (2, 4), stride=(1, 3), per_channel=False),
            lb.conv2d(r, 5, (1, 3)),
            lb.depthwise_conv2d(y, 3), lb.depthwise_conv2d(x, 3, depth_multiplier=2, stride=2),
            lb.avg_pool2d(y, 2, 2), lb.max_pool2d(y, 3, 1, padding="SAME")]
    flat = lb.reshape(y, (1, -1))
    outs += [lb.softmax(lb.fully_connected(flat, 20), beta=0.5),
             lb.fully_connected(lb.reshape(r, (4, -1)), 7, per_channel=False),
             lb.add(y, lb.conv2d(y, 12, 1), activation="RELU"),
             lb.mul(x, lb.constant(x.shape, 0.05, -7), activation="RELU6")]
    for o in outs:
        lb.output(o)
    return lb.build()


def _int16_families() -> bytes:
    """The int16 ("16x8") families: conv, depthwise, pools, fully connected, softmax, add, mul
    (equal shapes, and broadcasting a per-channel / scalar constant: calls over blocks),
    TANH / LOGISTIC (input scale 2^-11: TFLM's power-of-two TANH and its general LOGISTIC
    path, both arm_nn_activation_s16 with left_shift 1), batch matmul."""
    scale = 0.0002
    lb = LayerBuilder(seed=42, dtype=np.int16)
    x = lb.input((1, 9, 11, 8), scale=scale)
    t = lb.input((3, 40), scale=2.0 ** -11)
    flat = lb.reshape(x, (1, -1))
    outs = [lb.conv2d(x, 12, 3, activation="RELU"), lb.conv2d(x, 5, 1, per_channel=False),
            lb.depthwise_conv2d(x, 3), lb.avg_pool2d(x, 2, 2), lb.max_pool2d(x, 3, 1, padding="SAME"),
            lb.softmax(lb.fully_connected(flat, 20, per_channel=False), beta=0.5),
            lb.add(x, lb.constant(x.shape, scale * 2, 0), activation="RELU"),
            lb.mul(x, lb.constant(x.shape, scale, 0), activation="RELU6"),
            lb.op("TANH", [t], t.shape, 1 / 32768, 0), lb.op("LOGISTIC", [t], t.shape, 1 / 32768, 0),
            lb.batch_matmul(lb.reshape(x, (9, 11, 8)), lb.constant((1, 8, 5), scale, 0),
                            out_scale=scale * scale * 32768 * 8),
            lb.add(x, lb.constant((1, 1, 1, 8), scale * 3, 0)),
            lb.mul(lb.constant((1,), scale * 2, 0), x)]
    for o in outs:
        lb.output(o)
    return lb.build()


def _int8_more() -> bytes:
    """The int8 calls wired after the first families (issue 16): TRANSPOSE_CONV on Arm's
    scatter path (stride 3) and on its reverse path (stride <= 2, more than 16 channels);
    standalone PAD / PADV2 (arm_pad_s8: every NHWC field, and channel padding); TRANSPOSE
    (arm_transpose_s8: 2-D, 3-D, 4-D and the Helium 4-D path); ADD / MUL broadcasting
    constants and an activation (the equal-shape kernels over blocks of the output);
    BATCH_MATMUL with a constant RHS broadcast over the batch, and of two computed tensors
    under adj_x (run-time transposed copies; Arm's Helium kernel sums in ctx)."""
    sys.path.insert(0, str(REPO / "tests"))
    from test_cmsisnn_new_ops import broadcasts, padv2, transpose
    from test_int8_ops import transpose_conv
    lb = LayerBuilder(seed=43)
    x = lb.input((1, 5, 6, 4), scale=0.03, zero_point=5)
    r = lb.input((1, 4, 3, 20), scale=0.05, zero_point=-9)
    outs = [transpose_conv(lb, x, 5, (3, 3), 3, "SAME", activation="RELU"),
            transpose_conv(lb, r, 6, (3, 2), 2, "VALID", per_channel=False),
            transpose_conv(lb, r, 4, (2, 2), 1, "SAME", bias=False),
            lb.pad(x, [(1, 0), (0, 2), (1, 1), (2, 1)]),
            padv2(lb, r, [(0, 0), (2, 0), (0, 1), (0, 0)], -100),
            transpose(lb, x, (0, 3, 1, 2)), transpose(lb, r, (0, 1, 3, 2)),
            transpose(lb, lb.reshape(x, (5, 24)), (1, 0)),
            transpose(lb, lb.reshape(r, (4, 3, 20)), (2, 0, 1))]
    b = lb.input((1, 9, 11, 8), scale=0.04, zero_point=-5)
    outs += broadcasts(lb, b, lb.input((1, 1, 11, 8), scale=0.03, zero_point=9))
    m = lb.input((2, 3, 6, 7), scale=0.04, zero_point=-6)
    n = lb.input((2, 1, 6, 5), scale=0.05, zero_point=8)
    outs += [lb.batch_matmul(m, lb.constant((7, 9), 0.03, -3)),
             lb.batch_matmul(m, n, adj_x=True, out_zp=4)]
    for o in outs:
        lb.output(o)
    return lb.build()


def _svdf() -> bytes:
    """SVDF (stateful: validated as a stream, with the reset): arm_svdf_state_s16_s8 (int16
    state, rank 2) and arm_svdf_s8 (int8 state, rank 1, memory 1 and 5)."""
    lb = LayerBuilder(seed=44)
    x = lb.input((1, 12), scale=0.05, zero_point=-4)
    y = lb.svdf(x, 6, 2, 7)
    lb.output(lb.svdf(lb.svdf(y, 5, 1, 5, state_dtype=np.int8), 4, 1, 1, state_dtype=np.int8))
    return lb.build()


FAMILIES = {"int8": _int8_families, "int16": _int16_families, "int8_more": _int8_more,
            "svdf": _svdf}
#: kernel calls each family's package must make
MIN_KERNELS = {"int8": 8, "int16": 8, "int8_more": 17, "svdf": 3}


@pytest.mark.parametrize("cpu", list(PATH_CPUS))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_arm_cmsis_nn_bit_exact_on_qemu(family, cpu, tmp_path):
    """Packages built against each Arm CMSIS-NN checkout (Arm's CMake project) are bit-exact
    with TFLM on QEMU, every kernel family offloaded, on the Helium, DSP and portable paths."""
    require_tools()
    model = tmp_path / f"{family}.tflite"
    model.write_bytes(FAMILIES[family]())
    for tree in arm_trees("BYOC_ARM_CMSIS_NN"):
        # a stateful family runs as a stream of 4 steps (then the reset check)
        res = byoc.validate(model, target="cmsis-nn,c", backend="qemu", cpu=cpu,
                            inputs=4 if family == "svdf" else 2,
                            seed=3, work_dir=tmp_path / tree.name, cmsis_nn_path=tree)
        assert res.status == "pass" and res.mismatches == 0, (tree, res)
        assert res.libraries["cmsis-nn"]["source"] == "arm"
        assert res.libraries["cmsis-nn"]["path"] == str(tree.absolute())
        meta = json.loads((Path(res.output_dir) / "metadata.json").read_text())
        kernels = [op for op in meta["operators"] if op.get("backend") == "cmsis-nn"]
        assert len(kernels) >= MIN_KERNELS[family], meta["operators"]
        # Arm's archive is the one linked (Arm's own CMake project, its build directory)
        fw_map = (tmp_path / tree.name / "firmware" / "build" / "firmware.map").read_text()
        assert "byoc_arm_cmsis_nn/libcmsis-nn.a" in fw_map
        assert "byoc_nn_" not in fw_map


@pytest.mark.parametrize("cpu", list(PATH_CPUS))
def test_byoc_and_arm_cmsis_nn_link_into_one_image(byoc_libraries, cpu, tmp_path):
    """Every object of byoc's library plus every member of Arm's that defines a symbol byoc's
    lacks link into one image without a duplicate symbol, and the only names both define are
    functions of Arm's public API (same signatures: a call resolves correctly to either)."""
    for tree in arm_trees("BYOC_ARM_CMSIS_NN"):
        arm_lib = build_library(cpu, tmp_path / tree.name, [f"-DCMSIS_NN_PATH={tree}"])
        ours, arms = defined_globals(byoc_libraries[cpu]), defined_globals(arm_lib)
        arm_api = declared_functions(tree / "Include" / "arm_nnfunctions.h")
        shared = ours & arms
        assert shared and shared <= arm_api, sorted(shared - arm_api)
        main = tmp_path / "main.c"
        main.write_text("int main(void) { return 0; }\n")
        flags = _cpu_flags(cpu)
        cmd = ["arm-none-eabi-gcc", *flags, "--specs=nosys.specs", str(main),
               "-Wl,--whole-archive", str(byoc_libraries[cpu]), "-Wl,--no-whole-archive",
               *[f"-Wl,-u,{s}" for s in sorted(arms - ours)], str(arm_lib), "-lm",
               "-o", str(tmp_path / f"both_{tree.name}.elf")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        linked = defined_globals(tmp_path / f"both_{tree.name}.elf")
        assert {s for s in linked if s.startswith("byoc_nn_")}, "byoc's helpers missing"
        assert (arms - ours) <= linked, "Arm-only functions missing from the image"


def _cpu_flags(cpu: str) -> list[str]:
    from byoc.platform import corstone300 as platform  # noqa: F401 (toolchain file facts)
    return {"cortex-m55": ["-mcpu=cortex-m55", "-mfloat-abi=hard", "-mthumb"],
            "cortex-m4": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb"],
            "cortex-m0plus": ["-mcpu=cortex-m0plus", "-mfloat-abi=soft", "-mthumb"]}[cpu]


def test_ethosu_package_builds_against_arm_driver_with_werror(tmp_path):
    """``compile --target ethos-u55-256,cmsis-nn,c --ethosu-driver-path D --cmsis-path C``:
    the package records Arm's driver and its firmware (harness, platform, model and Arm's
    driver with -Wall -Wextra -Werror) builds and links Arm's ``ethosu_irq_handler`` into
    the NPU vector, the driver built for ethos-u55-256."""
    require_tools(CROSS)
    driver, = arm_trees("BYOC_ARM_ETHOSU_DRIVER")[:1]
    cmsis, = arm_trees("BYOC_ARM_CMSIS")[:1]
    pkg = tmp_path / "pkg"
    out = subprocess.run(
        [sys.executable, "-m", "byoc.cli", "compile", str(_small_cnn(tmp_path)),
         "--target", "ethos-u55-256,cmsis-nn,c", "--ethosu-driver-path", str(driver),
         "--cmsis-path", str(cmsis), "-o", str(pkg)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    meta = json.loads((pkg / "metadata.json").read_text())
    lib = meta["libraries"]["ethos-u-driver"]
    assert lib["source"] == "arm" and lib["npu_config"] == "ethos-u55-256"
    assert lib["path"] == str(driver.absolute()) and lib["cmsis_path"] == str(cmsis.absolute())

    from byoc.firmware import harness_source, io_tensors, load_package
    from byoc.libraries import Libraries
    from byoc.platform import corstone300 as platform
    compiled = load_package(pkg)
    ins, outs = io_tensors(compiled)
    harness = tmp_path / "main.c"
    harness.write_text(harness_source(compiled.prefix, ins, outs,
                                      [[np.zeros(io.shape, io.dtype) for io in ins]], None,
                                      npu=True))
    elf = platform.build_firmware(pkg, [harness], tmp_path / "build", cpu=compiled.cpu,
                                  cmake_args=[*Libraries.from_metadata(meta).cmake_args(),
                                              "-DBYOC_WERROR=ON"])
    build = tmp_path / "build"
    ninja = (build / "build.ninja").read_text()
    assert "ethosu_driver.c" in ninja and "-Werror" in ninja
    cache = (build / "CMakeCache.txt").read_text()
    assert "ETHOSU_TARGET_NPU_CONFIG:STRING=ethos-u55-256" in cache
    fw_map = elf.with_suffix(".map").read_text()
    handler = re.search(r"\.text\.ethosu_irq_handler\s+0x\w+\s+0x\w+\s+(\S+)", fw_map)
    assert handler and "byoc_arm_ethosu_driver/libethosu_core_driver.a" in handler.group(1)


def test_arm_driver_on_plain_qemu_is_refused(tmp_path, monkeypatch):
    """Without an NPU in QEMU, validate with Arm's driver stops with one line (exit code 2)
    instead of a firmware waiting forever for the NPU interrupt."""
    driver, = arm_trees("BYOC_ARM_ETHOSU_DRIVER")[:1]
    cmsis, = arm_trees("BYOC_ARM_CMSIS")[:1]
    monkeypatch.setenv("BYOC_QEMU_NPU", "0")      # no NPU in the QEMU on PATH
    monkeypatch.setenv("BYOC_NPU_QEMU", "off")    # and byoc's Ethos-U55 QEMU not used
    monkeypatch.setenv("BYOC_NPU_QEMU", "off")  # nor byoc's emulator with the device
    proc = subprocess.run(
        [sys.executable, "-m", "byoc.cli", "validate", str(_small_cnn(tmp_path)),
         "--target", "ethos-u55-128,cmsis-nn,c", "--ethosu-driver-path", str(driver),
         "--cmsis-path", str(cmsis)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "QEMU mps3-an547 has no Ethos-U55" in lines[0], proc.stderr


def _small_cnn(tmp_path: Path) -> Path:
    path = tmp_path / "small_cnn.tflite"
    if not path.exists():
        path.write_bytes(zoo.small_cnn())
    return path


# ------------------------------------------------------------ options (no Arm sources needed)

@pytest.mark.parametrize("args, message", [
    (["--cmsis-nn-path", "/nonexistent/cmsis-nn"], "--cmsis-nn-path /nonexistent/cmsis-nn: no such directory"),
    (["--cmsis-nn-path", "{tmp}"], "not a CMSIS-NN checkout (no Include/arm_nnfunctions.h)"),
    (["--ethosu-driver-path", "{tmp}"], "not a ethos-u-core-driver checkout"),
    (["--cmsis-path", "{tmp}"], "not a CMSIS_6/CMSIS_5 checkout"),
])
def test_bad_library_paths_are_one_line_errors(tmp_path, args, message):
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "compile", str(_small_cnn(tmp_path)),
                           "--target", "cmsis-nn,c", "-o", str(out), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not out.exists()


def test_driver_without_cmsis_and_host_backend_are_refused(tmp_path):
    fake_driver = tmp_path / "driver"
    (fake_driver / "include").mkdir(parents=True)
    (fake_driver / "include" / "ethosu_driver.h").write_text("")
    (fake_driver / "CMakeLists.txt").write_text("")
    model = str(_small_cnn(tmp_path))
    for argv, message in (
            (["compile", model, "--target", "ethos-u55-128,cmsis-nn,c", "-o", str(tmp_path / "o"),
              "--ethosu-driver-path", str(fake_driver)], "--ethosu-driver-path needs --cmsis-path"),
            (["validate", model, "--target", "cmsis-nn,c", "--backend", "host",
              "--cmsis-nn-path", str(tl.LIB_DIR)], "the host backend builds byoc's bundled kernels")):
        proc = subprocess.run([sys.executable, "-m", "byoc.cli", *argv], capture_output=True,
                              text=True)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_cmsis_nn_path_goes_through_the_library_cmake_project(tmp_path):
    """--cmsis-nn-path builds the tree through its own CMakeLists.txt (add_subdirectory) and
    records it; exercised without Arm's sources by pointing it at byoc's own tree, which has
    Arm's layout (Include/arm_nnfunctions.h, a CMakeLists.txt defining target cmsis-nn)."""
    require_tools()
    res = byoc.validate(_small_cnn(tmp_path), target="cmsis-nn,c", backend="qemu", inputs=1,
                        work_dir=tmp_path / "w", cmsis_nn_path=tl.LIB_DIR)
    assert res.status == "pass" and res.mismatches == 0
    assert res.libraries == {"cmsis-nn": {"source": "arm", "path": str(tl.LIB_DIR),
                                          "commit": res.libraries["cmsis-nn"]["commit"]}}
    pkg_cmake = (Path(res.output_dir) / "CMakeLists.txt").read_text()
    assert f'DEFAULT_PATH "{tl.LIB_DIR}"' in pkg_cmake
    fw_map = (tmp_path / "w" / "firmware" / "build" / "firmware.map").read_text()
    assert "byoc_arm_cmsis_nn/libcmsis-nn.a" in fw_map
    default = byoc.compile(_small_cnn(tmp_path), target="cmsis-nn,c",
                           output_dir=tmp_path / "default")
    assert default.metadata["libraries"] == {"cmsis-nn": {"source": "byoc", "path": None}}


def test_fvp_command_sets_the_npu_mac_count():
    from byoc.platform import corstone300 as platform
    cmd = platform._fvp_command(Path("/fvp"), Path("fw.elf"), 10.0, npu_macs=256)
    assert cmd[cmd.index("ethosu.num_macs=256") - 1] == "-C"
    assert not any("num_macs" in c for c in platform._fvp_command(Path("/fvp"), Path("f"), 10.0))
