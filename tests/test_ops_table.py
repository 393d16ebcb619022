"""The README's operator table is the one the code generates (``byoc ops --markdown``)."""

from __future__ import annotations

from pathlib import Path

from byoc import ops_table
from byoc.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_is_generated():
    assert ops_table.readme_table(README.read_text()) == ops_table.markdown(), \
        "README.md's operator table is stale: paste `byoc ops --markdown` between the markers"


def test_cli_prints_the_tables(capsys):
    assert main(["ops", "--markdown"]) == 0
    assert capsys.readouterr().out == ops_table.markdown()
    assert main(["ops"]) == 0
    assert capsys.readouterr().out == ops_table.text()


def test_table_follows_the_kernel_tables():
    from byoc.cmsisnn import partition as cmsis
    from byoc.qnn import ops
    rows = {(r.operator, r.dtype): r for r in ops_table.operator_rows()}
    # every generic kernel is listed for int8; int16 exactly where the kernel handles it
    for kind, typ in cmsis.TFLITE_TYPES.items():
        if kind in ("quantize", "quantize_float"):
            continue
        assert rows[(typ, "int8")].c == "integer kernel"
        assert ((typ, "int16") in rows and rows[(typ, "int16")].c is not None) == \
            (typ in ops.INT16_KINDS)
    assert rows[("CONV_2D", "int8")].cmsis_nn == f"`{cmsis.KERNELS['conv2d']}`"
