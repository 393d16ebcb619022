"""The compiled package of the bundled 15-operator CNN: content, builds, memory figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import byoc
from byoc import host
from byoc.tflite.builder import LayerBuilder
from byoc.validate import random_inputs
from byoc.tflite.reader import load_model
from byoc.reference import run_tflm
from byoc.zoo import small_cnn


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    d = tmp_path_factory.mktemp("cnn")
    path = d / "small_cnn.tflite"
    path.write_bytes(small_cnn())
    compiled = byoc.compile(path, target="c", cpu="cortex-m55", output_dir=d / "out")
    return path, compiled


def test_metadata_reports_memory(cnn):
    _, compiled = cnn
    meta = json.loads((compiled.output_dir / "metadata.json").read_text())
    mem = meta["memory"]
    assert mem["arena_bytes"] >= mem["arena_lower_bound_bytes"] > 0
    assert mem["constant_bytes"] > 0
    assert meta["versions"]["tvm"] and meta["versions"]["byoc"] == byoc.__version__
    assert len(meta["operators"]) == 15
    header = compiled.header.read_text()
    assert f"#define MODEL_WORKSPACE_SIZE {mem['arena_bytes']}u" in header
    # Weights stay int8: the constants are not float arrays.
    consts = (compiled.output_dir / "src" / "model_constants.c").read_text()
    assert "float" not in consts


def test_no_heap_no_tvm_runtime(cnn):
    _, compiled = cnn
    text = "".join(p.read_text() for p in (compiled.output_dir / "src").glob("*"))
    for banned in ("malloc", "calloc", "realloc", "free(", "TVMBackend", "tvm/", "TVM_DLL"):
        assert banned not in text, banned


def test_builds_for_cortex_m55_with_werror(cnn, tmp_path):
    _, compiled = cnn
    gcc = shutil.which("arm-none-eabi-gcc")
    assert gcc, "arm-none-eabi-gcc missing: run `make setup`"
    for src in (compiled.output_dir / "src").glob("*.c"):
        proc = subprocess.run([gcc, "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2",
                               "-std=c99", "-Wall", "-Wextra", "-Werror",
                               "-I", str(compiled.output_dir / "include"), "-c", str(src),
                               "-o", str(tmp_path / (src.stem + ".o"))],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_sanitized_host_build_matches_tflm(cnn, tmp_path):
    """ASan/UBSan build: no out-of-bounds access or UB in the generated code."""
    path, compiled = cnn
    prog = compiled.program
    exe = host.build_host(compiled.output_dir, "model", prog.inputs, prog.outputs,
                          tmp_path / "build", sanitize=True, opt="-O1")
    model = load_model(path)
    samples = random_inputs(model, 3, seed=5)
    got = host.run_host(exe, samples, prog.outputs, tmp_path)
    act = sum(t.nbytes for t in model.tensors if not t.is_constant)
    want = run_tflm(model.data, samples, act, 1)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g[0], w[0])


def test_cmake_package_builds_as_library(cnn, tmp_path):
    _, compiled = cnn
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(
        '#include "model.h"\n#include <stdio.h>\n'
        "static unsigned char ws[MODEL_WORKSPACE_SIZE] __attribute__((aligned(16)));\n"
        "static int8_t in[MODEL_INPUT_IMAGE_SIZE];\nstatic int8_t out[MODEL_OUTPUT_T_32_SIZE];\n"
        "int main(void) { struct model_inputs i = {in}; struct model_outputs o = {out};\n"
        "  int s = model_run(&i, &o, ws); printf(\"%d\\n\", s);\n"
        "  return s == MODEL_OK && model_run(&i, &o, ws + 1) == MODEL_ERROR_WORKSPACE_ALIGNMENT"
        " && model_run(NULL, &o, ws) == MODEL_ERROR_NULL_ARGUMENT ? 0 : 1; }\n")
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(app C)\n"
        f"add_subdirectory({compiled.output_dir} model)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE model)\n")
    b = tmp_path / "b"
    for cmd in (["cmake", "-S", str(app), "-B", str(b), "-G", "Ninja",
                 "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"],
                ["cmake", "--build", str(b)], [str(b / "app")]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_whole_cnn_bit_exact(cnn, tmp_path):
    path, _ = cnn
    res = byoc.validate(path, target="c", backend="host", inputs=5, seed=3,
                        work_dir=tmp_path / "w")
    assert res.status == "pass", res


def test_identifiers_from_hostile_tensor_names(tmp_path):
    lb = LayerBuilder(seed=4)
    a = lb.input((1, 4, 4, 2), name="a;b")
    b = lb.input((1, 4, 4, 2), name="1x")
    c = lb.add(a, b)
    lb.mb.tensors[c.index].name = "int"
    lb.output(c)
    d = lb.max_pool2d(a, 2, 2)
    lb.mb.tensors[d.index].name = "a;b"          # duplicate of an input's name
    lb.output(d)
    path = tmp_path / "names.tflite"
    path.write_bytes(lb.build())
    res = byoc.validate(path, target="c", backend="host", inputs=3, work_dir=tmp_path / "w")
    assert res.status == "pass", res
    header = (tmp_path / "w" / "package" / "include" / "model.h").read_text()
    members = re.findall(r"^\s+(?:const )?int8_t\* (\w+);", header, re.M)
    assert len(members) == 4 and len(set(m.upper() for m in members)) == 4
    for m in members:
        assert re.fullmatch(r"[A-Za-z_]\w*", m) and m not in ("int",)
