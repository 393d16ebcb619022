#!/usr/bin/env python3
"""Network benchmark (issue 6): the MLPerf Tiny reference networks on every byoc target.

For every network of ``byoc.zoo.MLPERF_TINY`` and every target
(``c``, ``cmsis-nn,c``, ``ethos-u55-128,cmsis-nn,c``, ``ethos-u55-256,cmsis-nn,c``), in this run:

* ``byoc.validate`` on the Corstone-300 (QEMU mps3-an547, Cortex-M55) with ``--inputs``
  random samples: bit-exactness against TFLM, instructions of the run function (the largest
  over the samples, exact: QEMU -icount), the planned arena and its lower bound, constant
  bytes, and the model's code bytes from the firmware's linker map;
* the compile time (``compile_seconds`` of the package the validation compiled);
* TFLM's arena for the same model: the "head" (tensors and scratch buffers) of
  ``print_allocations()``, in a subprocess (a too-small arena can crash TFLM);
* Vela's estimated NPU cycles for the Ethos-U targets (from the compiled package, else from
  ``byoc.ethosu.compile_vela`` on the same model), and the NPU cycles the run measured
  (``npu_pmu_cycles``: the PMU of the emulated Ethos-U55 device; the Ethos-U targets' CPU
  instructions then exclude the NPU's work; ``npu_driver`` "model" marks a run without the
  device, whose instructions include the functional model's emulation of it).

A target that ``byoc.compiler`` does not implement yet is skipped with a "not available" note
(its records have status "not available"); a target that fails on a network is recorded
with status "error" and its message, and the others go on. Nothing in the outputs is typed in.

Writes ``build/bench/networks.md`` (the Markdown table, also printed), ``networks.json``
(one record per network x target: the ``byoc validate --json`` keys plus ``network``,
``macs``, ``tflm_arena_bytes``, ``npu_cycles``, ``compile_seconds``, ``seconds``) and the
chart ``networks.png`` (needs matplotlib: ``pip install 'byoc[bench]'``).

Usage: scripts/bench_networks.py [--network NAME ...] [--target T ...] [--inputs N]
                                 [--seed S] [--out build/bench] [--cmsis-nn-path DIR]
                                 [--ethosu-driver-path DIR --cmsis-path DIR]
Exit status: 0 when every measured record is bit-exact with TFLM, 1 on a mismatch or a target's
error, 2 when the benchmark itself cannot run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from byoc import compiler  # noqa: E402
from byoc.errors import ByocError  # noqa: E402
from byoc.tflite.reader import load_model  # noqa: E402
from byoc.validate import validate  # noqa: E402
from byoc.zoo import MLPERF_TINY, MODELS  # noqa: E402

TARGETS = ("c", "cmsis-nn,c", "ethos-u55-128,cmsis-nn,c", "ethos-u55-256,cmsis-nn,c")
NOT_AVAILABLE = "not available"
#: Inputs per network and target unless --inputs says otherwise.
DEFAULT_INPUTS = 5

def progress(msg: str) -> None:
    print(msg, flush=True)


def target_unavailable(target: str) -> str | None:
    """None when byoc.compiler accepts ``target``, else the reason it gives."""
    try:
        compiler.parse_target(target)
    except ByocError as exc:
        return str(exc)
    return None


def tflm_arena(model_path: Path) -> dict[str, int]:
    """TFLM's arena for the model (``byoc.reference.tflm_arena``): {"total", "head", "tail"}."""
    from byoc.reference import tflm_arena as probe
    model = load_model(model_path)
    return probe(model.data, sum(t.nbytes for t in model.tensors if not t.is_constant),
                 model_path.name)


def _npu_cycles_from_metadata(meta: dict) -> int | None:
    if isinstance(meta.get("npu_cycles"), int):
        return meta["npu_cycles"]
    cycles = [p["npu_cycles"] for p in meta.get("partitions", [])
              if isinstance(p, dict) and isinstance(p.get("npu_cycles"), int)]
    return sum(cycles) if cycles else None


