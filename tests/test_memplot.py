"""``byoc compile --plot-memory``: a PNG of the arena plan (byoc.memplot)."""

from __future__ import annotations

import sys

import pytest

import byoc
from byoc.cli import main
from byoc.errors import ByocError
from byoc.memplot import plot_memory
from byoc.zoo import small_cnn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_cli_plot_memory_writes_png(tmp_path, capsys):
    model = tmp_path / "m.tflite"
    model.write_bytes(small_cnn())
    out = tmp_path / "pkg"
    assert main(["compile", str(model), "-o", str(out), "--plot-memory"]) == 0
    stdout = capsys.readouterr().out
    png = out / "memory.png"
    assert str(png) in stdout
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5_000
    import matplotlib.image
    height, width = matplotlib.image.imread(png).shape[:2]
    assert width > height > 300


def test_compile_without_the_flag_writes_no_picture(tmp_path):
    res = byoc.compile(small_cnn(), output_dir=tmp_path / "pkg")
    assert not (res.output_dir / "memory.png").exists()
    # a package written earlier can be drawn afterwards, from its directory
    assert plot_memory(res.output_dir) == res.output_dir / "memory.png"
    assert (res.output_dir / "memory.png").read_bytes()[:8] == PNG_MAGIC


def test_api_flag_and_scratch_buffers(tmp_path):
    meta = {"prefix": "m", "target": "c", "model": {"source": "x.tflite"},
            "calls": [{"index": i, "label": f"OP{i}"} for i in range(3)],
            "memory": {"arena_bytes": 96, "arena_lower_bound_bytes": 80, "buffers": [
                {"name": "a", "kind": "tensor", "offset": 0, "size": 48, "first_step": 0,
                 "last_step": 1},
                {"name": "s", "kind": "scratch", "offset": 48, "size": 48, "first_step": 1,
                 "last_step": 1},
                {"name": "b", "kind": "tensor", "offset": 0, "size": 32, "first_step": 2,
                 "last_step": 2}]}}
    path = plot_memory(meta, tmp_path / "x.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ByocError, match="output path"):
        plot_memory(meta)
    res = byoc.compile(small_cnn(), output_dir=tmp_path / "pkg", plot_memory=True)
    assert (res.output_dir / "memory.png").is_file()


def test_missing_matplotlib_is_one_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    model = tmp_path / "m.tflite"
    model.write_bytes(small_cnn())
    code = main(["compile", str(model), "-o", str(tmp_path / "pkg"), "--plot-memory"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "matplotlib" in lines[0] and "byoc[bench]" in lines[0]
    assert not (tmp_path / "pkg").exists()  # refused before compiling
