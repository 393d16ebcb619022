"""Bad input: every case gives a one-line error, exit code 2, and leaves nothing behind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from byoc.cli import main
from byoc.tflite.builder import LayerBuilder, ModelBuilder, Quant


def _conv_model(name: str = "x") -> bytes:
    lb = LayerBuilder(seed=3)
    x = lb.input((1, 6, 6, 3), name=name)
    lb.output(lb.conv2d(x, 4, 3))
    return lb.build()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("byoc: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"


def test_missing_file(capsys, tmp_path, out_dir):
    missing = tmp_path / "nope.tflite"
    code, _, err = run_cli(capsys, "compile", str(missing), "-o", str(out_dir))
    assert_one_line_error(code, err, "nope.tflite")
    assert not out_dir.exists()


def test_not_a_flatbuffer(capsys, tmp_path, out_dir):
    bad = tmp_path / "text.tflite"
    bad.write_text("this is not a model at all, just some text\n" * 10)
    code, _, err = run_cli(capsys, "compile", str(bad), "-o", str(out_dir))
    assert_one_line_error(code, err, "text.tflite")
    assert not out_dir.exists()


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_file(capsys, tmp_path, out_dir, fraction):
    data = _conv_model()
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[: int(len(data) * fraction)])
    code, _, err = run_cli(capsys, "compile", str(bad), "-o", str(out_dir))
    assert_one_line_error(code, err, "cut.tflite")
    assert not out_dir.exists()


def test_unsupported_operator_names_index_and_type(capsys, tmp_path, out_dir):
    mb = ModelBuilder()
    q = Quant.per_tensor(0.1, 0)
    a = mb.add_tensor("a", (1, 4), np.int8, quant=q)
    b = mb.add_tensor("b", (1, 4), np.int8, quant=q)
    c = mb.add_tensor("c", (1, 4), np.int8, quant=q)
    mb.add_operator("ADD", [a, a], [b], "AddOptions", {})
    mb.add_operator("CUSTOM", [b], [c], custom_code="MyVendorOp")
    mb.set_io([a], [c])
    path = tmp_path / "custom.tflite"
    path.write_bytes(mb.build())
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(out_dir))
    assert_one_line_error(code, err, "custom.tflite", "operator 1", "CUSTOM")
    assert not out_dir.exists()


def test_dynamic_shape_refused(capsys, tmp_path, out_dir):
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 6, 6, 3), name="img", shape_signature=(1, -1, 6, 3))
    lb.output(lb.conv2d(x, 4, 3))
    path = tmp_path / "dyn.tflite"
    path.write_bytes(lb.build())
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(out_dir))
    assert_one_line_error(code, err, "dyn.tflite", "dynamic")
    assert not out_dir.exists()


def test_existing_non_empty_output_dir(capsys, tmp_path, out_dir):
    path = tmp_path / "m.tflite"
    path.write_bytes(_conv_model())
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("user data")
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(out_dir))
    assert_one_line_error(code, err, str(out_dir), "not empty")
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt"]
    # --force replaces it with a complete package
    code, _, _ = run_cli(capsys, "compile", str(path), "-o", str(out_dir), "--force")
    assert code == 0
    assert (out_dir / "include" / "model.h").is_file() and not (out_dir / "keep.txt").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_dir_as_user(capsys, tmp_path, out_dir):
    path = tmp_path / "m.tflite"
    path.write_bytes(_conv_model())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(locked / "out"))
    assert_one_line_error(code, err, "not writable")


def test_output_path_is_a_file(capsys, tmp_path):
    # Root ignores permissions, so "unwritable" is also tested with a path whose parent is
    # a regular file: nothing can be created below it, for any user.
    path = tmp_path / "m.tflite"
    path.write_bytes(_conv_model())
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(blocker / "out"))
    assert code == 2 and "Traceback" not in err and str(blocker) in err
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(blocker))
    assert_one_line_error(code, err, "not a directory")
    assert blocker.read_text() == "x"


def test_entry_point_subprocess_has_no_traceback(tmp_path):
    """The installed console script behaves like main(): exit 2, one line."""
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "compile", str(tmp_path / "x.tflite"),
                           "-o", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("byoc: error:") and len(proc.stderr.strip().splitlines()) == 1


def test_dynamic_batch_of_one_compiles_like_tflm(capsys, tmp_path, out_dir):
    """The TFLite converter writes batch -1 in shape_signature with shape 1: compiled as 1."""
    lb = LayerBuilder(seed=1)
    x = lb.input((1, 6, 6, 3), name="img", shape_signature=(-1, 6, 6, 3))
    lb.output(lb.conv2d(x, 4, 3))
    path = tmp_path / "batch.tflite"
    path.write_bytes(lb.build())
    code, _, err = run_cli(capsys, "compile", str(path), "-o", str(out_dir))
    assert code == 0, err
    assert "#define MODEL_INPUT_IMG_SHAPE {1, 6, 6, 3}" in (out_dir / "include" / "model.h").read_text()


def test_failure_inside_tvm_conversion_is_one_line(tmp_path):
    """An operator TVM's converter accepts up front but fails on while converting (today:
    a CONV_2D with int16 weights, "16x16", which TFLite allows and the converter asserts
    against) gives one line on stderr, with no C++ warning from TVM's half-built BlockBuilder
    after it. (If 16x16 import starts working, pick another such operator.)"""
    mb = ModelBuilder()
    x = mb.add_tensor("x", (1, 6, 6, 3), np.int16, quant=Quant.per_tensor(0.01, 0))
    w = mb.add_tensor("w", (4, 3, 3, 3), np.int16, np.ones((4, 3, 3, 3), np.int16),
                      Quant([0.01] * 4, [0] * 4))
    b = mb.add_tensor("b", (4,), np.int64, np.zeros(4, np.int64), Quant([1e-4] * 4, [0] * 4))
    y = mb.add_tensor("y", (1, 6, 6, 4), np.int16, quant=Quant.per_tensor(0.02, 0))
    mb.add_operator("CONV_2D", [x, w, b], [y], "Conv2DOptions",
                    {"Padding": 0, "StrideW": 1, "StrideH": 1})
    mb.set_io([x], [y])
    path = tmp_path / "i16.tflite"
    path.write_bytes(mb.build())
    proc = subprocess.run([sys.executable, "-m", "byoc.cli", "compile", str(path),
                           "-o", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("byoc: error:"), proc.stderr
    assert "operator 0 (CONV_2D)" in lines[0]
    assert not (tmp_path / "o").exists()
