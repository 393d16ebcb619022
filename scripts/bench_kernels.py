#!/usr/bin/env python3
"""Kernel benchmark of byoc's CMSIS-NN library (issue 4, cases C1..C11; C12: depthwise ch_mult 2;
S1..S3: int16-activation conv / depthwise / fully connected), side by side with Arm's CMSIS-NN.

Builds one Corstone-300 firmware per kernel path (Helium "mve", DSP "dsp", portable "c"; all
run on QEMU mps3-an547's Cortex-M55 with the other extensions compiled out of the kernels),
and with ``--cpus`` one per named core (the whole firmware built for that core: m0plus / m3
run the portable path as Armv6-M / Armv7-M code, m4 / m33 the DSP path as Armv7E-M / Armv8-M
code, all on the same emulated Cortex-M55, which executes every instruction of those builds),
runs every case once, checks each output against TFLite Micro (the firmware compares and
reports mismatches), and prints instructions of the kernel call alone and instructions per MAC.

When ``BYOC_ARM_CMSIS_NN`` (or ``--arm``) names Arm's CMSIS-NN source tree, the same cases are
also run in the same invocation against Arm's library built for the same path (same firmware,
same flags, -DCMSIS_NN_PATH), and the table prints Arm's counts, byoc/Arm per case and the
geometric mean of byoc/Arm per path. Arm's outputs are checked against TFLM too.

Writes ``build/bench/kernels.json`` as ``{"C1": {"mve": N, "dsp": N, "c": N,
"arm_mve": N, "m0plus": N, ...}, ...}`` (``arm_*`` only with Arm's tree) and the same table as Markdown in
``build/bench/kernels.md`` (bold: byoc above Arm).

Usage: scripts/bench_kernels.py [--paths mve,dsp,c] [--cpus m0plus,m3,m4,m33] [--cases C1,C2] [--arm DIR] [--out FILE]
Exit status: 0 when every case of every path matched TFLM, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "kernels_c" / "test"))

import cmsis_nn_testlib as tl  # noqa: E402


def measure(config: str, cases, build_dir: Path, arm_tree: str | None) -> tuple[dict[str, int], list[str]]:
    """Instructions per bench case (sub-cases such as C11.dw + C11.conv add up) and TFLM
    mismatches, for one firmware config (a kernel path or a core, tl.firmware_config)."""
    path = tl.firmware_config(config)[2]
    elf = tl.build_case_firmware(cases, build_dir, config, cmsis_nn_path=arm_tree)
    rows, run = tl.run_case_firmware(elf, cases)
    if run.result.get("path") != path:
        raise RuntimeError(f"firmware for {config} reports path {run.result.get('path')}, not {path}")
    counts: dict[str, int] = {}
    for case, row in zip(cases, rows):
        name = case.name.split(".")[0]
        counts[name] = counts.get(name, 0) + int(row["instructions"])
    return counts, tl.firmware_failures(cases, rows)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def print_table(names: list[str], paths: list[str], table: dict[str, dict[str, int]], with_arm: bool) -> None:
    cols = []
    for p in paths:
        cols += [(p, f"byoc {p}")] + ([(f"arm_{p}", f"Arm {p}"), (f"ratio_{p}", f"{p}/Arm")] if with_arm else [])
    head = f"{'case':5} {'call':52} {'MACs':>8} " + " ".join(f"{title:>10}" for _, title in cols)
    head += "  " + " ".join(f"{p + '/MAC':>8}" for p in paths)
    print(head)
    print("-" * len(head))
    ratios: dict[str, list[float]] = {p: [] for p in paths}
    for name in names:
        desc, macs, _ = tl.BENCH_CASES[name]
        row = table[name]
        cells = []
        for key, _ in cols:
            if key.startswith("ratio_"):
                p = key[len("ratio_"):]
                r = row[p] / row[f"arm_{p}"]
                ratios[p].append(r)
                cells.append(f"{r:>10.2f}")
            else:
                cells.append(f"{row[key]:>10}")
        line = f"{name:5} {desc:52} {macs or '-':>8} " + " ".join(cells)
        line += "  " + " ".join(f"{row[p] / macs:>8.3f}" if macs else f"{'-':>8}" for p in paths)
        print(line)
    if with_arm:
        print("geomean byoc/Arm: " + ", ".join(f"{p} {geomean(ratios[p]):.2f}" for p in paths)
              + "; cases above Arm: " + (", ".join(f"{n} ({p})" for p in paths for n, r in
                                                     zip(names, ratios[p]) if r > 1.0) or "none"))
    print("(instructions of the kernel call on QEMU mps3-an547 -icount, GCC -O3; Arm = Arm's CMSIS-NN "
          "built for the same path in this run)" if with_arm else
          "(instructions of the kernel call on QEMU mps3-an547 -icount; set BYOC_ARM_CMSIS_NN to "
          "measure Arm's CMSIS-NN beside them)")


def markdown_table(names: list[str], paths: list[str], table: dict[str, dict[str, int]], with_arm: bool) -> str:
    """The table as Markdown (README form): per path byoc's count, and with Arm's tree Arm's count
    and byoc/Arm; a last row with the geometric means."""
    head = ["case", "call", "MACs"]
    for p in paths:
        head += [f"byoc {p}"] + ([f"Arm {p}", f"{p} / Arm"] if with_arm else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    ratios: dict[str, list[float]] = {p: [] for p in paths}
    for name in names:
        desc, macs, _ = tl.BENCH_CASES[name]
        cells = [name, desc, f"{macs:,}" if macs else "-"]
        for p in paths:
            cells.append(f"{table[name][p]:,}")
            if with_arm:
                r = table[name][p] / table[name][f"arm_{p}"]
                ratios[p].append(r)
                cells += [f"{table[name][f'arm_{p}']:,}", f"**{r:.2f}**" if r > 1.0 else f"{r:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if with_arm:
        cells = ["geomean", "", ""]
        for p in paths:
            cells += ["", "", f"{geomean(ratios[p]):.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default="mve,dsp,c",
                    help="kernel paths to measure on the Cortex-M55 (mve,dsp,c; '' for none)")
    ap.add_argument("--cpus", default="",
                    help="cores whose own firmware build is measured too, each a column: "
                         + ",".join(tl.FIRMWARE_CORES) + " (e.g. m0plus,m3: the portable path "
                         "as Armv6-M / Armv7-M code; m4,m33: the DSP path)")
    ap.add_argument("--cases", default="", help="bench cases to run (e.g. C1,C6); default all")
    ap.add_argument("--arm", default=os.environ.get("BYOC_ARM_CMSIS_NN", ""),
                    help="Arm CMSIS-NN source tree to measure beside byoc (default $BYOC_ARM_CMSIS_NN)")
    ap.add_argument("--out", default=str(REPO / "build" / "bench" / "kernels.json"))
    ap.add_argument("--build-dir", default=str(REPO / "build" / "bench" / "firmware"))
    args = ap.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    for p in paths:
        if p not in tl.FIRMWARE_PATHS:
            ap.error(f"unknown path {p!r}; choose from {', '.join(tl.FIRMWARE_PATHS)}")
    for c in (c for c in args.cpus.split(",") if c):
        if c not in tl.FIRMWARE_CORES:
            ap.error(f"unknown core {c!r}; choose from {', '.join(tl.FIRMWARE_CORES)}")
        paths.append(c)
    if not paths:
        ap.error("nothing to measure: give --paths and/or --cpus")
    names = [n for n in args.cases.split(",") if n] or list(tl.BENCH_CASES)
    for n in names:
        if n not in tl.BENCH_CASES:
            ap.error(f"unknown case {n!r}; choose from {', '.join(tl.BENCH_CASES)}")
    arm_tree = args.arm or None
    if arm_tree and not (Path(arm_tree) / "Include" / "arm_nnfunctions.h").is_file():
        ap.error(f"{arm_tree}: not a CMSIS-NN tree (no Include/arm_nnfunctions.h)")

    cases = [c for c in tl.bench_cases() if c.name.split(".")[0] in names]
    build_root = Path(args.build_dir)
    jobs = [(p, None) for p in paths] + ([(p, arm_tree) for p in paths] if arm_tree else [])
    with ThreadPoolExecutor(max_workers=min(len(jobs), tl.jobs())) as pool:
        done = list(pool.map(lambda job: measure(job[0], cases, build_root / (
            ("arm_" if job[1] else "") + job[0]), job[1]), jobs))
    results = {(("arm_" if tree else "") + p): res for (p, tree), res in zip(jobs, done)}

    failures = [f"{key}: {line}" for key, (_, bad) in results.items() for line in bad]
    table = {name: {key: counts[name] for key, (counts, _) in results.items()} for name in names}
    print_table(names, paths, table, arm_tree is not None)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2) + "\n")
    md = out.with_suffix(".md")
    md.write_text(markdown_table(names, paths, table, arm_tree is not None))
    print(f"wrote {out} and {md}")
    if failures:
        print(f"{len(failures)} case(s) differ from TFLM:", file=sys.stderr)
        for line in failures:
            print("  " + line, file=sys.stderr)
        return 1
    print("all outputs bit-exact with TFLM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
