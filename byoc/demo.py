"""``make demo``: compile the bundled CNN, run it, compare with TFLM, show the result."""

from __future__ import annotations

import sys
from pathlib import Path

from . import compile as byoc_compile
from .errors import ByocError
from .tflite.reader import format_info, load_model
from .validate import validate
from .zoo import small_cnn


def main() -> int:
    build = Path("build/demo")
    build.mkdir(parents=True, exist_ok=True)
    model_path = build / "small_cnn.tflite"
    model_path.write_bytes(small_cnn())
    print(format_info(load_model(model_path)))
    try:
        compiled = byoc_compile(model_path, target="c", cpu="cortex-m55",
                                output_dir=build / "package", force=True)
        print(f"\nC package: {compiled.output_dir}")
        result = validate(model_path, target="c", backend="host", inputs=5,
                          work_dir=build / "validate")
    except ByocError as exc:
        print(f"byoc: error: {exc}", file=sys.stderr)
        return 2
    verdict = "PASS (bit-exact with TFLM)" if result.status == "pass" else "FAIL"
    print(f"\nvalidation on {result.backend}: {verdict}; {result.mismatches} mismatching "
          f"elements over {result.samples} random inputs")
    print(f"arena {result.arena_bytes} bytes (lower bound {result.arena_lower_bound_bytes}), "
          f"constants {result.constant_bytes} bytes")
    return 0 if result.status == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
