#!/usr/bin/env python3
"""Streaming benchmark (issue 11): the real stateful wake-word models on every target.

For every ``.tflite`` in ``tests/data/models/streaming`` (or ``--model``) and every target
(``c``, ``cmsis-nn,c``, ``ethos-u55-256,cmsis-nn,c``), measured in this run:

* ``byoc.validate --steps N`` on the Corstone-300 (QEMU mps3-an547, Cortex-M55): N
  consecutive random frames through one state buffer and one TFLM interpreter, every step
  compared, then ``<prefix>_reset`` and the first two steps again; instructions per step
  (the largest over the steps, exact: QEMU -icount) and its ratio to ``c``;
* byoc's arena, state buffer, their sum, constants, model code (linker map);
* TFLM's whole arena for the same model (head: tensors; tail: its resource variables and
  bookkeeping), from ``print_allocations()`` in a subprocess;
* Vela's estimated NPU cycles for the Ethos-U target.

Prints a Markdown table and writes it to ``build/bench/streaming.md`` with the records in
``streaming.json``. Usage: scripts/bench_streaming.py [--model PATH ...] [--target T ...]
[--steps N] [--out DIR]. Exit status 0 when every record is bit-exact, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("c", "cmsis-nn,c", "ethos-u55-256,cmsis-nn,c")


def _tflm_arena(path: Path) -> dict[str, int]:
    from byoc.reference import tflm_arena
    from byoc.tflite.reader import load_model
    m = load_model(path)
    return tflm_arena(m.data, sum(t.nbytes for t in m.tensors if not t.is_constant), path.name)


def measure(path: Path, target: str, steps: int) -> dict:
    import byoc
    r = byoc.validate(path, target=target, backend="qemu", steps=steps)
    return {"model": path.stem, "target": target, "status": r.status,
            "mismatches": r.mismatches, "steps": steps, "reset_steps": r.reset_steps,
            "instructions_per_step": r.instructions, "arena_bytes": r.arena_bytes,
            "state_bytes": r.state_bytes, "constant_bytes": r.constant_bytes,
            "code_bytes": r.code_bytes, "npu_cycles": r.npu_cycles}


def _n(v) -> str:
    return "–" if v is None else f"{v:,}"


def table(records: list[dict]) -> str:
    head = ("| model | target | bit-exact vs TFLM | instructions / step | vs `c` | arena | state "
            "| arena + state | TFLM arena (head + tail) | constants | code | NPU cycles |")
    lines = [head, "|" + "---|" * 12]
    c = {r["model"]: r["instructions_per_step"] for r in records if r["target"] == "c"}
    for r in records:
        ok = (f"yes ({r['steps']} steps + {r['reset_steps']} after reset)"
              if r["status"] == "pass" else f"NO ({r['mismatches']} elements)")
        base = c.get(r["model"])
        ratio = (f"{base / r['instructions_per_step']:.2f}x fewer"
                 if base and r["target"] != "c" and r["instructions_per_step"] else "–")
        if r["npu_cycles"] is not None:
            ratio = "– (NPU simulated on the CPU)"
        t = r["tflm_arena"]
        lines.append(
            f"| {r['model']} | `{r['target']}` | {ok} | {_n(r['instructions_per_step'])} | "
            f"{ratio} | {_n(r['arena_bytes'])} | {_n(r['state_bytes'])} | "
            f"{_n(r['arena_bytes'] + r['state_bytes'])} | {_n(t['total'])} ({_n(t['head'])} + "
            f"{_n(t['tail'])}) | {_n(r['constant_bytes'])} | {_n(r['code_bytes'])} | "
            f"{_n(r['npu_cycles'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", type=Path)
    ap.add_argument("--target", action="append")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    args = ap.parse_args(argv)
    models = args.model or sorted((ROOT / "tests" / "data" / "models" / "streaming")
                                  .glob("*.tflite"))
    records = []
    for path in models:
        arena = _tflm_arena(path)
        for target in args.target or TARGETS:
            print(f"{path.stem} {target} ...", flush=True)
            rec = measure(path, target, args.steps)
            rec["tflm_arena"] = arena
            records.append(rec)
    text = table(records)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "streaming.md").write_text(text + "\n")
    (args.out / "streaming.json").write_text(json.dumps(records, indent=2) + "\n")
    return 0 if all(r["status"] == "pass" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
