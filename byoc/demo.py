"""``make demo``: compile the bundled CNN to C, validate it bit-exactly against TFLM on the
Corstone-300 (QEMU mps3-an547, Cortex-M55), show sizes, instruction counts and the
per-operator profile."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import compile as byoc_compile
from .errors import ByocError
from .firmware import format_profile, load_package, run_on_corstone
from .tflite.reader import format_info, load_model
from .validate import random_inputs, validate
from .zoo import small_cnn

SAMPLES = 5


def main() -> int:
    start = time.monotonic()
    build = Path("build/demo")
    build.mkdir(parents=True, exist_ok=True)
    model_path = build / "small_cnn.tflite"
    model_path.write_bytes(small_cnn())
    model = load_model(model_path)
    print(format_info(model))
    try:
        compiled = byoc_compile(model_path, target="c", cpu="cortex-m55",
                                output_dir=build / "package", force=True)
        print(f"\nC package: {compiled.output_dir} ({len(compiled.calls)} operator calls, "
              f"arena {compiled.arena_bytes:,} bytes, constants {compiled.constant_bytes:,} bytes)")
        print(f"\nvalidating on Corstone-300 (QEMU mps3-an547, Cortex-M55) with {SAMPLES} "
              "random inputs against TFLM ...")
        result = validate(model_path, target="c", backend="qemu", inputs=SAMPLES,
                          work_dir=build / "validate")
        # The profile comes from a second firmware (built with the per-operator hooks) of
        # the package the validation compiled, on its first input.
        profiled = run_on_corstone(load_package(result.output_dir),
                                   random_inputs(model, 1, result.seed), profile=True,
                                   work_dir=build / "profile")
    except ByocError as exc:
        print(f"byoc: error: {exc}", file=sys.stderr)
        return 2
    passed = result.status == "pass"
    verdict = "PASS (bit-exact with TFLM)" if passed else "FAIL"
    print(f"\n{verdict}: {result.mismatches} mismatching output elements over "
          f"{result.samples} inputs (max |diff| {result.max_abs_diff})")
    print(f"  instructions per inference: {result.instructions:,} (exact, QEMU -icount; the "
          f"largest over the inputs: {', '.join(f'{n:,}' for n in result.instructions_per_sample)})")
    print(f"  arena: {result.arena_bytes:,} bytes (lower bound {result.arena_lower_bound_bytes:,})")
    print(f"  in the ELF: model code {result.code_bytes:,} bytes, model read-only data "
          f"{result.rodata_bytes:,} bytes (constants {result.constant_bytes:,})")
    for d in result.details:
        print(f"  {d}")
    print("\nper-operator instructions (profiled build, input 0):")
    print(format_profile(profiled.profile, profiled.instructions_per_sample[0]))
    print(f"\ndone in {time.monotonic() - start:.1f} s; package in {compiled.output_dir}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
