"""Progress lines: on request (or on a terminal), on stderr only, never mixed into stdout."""

from __future__ import annotations

from byoc import progress
from byoc.cli import main
from byoc.zoo import small_cnn


def test_progress_lines_on_stderr_when_asked(capsys, tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(small_cnn())
    try:
        code = main(["--progress", "compile", str(model), "-o", str(tmp_path / "o")])
        out, err = capsys.readouterr()
        assert code == 0
        steps = [ln for ln in err.splitlines() if ln.startswith("byoc [")]
        assert any("importing" in s for s in steps) and any("writing the package" in s for s in steps)
        assert "byoc [" not in out
        code = main(["--no-progress", "compile", str(model), "-o", str(tmp_path / "o2")])
        out, err = capsys.readouterr()
        assert code == 0 and err == ""
    finally:
        progress.enable(False)