def npu_cycles(target: str, model_bytes: bytes, meta: dict, result) -> int | None:
    """Vela's estimated NPU cycles for an Ethos-U target: what the compiler recorded, else
    Vela run on the same model with the same accelerator configuration; None for CPU-only
    targets."""
    accel = next((t.strip() for t in target.split(",") if t.strip().startswith("ethos-u")),
                 None)
    if accel is None:
        return None
    value = getattr(result, "npu_cycles", None)
    if isinstance(value, int):
        return value
    value = _npu_cycles_from_metadata(meta)
    if value is not None:
        return value
    from byoc.ethosu import compile_vela
    return int(compile_vela(model_bytes, accel).npu_cycles)


def measure(network: str, target: str, model_path: Path, inputs: int, seed: int,
            work: Path, tflm_head: int, macs: int, libraries: dict | None = None) -> dict:
    """``libraries``: ``cmsis_nn_path`` / ``ethosu_driver_path`` / ``cmsis_path`` keywords of
    ``byoc.validate`` (Arm's trees instead of byoc's)."""
    start = time.monotonic()
    res = validate(model_path, target=target, backend="qemu", inputs=inputs, seed=seed,
                   work_dir=work, **(libraries or {}))
    meta = json.loads((Path(res.output_dir) / "metadata.json").read_text())
    record = {"network": network, "macs": macs}
    record.update(res.to_json())
    record.pop("profile", None)
    record["tflm_arena_bytes"] = tflm_head
    record["npu_cycles"] = npu_cycles(target, model_path.read_bytes(), meta, res)
    record["compile_seconds"] = meta.get("compile_seconds")
    record["seconds"] = round(time.monotonic() - start, 2)
    return record


def _unavailable_record(network: str, target: str, reason: str, macs: int,
                        tflm_head: int) -> dict:
    return {"network": network, "macs": macs, "target": target, "status": NOT_AVAILABLE,
            "details": [reason], "tflm_arena_bytes": tflm_head, "npu_cycles": None,
            "compile_seconds": None}


def _n(v, fmt="{:,}") -> str:
    return "–" if v is None else fmt.format(v)


def _npu_pmu(r: dict) -> str:
    """The NPU cycles the run measured: the device's PMU, or (marked) the estimate of the
    functional model in the firmware, whose work the CPU instructions then include."""
    if r.get("npu_pmu_cycles") is None:
        return "–"
    return _n(r["npu_pmu_cycles"]) + (" (model in firmware)" if r.get("npu_driver") == "model" else "")


