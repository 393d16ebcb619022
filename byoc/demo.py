"""``make demo``: compile the bundled CNN for each kind of target (generic C, CMSIS-NN calls,
Ethos-U55 command stream), validate every package bit-exactly against TFLM on the
Corstone-300 (QEMU mps3-an547, Cortex-M55), and show sizes, instruction counts and the
per-operator profile of the CMSIS-NN build."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .errors import ByocError
from .firmware import format_profile, load_package, run_on_corstone
from .tflite.reader import format_info, load_model
from .validate import ValidationResult, random_inputs, validate
from .zoo import small_cnn

SAMPLES = 5
#: (target, what it means) in the order shown; the profile is of PROFILED.
TARGETS = [
    ("c", "generic C only"),
    ("cmsis-nn,c", "CMSIS-NN kernels (Helium), generic C for the rest"),
    ("ethos-u55-128,cmsis-nn,c", "Ethos-U55 (128 MACs) via Vela, CMSIS-NN, generic C"),
]
PROFILED = "cmsis-nn,c"


def _row(target: str, r: ValidationResult) -> str:
    verdict = "bit-exact" if r.status == "pass" else f"FAIL ({r.mismatches} diffs)"
    npu = f"{r.npu_cycles:,}" if r.npu_cycles is not None else "-"
    pmu = f"{r.npu_pmu_cycles:,}" if r.npu_pmu_cycles is not None else "-"
    return (f"  {target:<26} {verdict:<10} {r.instructions:>12,} {npu:>11} {pmu:>11} "
            f"{r.arena_bytes:>9,} {r.code_bytes:>9,} {r.rodata_bytes:>10,}")


def main() -> int:
    start = time.monotonic()
    build = Path("build/demo")
    build.mkdir(parents=True, exist_ok=True)
    model_path = build / "small_cnn.tflite"
    model_path.write_bytes(small_cnn())
    model = load_model(model_path)
    print(format_info(model))
    print(f"\nCompiling for {len(TARGETS)} targets and validating each on Corstone-300 (QEMU "
          f"mps3-an547, Cortex-M55) with {SAMPLES} random inputs against TFLM ...")
    results: dict[str, ValidationResult] = {}
    try:
        for target, meaning in TARGETS:
            print(f"  --target {target}: {meaning}", flush=True)
            results[target] = validate(model_path, target=target, backend="qemu",
                                       inputs=SAMPLES, work_dir=build / target.replace(",", "_"))
        # The profile comes from a second firmware (built with the per-operator hooks) of
        # the package the validation compiled, on its first input.
        chosen = results[PROFILED]
        profiled = run_on_corstone(load_package(chosen.output_dir),
                                   random_inputs(model, 1, chosen.seed), profile=True,
                                   work_dir=build / "profile")
    except ByocError as exc:
        print(f"byoc: error: {exc}", file=sys.stderr)
        return 2
    print("\nPer inference (instructions: the CPU's, exact QEMU -icount, the largest over the "
          "inputs; NPU cycles: Vela's\nestimate and the NPU's PMU count; bytes: arena = static "
          "activation memory, code and read-only data = the\nmodel's share of the ELF):")
    print(f"  {'target':<26} {'vs TFLM':<10} {'instructions':>12} {'NPU (Vela)':>11} "
          f"{'NPU (PMU)':>11} {'arena':>9} {'code':>9} {'rodata':>10}")
    for target, _ in TARGETS:
        print(_row(target, results[target]))
    c, cmsis = results["c"].instructions, results[PROFILED].instructions
    npu = [r for r in results.values() if r.npu_driver is not None]
    if any(r.npu_driver == "model" for r in npu):
        print("  (ethos-u: no Ethos-U55 device emulator built, so the CPU instructions include "
              "byoc's functional\n  model emulating the NPU; `make setup` builds the device)")
    elif npu:
        print("  (ethos-u: the NPU device of byoc's emulated Corstone-300 does the NPU's work; "
              "the instructions\n  are the CPU's: driver and copies)")
    print(f"  CMSIS-NN needs {c / cmsis:.1f}x fewer instructions than generic C.")
    for d in chosen.details:
        print(f"  {d}")
    print(f"\nper-operator instructions, --target {PROFILED} (profiled build, input 0):")
    print(format_profile(profiled.profile, profiled.instructions_per_sample[0]))
    passed = all(r.status == "pass" for r in results.values())
    print(f"\n{'PASS' if passed else 'FAIL'}: {sum(r.mismatches for r in results.values())} "
          f"mismatching output elements over {len(TARGETS)} targets x {SAMPLES} inputs; "
          f"done in {time.monotonic() - start:.1f} s; packages in "
          + ", ".join(r.output_dir for r in results.values()))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
