#!/usr/bin/env python3
"""Instructions per network: byoc's CMSIS-NN kernels vs Arm's CMSIS-NN, on three kernel paths.

For every network of ``byoc.zoo.MLPERF_TINY``, every core (default cortex-m55 = Helium,
cortex-m4 = DSP, cortex-m0plus = portable C; ``--cpu`` takes any core of ``byoc.cpus.CORTEX_M``,
e.g. cortex-m3 and cortex-m33 too) and every library (byoc's bundled kernels, then each
``--cmsis-nn-path`` checkout of ARM-software/CMSIS-NN), ``byoc.validate`` compiles the network
for ``--target cmsis-nn,c`` (the same generated code for both libraries), builds the
Corstone-300 firmware against that library (Arm's through its own CMake project, its default
flags) and runs it on QEMU mps3-an547 against TFLM. Every cell is measured in the run: the
instructions of the run function (the largest over the inputs, exact: QEMU -icount) and
whether the outputs are bit-exact.

Writes ``<out>/arm_cmsis_nn.md`` (the Markdown table, also printed) and ``arm_cmsis_nn.json``
(one record per network x core x library: the ``byoc validate --json`` keys plus
``network``, ``library``).

Usage: scripts/bench_arm_cmsis_nn.py --cmsis-nn-path /path/to/CMSIS-NN [--cmsis-nn-path ...]
           [--network NAME ...] [--cpu CPU ...] [--inputs N] [--jobs N] [--out build/bench]
Exit status: 0 when every record is bit-exact, 1 otherwise, 2 when the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from byoc.cpus import CORTEX_M, KERNEL_PATHS, PATH_CPUS, PATH_NAMES  # noqa: E402
from byoc.errors import ByocError  # noqa: E402
from byoc.libraries import Libraries  # noqa: E402
from byoc.validate import validate  # noqa: E402
from byoc.zoo import MLPERF_TINY, MODELS  # noqa: E402

CPUS = tuple(PATH_CPUS.values())   # default: one core per kernel path (Helium, DSP, portable C)
PATHS = {cpu: PATH_NAMES[KERNEL_PATHS[cpu]] for cpu in CORTEX_M}
TARGET = "cmsis-nn,c"


def library_label(path: Path | None) -> str:
    return "byoc" if path is None else f"Arm {path.name}"


def measure(network: str, cpu: str, library: Path | None, inputs: int, work: Path) -> dict:
    model = work / f"{network}.tflite"
    try:
        res = validate(model, target=TARGET, backend="qemu", cpu=cpu, inputs=inputs, seed=0,
                       work_dir=work / f"{network}_{cpu}_{library_label(library).replace(' ', '_')}",
                       cmsis_nn_path=library)
        record = res.to_json()
    except ByocError as exc:
        record = {"status": "error", "error": str(exc), "cpu": cpu, "target": TARGET}
    record.pop("profile", None)
    record.update(network=network, library=library_label(library))
    return record


def table(records: list[dict], libraries: list[str], cpus: list[str]) -> str:
    head = ["network"] + [f"{cpu} ({PATHS[cpu]}) {lib}" for cpu in cpus for lib in libraries]
    ratio_cols = [f"{cpu} Arm/byoc" for cpu in cpus] if len(libraries) > 1 else []
    lines = ["| " + " | ".join(head + ratio_cols) + " |",
             "|" + "---|" * (len(head) + len(ratio_cols))]
    by_key = {(r["network"], r["cpu"], r["library"]): r for r in records}
    for network in dict.fromkeys(r["network"] for r in records):
        cells = [network]
        for cpu in cpus:
            for lib in libraries:
                r = by_key.get((network, cpu, lib), {})
                if r.get("status") == "pass":
                    cells.append(f"{r['instructions']:,}")
                else:
                    cells.append(f"{r.get('status', '-')}")
        for cpu in cpus:
            if not ratio_cols:
                break
            ours, arm = by_key.get((network, cpu, "byoc"), {}), by_key.get((network, cpu, libraries[1]), {})
            if ours.get("status") == "pass" and arm.get("status") == "pass":
                cells.append(f"{arm['instructions'] / ours['instructions']:.2f}")
            else:
                cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cmsis-nn-path", action="append", default=[], required=True,
                    help="Arm CMSIS-NN checkout (repeatable)")
    ap.add_argument("--network", action="append", choices=MLPERF_TINY)
    ap.add_argument("--cpu", action="append", choices=CORTEX_M,
                    help="a core byoc builds firmware for (repeatable; default: "
                         + ", ".join(CPUS) + ")")
    ap.add_argument("--inputs", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2, help="validations run in parallel")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    args = ap.parse_args(argv)
    try:
        arm = [Libraries.from_options(cmsis_nn_path=p).cmsis_nn for p in args.cmsis_nn_path]
    except ByocError as exc:
        print(f"bench_arm_cmsis_nn: {exc}", file=sys.stderr)
        return 2
    networks, cpus = args.network or list(MLPERF_TINY), args.cpu or list(CPUS)
    libraries: list[Path | None] = [None, *arm]
    work = Path(tempfile.mkdtemp(prefix="byoc_bench_arm_"))
    for network in networks:
        (work / f"{network}.tflite").write_bytes(MODELS[network]())
    jobs = [(n, c, lib) for n in networks for c in cpus for lib in libraries]
    # processes, not threads: TVM's frontend is not thread-safe
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        records = list(pool.map(measure, *zip(*jobs), [args.inputs] * len(jobs),
                                [work] * len(jobs)))
    for r in records:
        print(f"{r['network']:>16} {r['cpu']:>13} {r['library']:>22}: {r['status']} "
              f"{r.get('instructions') or r.get('error', '')}", flush=True)
    md = table(records, [library_label(lib) for lib in libraries], cpus)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "arm_cmsis_nn.md").write_text(md + "\n")
    (args.out / "arm_cmsis_nn.json").write_text(json.dumps(records, indent=2) + "\n")
    print(md)
    return 0 if all(r.get("status") == "pass" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
