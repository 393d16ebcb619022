#!/usr/bin/env python3
"""Kernel benchmark of byoc's CMSIS-NN library (issue 4, cases C1..C11; C12: depthwise ch_mult 2;
S1..S3: int16-activation conv / depthwise / fully connected).

Builds one Corstone-300 firmware per kernel path (Helium "mve", DSP "dsp", portable "c"; all
run on QEMU mps3-an547's Cortex-M55 with the other extensions compiled out of the kernels),
runs every case once, checks each output against TFLite Micro (the firmware compares and
reports mismatches), and prints instructions of the kernel call alone, instructions per MAC,
and Arm CMSIS-NN v7's Helium figures beside ours. Writes ``build/bench/kernels.json`` as
``{"C1": {"mve": N, "dsp": N, "c": N}, ...}``.

Usage: scripts/bench_kernels.py [--paths mve,dsp,c] [--out build/bench/kernels.json]
Exit status: 0 when every case of every path matched TFLM, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "kernels_c" / "test"))

import cmsis_nn_testlib as tl  # noqa: E402


def measure(path: str, cases, build_root: Path) -> tuple[dict[str, int], list[str]]:
    elf = tl.build_case_firmware(cases, build_root / path, path)
    rows, run = tl.run_case_firmware(elf, cases)
    if run.result.get("path") != path:
        raise RuntimeError(f"firmware for {path} reports path {run.result.get('path')}")
    counts: dict[str, int] = {}
    for case, row in zip(cases, rows):
        name = case.name.split(".")[0]
        counts[name] = counts.get(name, 0) + int(row["instructions"])
    return counts, tl.firmware_failures(cases, rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default="mve,dsp,c", help="kernel paths to measure (mve,dsp,c)")
    ap.add_argument("--out", default=str(REPO / "build" / "bench" / "kernels.json"))
    ap.add_argument("--build-dir", default=str(REPO / "build" / "bench" / "firmware"))
    args = ap.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    for p in paths:
        if p not in tl.FIRMWARE_PATHS:
            ap.error(f"unknown path {p!r}; choose from {', '.join(tl.FIRMWARE_PATHS)}")

    cases = tl.bench_cases()
    build_root = Path(args.build_dir)
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = dict(zip(paths, pool.map(lambda p: measure(p, cases, build_root), paths)))

    failures = [f"{p}: {line}" for p, (_, bad) in results.items() for line in bad]
    table = {name: {p: results[p][0][name] for p in paths} for name in tl.BENCH_CASES}

    head = f"{'case':5} {'call':52} {'MACs':>8} {'Arm v7 mve':>11} " + " ".join(f"{p:>9}" for p in paths)
    if "mve" in paths:
        head += f" {'mve/Arm':>8}"
    head += "  " + " ".join(f"{p + '/MAC':>8}" for p in paths)
    print(head)
    print("-" * len(head))
    for name, (desc, macs, arm) in tl.BENCH_CASES.items():
        line = f"{name:5} {desc:52} {macs or '-':>8} {arm or '-':>11} " + " ".join(
            f"{table[name][p]:>9}" for p in paths)
        if "mve" in paths:
            line += f" {table[name]['mve'] / arm:>8.2f}" if arm else f" {'-':>8}"
        line += "  " + " ".join(f"{table[name][p] / macs:>8.3f}" if macs else f"{'-':>8}" for p in paths)
        print(line)
    print("(instructions of the kernel call on QEMU mps3-an547 -icount; Arm v7 = Arm CMSIS-NN v7.0, "
          "Helium build, GCC 12.2 -O3)")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(f"wrote {out}")
    if failures:
        print(f"{len(failures)} case(s) differ from TFLM:", file=sys.stderr)
        for line in failures:
            print("  " + line, file=sys.stderr)
        return 1
    print("all outputs bit-exact with TFLM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