def markdown_table(records: list[dict]) -> str:
    head = ("| network | target | MACs | bit-exact vs TFLM | CPU instructions | instr/MAC "
            "| arena | lower bound | TFLM arena | constants | code | compile s | NPU cycles (Vela) "
            "| NPU cycles (PMU) |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    unavailable: dict[str, str] = {}
    for r in records:
        if r["status"] == NOT_AVAILABLE:
            unavailable.setdefault(r["target"], r["details"][0])
            continue
        if r["status"] == "error":
            lines.append(f"| {r['network']} | `{r['target']}` | {_n(r['macs'])} "
                         f"| **error**: {r['details'][0]} |" + " |" * 10)
            continue
        exact = (f"yes ({r['samples']} inputs)" if r["status"] == "pass"
                 else f"**NO**: {r['mismatches']} elements differ")
        per_mac = (f"{r['instructions'] / r['macs']:.2f}" if r.get("instructions") and r["macs"]
                   else "–")
        lines.append(
            f"| {r['network']} | `{r['target']}` | {_n(r['macs'])} | {exact} "
            f"| {_n(r.get('instructions'))} | {per_mac} | {_n(r['arena_bytes'])} "
            f"| {_n(r['arena_lower_bound_bytes'])} | {_n(r['tflm_arena_bytes'])} "
            f"| {_n(r['constant_bytes'])} | {_n(r.get('code_bytes'))} "
            f"| {_n(r['compile_seconds'], '{:.1f}')} | {_n(r['npu_cycles'])} "
            f"| {_npu_pmu(r)} |")
    if unavailable:
        lines.append("")
        for t, why in unavailable.items():
            lines.append(f"Target `{t}`: {NOT_AVAILABLE} ({why}).")
    return "\n".join(lines)


def chart(records: list[dict], path: Path) -> Path:
    """Four panels per network: instructions per inference, arena (byoc, lower bound, TFLM),
    flash (constants and code), compile time; one bar per measured target."""
    try:
        import matplotlib
    except ImportError:
        raise ByocError("the chart needs matplotlib: pip install 'byoc[bench]' "
                        "(`make bench` installs it)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    done = [r for r in records if r["status"] not in (NOT_AVAILABLE, "error")]
    networks = list(dict.fromkeys(r["network"] for r in done))
    targets = list(dict.fromkeys(r["target"] for r in done))
    by = {(r["network"], r["target"]): r for r in done}
    x = np.arange(len(networks))
    width = 0.8 / max(len(targets), 1)
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    (ax_i, ax_a), (ax_f, ax_c) = axes

    def offsets(k: int):
        return x + (k - (len(targets) - 1) / 2) * width

    def value(n, t, key, scale=1.0):
        return ((by[(n, t)].get(key) or 0) / scale) if (n, t) in by else 0

    colors = [f"C{k % 10}" for k in range(len(targets))]

    def grouped(ax, key, scale=1.0, fmt="{:.3g}"):
        for k, t in enumerate(targets):
            bars = ax.bar(offsets(k), [value(n, t, key, scale) for n in networks], width,
                          label=t, color=colors[k])
            ax.bar_label(bars, labels=[fmt.format(v) for v in bars.datavalues], fontsize=7)
        ax.set_xticks(x, networks)

    grouped(ax_i, "instructions", 1e6)
    ax_i.set_yscale("log")
    smallest = min((r["instructions"] for r in done if r.get("instructions")), default=1e6)
    ax_i.set_ylim(bottom=smallest / 1e6 / 3)
    ax_i.set_ylabel("instructions per inference (millions, log)")
    ax_i.set_title("Run function on Corstone-300 (QEMU -icount), in millions")
    ax_i.legend(fontsize=8)

    # arena per target (bars), its lower bound (black ticks), TFLM's head (red line)
    for k, t in enumerate(targets):
        bars = ax_a.bar(offsets(k), [value(n, t, "arena_bytes", 1024) for n in networks],
                        width, label=f"byoc arena, {t}", color=colors[k])
        ax_a.bar_label(bars, labels=[f"{v:.3g}" for v in bars.datavalues], fontsize=7)
        ax_a.hlines([value(n, t, "arena_lower_bound_bytes", 1024) for n in networks],
                    offsets(k) - width / 2, offsets(k) + width / 2, colors="black",
                    linewidth=2, label="lower bound" if k == 0 else None)
    tflm = [next(by[(n, t)] for t in targets if (n, t) in by)["tflm_arena_bytes"] / 1024
            for n in networks]
    ax_a.hlines(tflm, x - 0.45, x + 0.45, colors="#c44e52", linestyles="--", linewidth=1.5,
                label="TFLM arena (head)")
    for xi, v in zip(x, tflm):
        ax_a.annotate(f"TFLM {v:.3g}", (xi + 0.45, v), fontsize=7, color="#c44e52",
                      ha="right", va="top", xytext=(0, -2), textcoords="offset points",
                      bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax_a.set_xticks(x, networks)
    ax_a.set_yscale("log")
    ax_a.set_ylabel("KiB (log)")
    ax_a.set_title("Arena, KiB: byoc's plan, its lower bound, TFLM's")
    ax_a.legend(fontsize=7)

    for k, t in enumerate(targets):
        const = [value(n, t, "constant_bytes", 1024) for n in networks]
        code = [value(n, t, "code_bytes", 1024) for n in networks]
        ax_f.bar(offsets(k), const, width, label=f"{t}: constants", color=colors[k])
        bars = ax_f.bar(offsets(k), code, width, bottom=const, label=f"{t}: code",
                        color=colors[k], hatch="//", alpha=0.5)
        ax_f.bar_label(bars, labels=[f"{a + b:.0f}" for a, b in zip(const, code)], fontsize=7)
    ax_f.set_xticks(x, networks)
    ax_f.set_ylabel("KiB")
    ax_f.set_title("Flash, KiB: constants + model code (from the ELF map)")
    ax_f.legend(fontsize=7)

    grouped(ax_c, "compile_seconds", fmt="{:.2f}")
    ax_c.set_ylabel("seconds")
    ax_c.set_title("Compile time, seconds")
    ax_c.legend(fontsize=8)
    fig.suptitle("byoc: MLPerf Tiny reference networks (int8) on Cortex-M55, vs TFLM")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(networks: list[str], targets: list[str], inputs: int, seed: int, out: Path,
        plot: bool = True, libraries: dict | None = None) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    models = out / "models"
    models.mkdir(exist_ok=True)
    unavailable = {t: target_unavailable(t) for t in targets}
    for t, why in unavailable.items():
        if why:
            progress(f"target {t}: {NOT_AVAILABLE} ({why}); skipped")
    todo = [(n, t) for n in networks for t in targets if not unavailable[t]]
    records: list[dict] = []
    k = 0
    for network in networks:
        path = models / f"{network}.tflite"
        path.write_bytes(MODELS[network]())
        macs = load_model(path).total_macs()
        tflm = tflm_arena(path)
        progress(f"{network}: {macs:,} MACs; TFLM arena head {tflm['head']:,} bytes "
                 f"(total {tflm['total']:,})")
        for target in targets:
            if unavailable[target]:
                records.append(_unavailable_record(network, target, unavailable[target], macs,
                                                   tflm["head"]))
                continue
            k += 1
            progress(f"[{k}/{len(todo)}] {network} / {target}: compile, build firmware, "
                     f"run {inputs} inputs on QEMU ...")
            work = out / "work" / network / target.replace(",", "+")
            try:
                r = measure(network, target, path, inputs, seed, work, tflm["head"], macs,
                            libraries)
            except ByocError as exc:  # one broken target does not stop the others
                r = _unavailable_record(network, target, str(exc), macs, tflm["head"])
                r["status"] = "error"
                records.append(r)
                progress(f"    ERROR: {exc}")
                continue
            records.append(r)
            verdict = "bit-exact" if r["status"] == "pass" else f"FAIL ({r['mismatches']} differ)"
            progress(f"    {verdict}; {_n(r['instructions'])} instructions; arena "
                     f"{r['arena_bytes']:,} (bound {r['arena_lower_bound_bytes']:,}); "
                     f"compile {r['compile_seconds']} s; {r['seconds']} s")
    (out / "networks.json").write_text(json.dumps(records, indent=1) + "\n")
    table = markdown_table(records)
    (out / "networks.md").write_text(table + "\n")
    if plot:
        chart(records, out / "networks.png")
    return records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", action="append", choices=sorted(MODELS),
                    help=f"network to measure (repeatable; default: {', '.join(MLPERF_TINY)})")
    ap.add_argument("--target", action="append",
                    help=f"target to measure (repeatable; default: {' '.join(TARGETS)})")
    ap.add_argument("--inputs", type=int, default=DEFAULT_INPUTS,
                    help="random input samples per network and target")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "build" / "bench"))
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG chart")
    ap.add_argument("--cmsis-nn-path", default=None, help="build against Arm's CMSIS-NN checkout")
    ap.add_argument("--ethosu-driver-path", default=None,
                    help="Arm's ethos-u-core-driver (QEMU has no NPU: those rows are refused)")
    ap.add_argument("--cmsis-path", default=None, help="CMSIS_6/CMSIS_5 for Arm's driver")
    args = ap.parse_args(argv)
    libraries = {"cmsis_nn_path": args.cmsis_nn_path, "ethosu_driver_path": args.ethosu_driver_path,
                 "cmsis_path": args.cmsis_path}
    start = time.monotonic()
    out = Path(args.out)
    try:
        records = run(args.network or list(MLPERF_TINY), args.target or list(TARGETS),
                      args.inputs, args.seed, out, plot=not args.no_plot, libraries=libraries)
    except ByocError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    print()
    print((out / "networks.md").read_text(), end="")
    print(f"\nwrote {out / 'networks.md'}, {out / 'networks.json'}"
          + ("" if args.no_plot else f", {out / 'networks.png'}")
          + f" in {time.monotonic() - start:.0f} s")
    failed = [r for r in records if r["status"] not in ("pass", NOT_AVAILABLE)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
