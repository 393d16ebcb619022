"""The hostile-input corpus (tests/hostile_corpus.py, issue 17).

Two layers:

* ``test_compile_in_process``: every model of the FULL corpus goes through ``byoc compile``
  in this process (cheap: TVM is imported once); each ends in a complete package or one
  ``byoc: error:`` line with exit code 2 and no output directory (stderr read at the file
  descriptor level, so TVM's and TFLM's C++ logs count).
* ``test_corpus_case``: the corpus itself, each case in its own processes (``compile``, then
  ``validate`` on the host under ASan/UBSan against TFLM, ``run``, the command-stream
  corruptions on the host and on Corstone-300/QEMU), judged by ``hostile_corpus.judge``.
  The default is a bounded selection that still covers every class; ``BYOC_FULL_SWEEP=1``
  runs all of it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hostile_corpus as hc  # noqa: E402

from byoc.cli import main  # noqa: E402
from sweep import FULL_SWEEP  # noqa: E402

#: The bounded run (``make test``): per class, the cases of the issue plus a few seeds.
BOUNDED = {
    "file": ("empty", "wrong_identifier", "two_subgraphs", "truncated_11of20", "bitflip_0",
             "bitflip_1"),
    "graph": ("dims_wrap_to_small", "zero_dim_input", "softmax_declared_1x0", "cycle",
              "empty_weights", "no_outputs", "conv_stride_0", "dead_operator"),
    "quant": ("in_scale_1e30", "softmax_in_scale_1e30", "in_scale_0", "softmax_out_zp_7", "softmax_1x100000",
              "softmax_1x1000_flat", "weight_zp_3"),
    "names": ("workspace_macro", "newline", "collide_after_sanitising"),
    "cli": ("seed_negative", "work_dir_is_file", "vela_config_binary",
            "metadata_shape_letters", "metadata_shape_edited", "unknown_option"),
    "npu": ("unknown_opcode", "bad_magic"),
}


def _bounded(all_cases: list[hc.Case]) -> list[hc.Case]:
    return [c for c in all_cases if c.name.split("[")[0] in BOUNDED[c.klass]]


def _selected() -> list[hc.Case]:
    everything = hc.cases(full=FULL_SWEEP)
    return everything if FULL_SWEEP else _bounded(everything)


def _model_bytes() -> list[tuple[str, bytes]]:
    out = []
    for case in hc.cases(full=True):
        if case.klass not in ("file", "graph", "quant", "names") or "[c]" not in case.name:
            continue
        if case.name.startswith("bitflip_") and int(case.name.split("_")[1].split("[")[0]) >= 20:
            continue
        out.append((f"{case.klass}/{case.name}", case))
    return out


@pytest.mark.parametrize("label,case", _model_bytes(), ids=[n for n, _ in _model_bytes()])
def test_compile_in_process(label, case, tmp_path, capfd):
    commands = case.setup(tmp_path)
    argv = commands[0]
    assert argv[0] == "compile"
    code = main(argv)
    out, err = capfd.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    out_dir = tmp_path / "out"
    if code == 0:
        assert not lines, err
        assert (out_dir / "metadata.json").is_file() and list(out_dir.glob("src/*.c"))
    else:
        assert code == 2, (code, err)
        assert len(lines) == 1 and lines[0].startswith("byoc: error: "), err
        assert "internal error" not in err
        assert not out_dir.exists()


@pytest.mark.parametrize("case", _selected(), ids=lambda c: f"{c.klass}/{c.name}")
def test_corpus_case(case, tmp_path):
    if case.klass == "npu" and "qemu" in case.tags and shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed (make setup)")
    outcome = hc.run_case(case, tmp_path / "case")
    assert outcome.ok, f"{outcome.verdict}: {outcome.detail} {outcome.commands}"
