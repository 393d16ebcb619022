"""Run a compiled model on the Corstone-300 (QEMU ``mps3-an547`` or the Arm FVP).

``run_on_corstone(compiled, samples, expected)`` generates a firmware harness for the
model's package, builds it with the platform layer (``byoc.platform.corstone300``), runs it
and returns a ``FirmwareRun``: pass/fail, mismatches, the instructions the run function
executed, memory figures from the ELF, the outputs read back and, when profiling, one
instruction count per operator call.

The harness (``harness_source``) embeds every input sample and expected output as const
arrays (``BYOC_DATA_ATTR``, placed with the model constants), runs ``<prefix>_run`` once
per sample between ``byoc_counter_start``/``byoc_counter_stop``, compares each output with
its expectation on the target and prints machine-readable lines besides the platform's
``BYOC_RESULT``::

    BYOC_SAMPLE sample=<s> status=<run return code> instructions=<n> mismatches=<n>
    BYOC_OUTPUT sample=<s> index=<k> offset=<byte> hex=<raw little-endian bytes>

A profiled firmware (``-DBYOC_PROFILE``) reports the operator table of sample 0 only.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .aot import IOTensor
from .compiler import CompiledModel
from .errors import ByocError
from .libraries import Libraries
from .platform import corstone300 as platform
from .platform.corstone300 import ProfileEntry

BACKENDS = ("qemu", "fvp")
#: Output bytes per BYOC_OUTPUT line.
OUTPUT_CHUNK = 256
#: Element types the harness can embed and compare.
_C_TYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "uint16": "uint16_t",
            "int32": "int32_t", "uint32": "uint32_t", "float32": "float"}
#: Rough guest speed under ``-icount`` and generic-C cost per MAC, for the default timeout.
_GUEST_INSTRUCTIONS_PER_S = 50e6
_INSTRUCTIONS_PER_MAC = 40
#: Operator names longer than this are shortened in the profile table.
_NAME_WIDTH = 48


@dataclass
class FirmwareRun:
    """Outcome of running a compiled model on the Corstone-300.

    ``instructions`` is the largest per-sample count of instructions executed inside
    ``<prefix>_run`` (exact on QEMU; DWT cycles on the FVP), ``instructions_per_sample``
    all of them; on an NPU device they are the CPU's alone (the device's work takes no
    emulated time) and ``npu_cycles`` is the NPU's count. ``mismatches`` counts output elements the firmware found different from
    the expected outputs (None when none were given). Sizes are bytes: ``code_bytes`` and
    ``rodata_bytes`` are the model's own code and read-only data (constants included) as
    linked into the ELF, ``firmware_sizes`` the whole ELF's figures (platform, C library
    and the embedded test data included). ``profile`` has one entry per operator call of
    sample 0 when profiling.
    """

    status: str                                   # "pass" or "fail"
    mismatches: int | None
    instructions: int | None
    instructions_per_sample: list[int]
    run_status: list[int]                         # <prefix>_run return code per sample
    arena_bytes: int
    code_bytes: int
    rodata_bytes: int
    constant_bytes: int                           # the model's constants section share
    test_data_bytes: int                          # embedded inputs and expected outputs
    firmware_sizes: dict[str, int]
    outputs: list[list[np.ndarray]] | None
    profile: list[ProfileEntry]
    backend: str
    counter: str                                  # "icount" (instructions) or "dwt_cycles"
    stdout: str
    elf: Path
    wall_time_s: float
    warnings: list[str] = field(default_factory=list)
    libraries: dict = field(default_factory=dict)  # byoc.libraries record of this build
    # Models with NPU regions: the driver in the firmware ("byoc": byoc's register-level
    # driver, "arm": Arm's, both on an NPU device; "model": byoc's functional model computing
    # the NPU's work on the CPU, whose instructions then include it), and the NPU cycles of
    # each sample (the NPU's PMU cycle counter; the model's estimate for "model").
    npu_driver: str | None = None
    npu_cycles: int | None = None
    npu_cycles_per_sample: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def profile_json(self) -> list[dict]:
        return [{"index": p.op, "name": p.name, "instructions": p.instructions,
                 "calls": p.calls} for p in self.profile]


# ----------------------------------------------------------------------------- packages


def io_tensors(compiled: CompiledModel) -> tuple[list[IOTensor], list[IOTensor]]:
    """The model's inputs and outputs as the package header declares them."""
    program = getattr(compiled, "program", None)
    if program is not None:
        return list(program.inputs), list(program.outputs)
    model = compiled.metadata.get("model", {})

    def conv(d: dict) -> IOTensor:
        return IOTensor(d["c_name"], d.get("name", d["c_name"]), tuple(int(x) for x in d["shape"]),
                        str(d["dtype"]), list(d.get("scale") or []),
                        list(d.get("zero_point") or []))
    return [conv(d) for d in model.get("inputs", [])], [conv(d) for d in model.get("outputs", [])]


def load_package(package_dir: "str | Path") -> CompiledModel:
    """A ``CompiledModel`` for an already written package directory (from metadata.json);
    its ``program`` is None, the IO comes from the metadata, which must still describe the
    compiled code: its inputs and outputs hash to the header's ``<PREFIX>_IO_SIGNATURE``."""
    pkg = Path(package_dir)
    meta_path = pkg / "metadata.json"
    if not pkg.is_dir():
        raise ByocError(f"{pkg}: no such package directory")
    if not meta_path.is_file():
        raise ByocError(f"{pkg}: not a byoc package (no metadata.json)")
    try:
        metadata = json.loads(meta_path.read_text())
        prefix = metadata["prefix"]
        ios = metadata["model"]["inputs"] + metadata["model"]["outputs"]
        for io in ios:
            io["c_name"], io["shape"], io["dtype"]  # noqa: B018 - presence check
        metadata["memory"]["arena_bytes"]  # noqa: B018
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ByocError(f"{meta_path}: unreadable package metadata ({type(exc).__name__}: "
                        f"{exc})") from None
    header = pkg / "include" / f"{prefix}.h" if isinstance(prefix, str) else None
    if header is None or not header.is_file() or not (pkg / "CMakeLists.txt").is_file():
        raise ByocError(f"{pkg}: incomplete package (include/{prefix}.h or CMakeLists.txt "
                        "missing)")
    _check_io_signature(pkg, header, metadata, prefix)
    return CompiledModel(pkg.absolute(), prefix, metadata.get("target", "c"),
                         metadata.get("cpu", "cortex-m55"), metadata, program=None)


def make_work_dir(path: Path) -> None:
    """Create a work directory (``--work-dir``) or say in one line why it cannot be one."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ByocError(f"--work-dir {path}: exists and is not a directory") from None
    except OSError as exc:
        raise ByocError(f"--work-dir {path}: cannot create it ({exc.strerror})") from None


def _check_io_signature(pkg: Path, header: Path, metadata: dict, prefix: str) -> None:
    """Refuse a metadata.json whose inputs/outputs are not those the code was compiled for
    (edited shapes would make the harness read or print past the model's buffers)."""
    from .package import io_signature
    text = header.read_text(errors="replace")
    m = re.search(rf"#define {prefix.upper()}_IO_SIGNATURE \"([0-9a-f]+)\"", text)
    if m is None:
        raise ByocError(f"{header}: no {prefix.upper()}_IO_SIGNATURE (a package from an older "
                        "byoc, or an edited header): recompile the model")
    model = metadata["model"]
    if io_signature(prefix, model["inputs"], model["outputs"]) != m.group(1):
        raise ByocError(f"{pkg / 'metadata.json'}: its inputs/outputs do not match the "
                        f"compiled code ({header.name}'s {prefix.upper()}_IO_SIGNATURE); "
                        "metadata.json was edited or belongs to another package - recompile")


# ----------------------------------------------------------------------------- harness


def _c_type(dtype: str, what: str) -> str:
    if dtype not in _C_TYPES:
        raise ByocError(f"{what}: data type '{dtype}' is not supported by the firmware harness "
                        f"(supported: {', '.join(_C_TYPES)})")
    return _C_TYPES[dtype]


def _literals(arr: np.ndarray) -> list[str]:
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.dtype == np.float32:
        out = []
        for v in flat.tolist():
            if math.isnan(v):
                out.append("NAN")
            elif math.isinf(v):
                out.append("INFINITY" if v > 0 else "-INFINITY")
            else:
                out.append(float(v).hex() + "f")
        return out
    if flat.dtype == np.int32:
        return [str(v) if v != -2 ** 31 else "(-2147483647 - 1)" for v in flat.tolist()]
    if flat.dtype == np.uint32:
        return [f"{v}u" for v in flat.tolist()]
    return [str(v) for v in flat.tolist()]


def _array(ctype: str, name: str, arrays: list[np.ndarray]) -> list[str]:
    """One const array holding ``arrays`` back to back (sample after sample)."""
    vals = [lit for a in arrays for lit in _literals(a)]
    lines = [f"static const {ctype} {name}[{max(1, len(vals))}] BYOC_DATA_ATTR = {{"]
    for i in range(0, len(vals), 16):
        lines.append("  " + ", ".join(vals[i:i + 16]) + ",")
    if not vals:
        lines.append("  0,")
    lines.append("};")
    return lines


def _elements(io: IOTensor) -> int:
    return int(np.prod(io.shape, dtype=np.int64))


#: Harness code of a model with NPU regions: the driver handle, which driver it is, and the
#: inference hooks that sum the NPU cycles of each run: from the NPU's PMU cycle counter
#: (byoc's register-level driver or Arm's: on the emulated device, the FVP or a board), or
#: the functional model's estimate when the model runs in the firmware.
_NPU_HOOKS = """#include "ethosu_driver.h"
#if defined(ETHOSU_MODEL_ACC_ENTRIES)
#include "ethosu_model.h"
#define BYOC_NPU_DRIVER "model"
#else
#include "pmu_ethosu.h"
#if defined(ETHOSU_TYPES_H)
#define BYOC_NPU_DRIVER "arm"
#else
#define BYOC_NPU_DRIVER "byoc"
#endif
#endif

static struct ethosu_driver byoc_npu;
static volatile uint64_t byoc_npu_cycles;

void ethosu_inference_begin(struct ethosu_driver* drv, void* user_arg) {
  (void)user_arg;
#if defined(ETHOSU_MODEL_ACC_ENTRIES)
  (void)drv;
#else
  ETHOSU_PMU_Enable(drv);
  ETHOSU_PMU_CYCCNT_Reset(drv);
  ETHOSU_PMU_CNTR_Enable(drv, ETHOSU_PMU_CCNT_Msk);
#endif
}

void ethosu_inference_end(struct ethosu_driver* drv, void* user_arg) {
  (void)user_arg;
#if defined(ETHOSU_MODEL_ACC_ENTRIES)
  byoc_npu_cycles += ethosu_model_last_cycles(drv);
#else
  byoc_npu_cycles += ETHOSU_PMU_Get_CCNTR(drv);
  ETHOSU_PMU_CNTR_Disable(drv, ETHOSU_PMU_CCNT_Msk);
  ETHOSU_PMU_Disable(drv);
#endif
}"""


def harness_source(prefix: str, inputs: list[IOTensor], outputs: list[IOTensor],
                   samples: list[list[np.ndarray]],
                   expected: list[list[np.ndarray]] | None = None,
                   print_outputs: bool = True, tolerance: float = 0.0,
                   npu: bool = False, stateful: bool = False,
                   reset_before: int | None = None) -> str:
    """C source of the Corstone-300 harness for one model and its test data (``npu``: the
    model has Ethos-U regions; the harness initialises the driver at the Corstone-300's NPU
    address and hands it to the model with ``<prefix>_set_npu``). ``stateful``: the
    samples are consecutive steps of one stream through one state buffer
    (``<prefix>_init`` before the first, ``<prefix>_reset`` before sample
    ``reset_before`` when given)."""
    p, P = prefix, prefix.upper()
    n = len(samples)
    lines = [
        f"/* Corstone-300 harness for {p}: {n} sample(s), generated by byoc.firmware. */",
        "#include <math.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        "",
        "#include \"byoc_platform.h\"",
        f"#include \"{p}.h\"",
        *(_NPU_HOOKS.splitlines() if npu else []),
        "",
        f"#define NUM_SAMPLES {n}u",
        f"#define ARENA_SIZE (({P}_WORKSPACE_SIZE) > 0u ? ({P}_WORKSPACE_SIZE) : 16u)",
        "",
        "static uint8_t byoc_arena[ARENA_SIZE] BYOC_ARENA_ATTR;",
        *([f"static uint8_t byoc_state[{P}_STATE_SIZE] "
           "__attribute__((section(\".bss.byoc_arena.outputs\"), aligned(16)));"]
          if stateful else []),
    ]
    for k, io in enumerate(outputs):
        ct = _c_type(io.dtype, f"output '{io.tflite_name}'")
        # Next to the arena (large region), not in DTCM: outputs can be big.
        lines.append(f"static {ct} byoc_out{k}[{max(1, _elements(io))}] "
                     "__attribute__((section(\".bss.byoc_arena.outputs\"), aligned(16)));")
    for i, io in enumerate(inputs):
        ct = _c_type(io.dtype, f"input '{io.tflite_name}'")
        arrays = []
        for s, sample in enumerate(samples):
            arr = np.asarray(sample[i])
            if arr.dtype != np.dtype(io.dtype) or arr.size != _elements(io):
                raise ByocError(f"sample {s}, input {i} ('{io.tflite_name}'): expected "
                                f"{io.dtype} {list(io.shape)}, got {arr.dtype} {list(arr.shape)}")
            arrays.append(arr)
        lines += _array(ct, f"byoc_in{i}", arrays)
    if expected is not None:
        for k, io in enumerate(outputs):
            ct = _c_type(io.dtype, f"output '{io.tflite_name}'")
            arrays = []
            for s, sample in enumerate(expected):
                arr = np.asarray(sample[k])
                if arr.size != _elements(io):
                    raise ByocError(f"expected output {k} of sample {s}: {arr.size} elements, "
                                    f"the model's '{io.tflite_name}' has {_elements(io)}")
                arrays.append(arr.astype(io.dtype, copy=False))
            lines += _array(ct, f"byoc_expected{k}", arrays)

    # Comparison helpers: int8 via the platform; others here (same BYOC_MISMATCH lines).
    used = sorted({io.dtype for io in outputs} - {"int8"}) if expected is not None else []
    for dt in used:
        ct = _C_TYPES[dt]
        if dt == "float32":
            differs = ("!((isnan(got[i]) && isnan(expected[i])) || "
                       f"fabsf(got[i] - expected[i]) <= {float(tolerance)!r}f)")
            show = ["    byoc_print(\" got_bits=\");",
                    "    { uint32_t b; memcpy(&b, &got[i], 4); byoc_print_hex32(b); }",
                    "    byoc_print(\" expected_bits=\");",
                    "    { uint32_t b; memcpy(&b, &expected[i], 4); byoc_print_hex32(b); }"]
        else:
            wide = "int64_t"
            differs = (f"(({wide})got[i] - ({wide})expected[i] > {int(tolerance)}) || "
                       f"(({wide})expected[i] - ({wide})got[i] > {int(tolerance)})")
            conv = "(int32_t)" if dt != "uint32" else "(int32_t)(uint32_t)"
            show = ["    byoc_print(\" got=\");", f"    byoc_print_i32({conv}got[i]);",
                    "    byoc_print(\" expected=\");", f"    byoc_print_i32({conv}expected[i]);"]
        lines += [
            "",
            f"static uint32_t compare_{dt}(const char* name, const {ct}* got, const {ct}* expected,",
            "                              uint32_t count) {",
            "  uint32_t bad = 0u;",
            "  for (uint32_t i = 0; i < count; ++i) {",
            f"    if (!({differs})) {{",
            "      continue;",
            "    }",
            "    if (bad++ >= 8u) {",
            "      continue;",
            "    }",
            "    byoc_print(\"BYOC_MISMATCH output=\");",
            "    byoc_print(name);",
            "    byoc_print(\" index=\");",
            "    byoc_print_u64(i);",
            *show,
            "    byoc_print(\"\\n\");",
            "  }",
            "  return bad;",
            "}",
        ]
    if print_outputs:
        lines += [
            "",
            "static void print_output(uint32_t sample, uint32_t index, const void* data, uint32_t size) {",
            "  static const char digits[] = \"0123456789abcdef\";",
            f"  char hex[2u * {OUTPUT_CHUNK}u + 1u];",
            "  const uint8_t* bytes = (const uint8_t*)data;",
            f"  for (uint32_t off = 0; off < size; off += {OUTPUT_CHUNK}u) {{",
            f"    uint32_t len = size - off < {OUTPUT_CHUNK}u ? size - off : {OUTPUT_CHUNK}u;",
            "    for (uint32_t j = 0; j < len; ++j) {",
            "      hex[2u * j] = digits[bytes[off + j] >> 4];",
            "      hex[2u * j + 1u] = digits[bytes[off + j] & 15u];",
            "    }",
            "    hex[2u * len] = '\\0';",
            "    byoc_print(\"BYOC_OUTPUT sample=\");",
            "    byoc_print_u64(sample);",
            "    byoc_print(\" index=\");",
            "    byoc_print_u64(index);",
            "    byoc_print(\" offset=\");",
            "    byoc_print_u64(off);",
            "    byoc_print(\" hex=\");",
            "    byoc_print(hex);",
            "    byoc_print(\"\\n\");",
            "  }",
            "}",
        ]

    lines += [
        "",
        "int main(void) {",
        "  byoc_platform_init();",
        # BYOC_NPU_BASE_ADDRESS / byoc_npu_attach: fvp/include/byoc_platform.h (the
        # Corstone-300's Ethos-U55 registers and interrupt 56, for Arm's driver).
        *(["  if (ethosu_init(&byoc_npu, (void*)BYOC_NPU_BASE_ADDRESS, NULL, 0, 1, 1) != 0) {",
           "    return 1;", "  }", "  byoc_npu_attach(&byoc_npu);",
           f"  {p}_set_npu(&byoc_npu);"] if npu else []),
        f"  struct {p}_inputs inputs;",
        f"  struct {p}_outputs outputs;",
        "  uint64_t max_instructions = 0u;",
        *(["  uint64_t max_npu_cycles = 0u;"] if npu else []),
        "  uint32_t mismatches = 0u;",
        "  uint32_t run_errors = 0u;",
    ]
    for k, io in enumerate(outputs):
        lines.append(f"  outputs.{io.c_name} = byoc_out{k};")
    if stateful:
        lines += [f"  if ({p}_init(byoc_state) != 0) {{", "    return 1;", "  }"]
    lines.append("  for (uint32_t s = 0; s < NUM_SAMPLES; ++s) {")
    if stateful and reset_before is not None:
        lines += [f"    if (s == {int(reset_before)}u && {p}_reset(byoc_state) != 0) {{",
                  "      return 1;", "    }"]
    for i, io in enumerate(inputs):
        lines.append(f"    inputs.{io.c_name} = &byoc_in{i}[s * {_elements(io)}u];")
    for k in range(len(outputs)):
        # A recognisable pattern: an output element the model never writes shows up.
        lines.append(f"    memset(byoc_out{k}, 0x5a, sizeof(byoc_out{k}));")
    lines += [
        *(["    byoc_npu_cycles = 0u;"] if npu else []),
        "    byoc_counter_start();",
        f"    int32_t rc = {p}_run(&inputs, &outputs, byoc_arena{', byoc_state' if stateful else ''});",
        "    uint64_t instructions = byoc_counter_stop();",
        *(["    if (byoc_npu_cycles > max_npu_cycles) {",
           "      max_npu_cycles = byoc_npu_cycles;",
           "    }"] if npu else []),
        "#ifdef BYOC_PROFILE",
        "    if (s == 0u) {",
        "      byoc_profile_report();",
        "    }",
        "#endif",
        "    if (instructions > max_instructions) {",
        "      max_instructions = instructions;",
        "    }",
        "    if (rc != 0) {",
        "      ++run_errors;",
        "    }",
        "    uint32_t bad = 0u;",
    ]
    if expected is not None:
        for k, io in enumerate(outputs):
            count = _elements(io)
            if io.dtype == "int8":
                lines.append(f"    bad += byoc_compare_i8(\"{io.c_name}\", byoc_out{k}, "
                             f"&byoc_expected{k}[s * {count}u], {count}u, {int(tolerance)}u);")
            else:
                lines.append(f"    bad += compare_{io.dtype}(\"{io.c_name}\", byoc_out{k}, "
                             f"&byoc_expected{k}[s * {count}u], {count}u);")
    lines.append("    mismatches += bad;")
    if print_outputs:
        for k in range(len(outputs)):
            lines.append(f"    print_output(s, {k}u, byoc_out{k}, (uint32_t)sizeof(byoc_out{k}));")
    lines += [
        "    byoc_print(\"BYOC_SAMPLE sample=\");",
        "    byoc_print_u64(s);",
        "    byoc_print(\" status=\");",
        "    byoc_print_i32(rc);",
        "    byoc_print(\" instructions=\");",
        "    byoc_print_u64(instructions);",
        "    byoc_print(\" mismatches=\");",
        "    byoc_print_u64(bad);",
        *(["    byoc_print(\" npu_cycles=\");", "    byoc_print_u64(byoc_npu_cycles);"]
          if npu else []),
        "    byoc_print(\"\\n\");",
        "  }",
        "  int passed = run_errors == 0u && mismatches == 0u;",
        "  byoc_result_begin(passed);",
        "  byoc_result_u64(\"mismatches\", mismatches);",
        "  byoc_result_u64(\"instructions\", max_instructions);",
        "  byoc_result_u64(\"arena_bytes\", " + f"{P}_WORKSPACE_SIZE);",
        "  byoc_result_u64(\"samples\", NUM_SAMPLES);",
        *(["  byoc_result_u64(\"npu_cycles\", max_npu_cycles);",
           "  byoc_result_str(\"npu_driver\", BYOC_NPU_DRIVER);"] if npu else []),
        "  byoc_result_u64(\"run_errors\", run_errors);",
        f"  byoc_result_u64(\"expected\", {1 if expected is not None else 0}u);",
        "  byoc_result_end();",
        "  return passed ? 0 : 1;",
        "}",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- outputs


def parse_outputs(stdout: str, outputs: list[IOTensor], samples: int) -> list[list[np.ndarray]]:
    """The outputs a harness printed as BYOC_OUTPUT lines, per sample in model order."""
    chunks: dict[tuple[int, int], dict[int, bytes]] = {}
    for raw in stdout.splitlines():
        line = raw.strip()
        if not line.startswith("BYOC_OUTPUT "):
            continue
        kv = platform.parse_key_values(line)
        try:
            key = (int(kv["sample"]), int(kv["index"]))
            chunks.setdefault(key, {})[int(kv["offset"])] = bytes.fromhex(kv["hex"])
        except (KeyError, ValueError):
            raise ByocError(f"firmware printed a malformed output line: {line[:80]}") from None
    result = []
    for s in range(samples):
        outs = []
        for k, io in enumerate(outputs):
            parts = chunks.get((s, k))
            if not parts:
                raise ByocError(f"firmware printed no data for output {k} ('{io.tflite_name}') "
                                f"of sample {s}")
            data = b"".join(parts[o] for o in sorted(parts))
            if len(data) != io.nbytes:
                raise ByocError(f"firmware printed {len(data)} bytes for output {k} "
                                f"('{io.tflite_name}') of sample {s}, expected {io.nbytes}")
            outs.append(np.frombuffer(data, dtype=np.dtype(io.dtype).newbyteorder("<"))
                        .astype(io.dtype).reshape(io.shape))
        result.append(outs)
    return result


# ----------------------------------------------------------------------------- ELF facts

# "<section> <address> <size> <file>" entries of a GNU ld map, the name possibly on its own
# line when long.
_MAP_ENTRY = re.compile(r"^ (\.[^\s]+)?\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")


#: Kernel libraries a package links (their code counts as the model's).
KERNEL_LIBRARIES = ("cmsis-nn",)


def model_sizes(map_file: Path, prefix: str) -> dict[str, int]:
    """Code and read-only data the model library (``lib<prefix>.a``) and the kernel
    libraries it links (``libcmsis-nn.a``) contribute to the firmware, from the linker map:
    ``code_bytes``, ``rodata_bytes``, ``constant_bytes`` (the part of rodata in the
    constants section), ``data_bytes`` and ``bss_bytes``."""
    sizes = dict.fromkeys(("code_bytes", "rodata_bytes", "constant_bytes", "data_bytes",
                           "bss_bytes"), 0)
    try:
        text = map_file.read_text(errors="replace")
    except OSError:
        return sizes
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines() if start >= 0 else []
    libs = [f"lib{name}.a(" for name in (prefix, *KERNEL_LIBRARIES)]
    pending = None
    for line in lines:
        m = _MAP_ENTRY.match(line)
        if m is None:
            # A long input-section name stands alone; its address/size follow on the next line.
            stripped = line.strip()
            pending = stripped if (line.startswith(" .") and " " not in stripped) else None
            continue
        name = m.group(1) or pending
        pending = None
        size, origin = int(m.group(3), 16), m.group(4)
        if name is None or not any(lib in origin for lib in libs) or size == 0:
            continue
        if name.startswith(".text"):
            sizes["code_bytes"] += size
        elif name.startswith(".rodata"):
            sizes["rodata_bytes"] += size
            if name.startswith(".rodata.byoc_constants"):
                sizes["constant_bytes"] += size
        elif name.startswith(".data"):
            sizes["data_bytes"] += size
        elif name.startswith(".bss"):
            sizes["bss_bytes"] += size
    return sizes


# ----------------------------------------------------------------------------- running


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def _build_error_message(compiled: CompiledModel, message: str) -> str:
    """The platform's build error with the model's figures and, for a region overflow,
    the byoc options that fix it."""
    text = (f"model '{compiled.prefix}' (arena {compiled.arena_bytes} bytes, constants "
            f"{compiled.constant_bytes} bytes): {message}")
    m = _OVERFLOW.search(message)
    if m and "byoc_arena" in message:
        text += (f"; with byoc: --arena-region REGION or --memory {m.group(1)}_SIZE=BYTES "
                 "(API: arena_region=, memory=)")
    elif m:
        text += (f"; with byoc: --memory {m.group(1)}_SIZE=BYTES (API: memory=, "
                 "constants_region=)")
    return text


def default_timeout(compiled: CompiledModel, samples: int) -> float:
    """Wall-clock seconds allowed for a run: generous for the generic C path."""
    macs = sum(int(op.get("macs", 0)) for op in compiled.metadata.get("operators", []))
    if not macs:  # a Relax module has no TFLite operator table: guess from the arena
        macs = compiled.arena_bytes * 64
    _, outputs = io_tensors(compiled)
    printing = sum(o.nbytes for o in outputs) * 2 * 50   # hex digits through the UART
    per_sample = (max(macs * _INSTRUCTIONS_PER_MAC, 1_000_000) + printing) / _GUEST_INSTRUCTIONS_PER_S
    return round(30.0 + samples * per_sample, 1)


def check_backend(backend: str | None) -> None:
    """Fail early (before compiling and building) when ``backend`` cannot run here."""
    if backend is not None and backend not in BACKENDS:
        raise ByocError(f"unknown backend '{backend}'; the Corstone-300 runs on "
                        f"{', '.join(BACKENDS)}")
    if backend == "fvp" and not any(shutil.which(b) for b in platform.FVP_BINARIES):
        raise platform.ToolNotFoundError(
            f"{platform.FVP_BINARIES[0]} not found on PATH (Arm's FVP is installed "
            "separately); use --backend qemu")
    if backend == "qemu":
        platform.find_tool(platform.QEMU_BINARY)


def _npu_config(compiled: CompiledModel) -> str | None:
    """The package's Ethos-U55 configuration (``ethos-u55-256``), from its target."""
    return next((t for t in compiled.target.split(",") if t.startswith("ethos-u55-")), None)


def _npu_macs(compiled: CompiledModel) -> int | None:
    config = _npu_config(compiled)
    return int(config.rsplit("-", 1)[1]) if config else None


def check_npu_backend(libraries: Libraries, npu: bool, backend: str | None) -> None:
    """Arm's Ethos-U driver starts the NPU and sleeps (WFE) until its interrupt: refuse an
    emulator that has no NPU (neither byoc's device emulator nor an NPU in the QEMU on PATH)
    instead of hanging."""
    if not (npu and libraries.ethosu_driver is not None):
        return
    resolved = backend or ("fvp" if any(shutil.which(b) for b in platform.FVP_BINARIES) else "qemu")
    if resolved == "qemu" and platform.npu_emulator() is None and not platform.qemu_has_npu():
        raise ByocError("Arm's Ethos-U driver (--ethosu-driver-path) needs an NPU, and stock QEMU "
                        "mps3-an547 has no Ethos-U55 (the firmware would wait for its interrupt "
                        "forever): build byoc's Corstone-300 emulator with the device (`make "
                        "setup`), use --backend fvp, or run without --ethosu-driver-path")


def run_on_corstone(
    compiled: CompiledModel,
    samples: list[list[np.ndarray]],
    expected: list[list[np.ndarray]] | None = None,
    backend: str | None = None,
    profile: bool = False,
    work_dir: "str | Path | None" = None,
    timeout_s: float | None = None,
    *,
    read_outputs: bool = True,
    tolerance: float = 0.0,
    arena_region: str = "SRAM2",
    constants_region: str = "auto",
    memory: dict[str, int] | None = None,
    reset_before: int | None = None,
    cmsis_nn_path: "str | Path | None" = None,
    ethosu_driver_path: "str | Path | None" = None,
    cmsis_path: "str | Path | None" = None,
    werror: bool = False,
    npu_driver: str | None = None,
) -> FirmwareRun:
    """Build a firmware for ``compiled`` with ``samples`` embedded and run it.

    Args:
        compiled: from ``byoc.compile`` (or ``load_package``); must target a core the
            Corstone-300 runs (cortex-m55).
        samples: input samples, each a list of arrays in model input order.
        expected: outputs per sample to compare with on the target (``tolerance`` is the
            largest absolute difference still counted as equal), or None.
        backend: "qemu", "fvp", or None (the FVP when it is on PATH, else QEMU).
        profile: build with per-operator counting; ``profile`` then lists sample 0's calls.
        work_dir: where the harness and the build go (default: a new temporary directory).
        timeout_s: wall-clock limit of the emulator run (default from the model's MACs).
        read_outputs: print the outputs and return them in ``FirmwareRun.outputs``.
        arena_region, constants_region, memory: placement and memory-map overrides, see
            ``byoc.platform.corstone300.build_firmware``.
        reset_before: a stateful model runs the samples as one stream (one state buffer,
            ``<prefix>_init`` first); ``<prefix>_reset`` is called before this sample.
        cmsis_nn_path, ethosu_driver_path, cmsis_path: Arm's CMSIS-NN / ethos-u-core-driver /
            CMSIS_6 checkouts to build instead of the ones the package was compiled for
            (``byoc.libraries``; default: the package's ``libraries``).
        werror: build the model and the Ethos-U driver with -Wall -Wextra -Werror too.
        npu_driver: for a model with NPU regions, "npu" (byoc's register-level driver: the
            firmware drives the NPU; QEMU then is byoc's emulator with the Ethos-U55 device),
            "model" (byoc's functional model in the firmware, stock QEMU), or None: "npu"
            when the FVP runs it or the device emulator is built (``make setup``), else
            "model" with a warning.

    Raises ``ByocError`` (platform errors are ``ByocError`` subclasses) with one line.
    """
    check_backend(backend)
    libraries = Libraries.from_metadata(compiled.metadata).merged(
        Libraries.from_options(cmsis_nn_path, ethosu_driver_path, cmsis_path)).check_complete()
    npu_dir = Path(compiled.output_dir) / "ethosu"
    npu = (npu_dir / "include" / "ethosu_driver.h").is_file()
    check_npu_backend(libraries, npu, backend)
    if compiled.cpu not in platform.RUNNABLE_CPUS:
        raise ByocError(f"the package was compiled for cpu '{compiled.cpu}'; the Corstone-300 "
                        f"runs firmware for {', '.join(platform.RUNNABLE_CPUS)} (compile with "
                        "--cpu cortex-m55)")
    if not samples:
        raise ByocError("run_on_corstone needs at least one input sample")
    inputs, outputs = io_tensors(compiled)
    for s, sample in enumerate(samples):
        if len(sample) != len(inputs):
            raise ByocError(f"sample {s} has {len(sample)} input arrays, the model takes "
                            f"{len(inputs)}")
    if expected is not None and len(expected) != len(samples):
        raise ByocError(f"{len(expected)} expected outputs for {len(samples)} samples")
    work = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="byoc_fw_"))
    make_work_dir(work)
    harness = work / f"{compiled.prefix}_corstone300_main.c"
    driver, npu_macs, notes = _npu_setup(compiled, npu, backend, npu_driver,
                                         arm_driver=libraries.ethosu_driver is not None)
    harness.write_text(harness_source(compiled.prefix, inputs, outputs, samples, expected,
                                      print_outputs=read_outputs, tolerance=tolerance,
                                      npu=npu,
                                      stateful=bool(compiled.metadata.get("state")),
                                      reset_before=reset_before))
    try:
        elf = platform.build_firmware(compiled.output_dir, [harness], work / "build",
                                      cpu=compiled.cpu, profile=profile,
                                      constants_region=constants_region,
                                      arena_region=arena_region, memory=memory,
                                      cmake_args=[*libraries.cmake_args(),
                                                  f"-DBYOC_WERROR={'ON' if werror else 'OFF'}",
                                                  *([f"-DBYOC_ETHOSU_DRIVER={driver}"] if npu else [])])
    except platform.FirmwareBuildError as err:
        raise platform.FirmwareBuildError(_build_error_message(compiled, str(err)),
                                          err.log) from None
    limit = timeout_s if timeout_s is not None else default_timeout(compiled, len(samples))
    try:
        run = platform.run_firmware(elf, backend=backend, timeout_s=limit, npu_macs=npu_macs)
    except platform.RunTimeout as err:
        raise platform.RunTimeout(f"model '{compiled.prefix}': {err}; raise the limit with "
                                  "--timeout SECONDS (API: timeout_s)",
                                  err.output, err.timeout_s) from None

    result = run.result
    if not result:
        raise platform.EmulatorError(f"firmware for '{compiled.prefix}' printed no BYOC_RESULT "
                                     f"line (exit code {run.exit_code})", run.stdout)
    per_sample, run_status, npu_per_sample = [], [], []
    for line in run.stdout.splitlines():
        if line.startswith("BYOC_SAMPLE "):
            kv = platform.parse_key_values(line)
            per_sample.append(int(kv.get("instructions", 0)))
            run_status.append(int(kv.get("status", -1)))
            if "npu_cycles" in kv:
                npu_per_sample.append(int(kv["npu_cycles"]))
    got = parse_outputs(run.stdout, outputs, len(samples)) if read_outputs else None
    sizes = platform.elf_sizes(elf)
    own = model_sizes(elf.with_suffix(".map"), compiled.prefix)
    data_bytes = sum(np.asarray(a).nbytes for sample in samples for a in sample)
    if expected is not None:
        data_bytes += sum(io.nbytes for io in outputs) * len(expected)
    return FirmwareRun(
        status="pass" if run.passed else "fail",
        mismatches=int(result["mismatches"]) if expected is not None else None,
        instructions=run.instructions,
        instructions_per_sample=per_sample,
        run_status=run_status,
        arena_bytes=int(result.get("arena_bytes", compiled.arena_bytes)),
        code_bytes=own["code_bytes"],
        rodata_bytes=own["rodata_bytes"],
        constant_bytes=own["constant_bytes"],
        test_data_bytes=data_bytes,
        firmware_sizes=sizes,
        outputs=got,
        profile=_with_labels(run.profile, compiled),
        backend=run.backend,
        counter=run.platform.get("counter", ""),
        stdout=run.stdout,
        elf=elf,
        wall_time_s=run.wall_time_s,
        warnings=notes + list(run.warnings),
        libraries=libraries.to_json(cmsis_nn=(Path(compiled.output_dir) / "cmsis_nn").is_dir(),
                                    ethosu=npu, npu_config=_npu_config(compiled)),
        npu_driver=result.get("npu_driver") if npu else None,
        npu_cycles=max(npu_per_sample) if npu_per_sample else None,
        npu_cycles_per_sample=npu_per_sample,
    )


def _npu_setup(compiled: CompiledModel, npu: bool, backend: str | None,
               requested: str | None, arm_driver: bool = False) -> tuple[str, int | None, list[str]]:
    """(BYOC_ETHOSU_DRIVER of the firmware, MACs of the NPU the emulator provides or None,
    notes for the report) for a run of ``compiled`` (see run_on_corstone's npu_driver).
    Arm's driver (``arm_driver``) always drives an NPU."""
    from .ethosu.codegen import DRIVER_KINDS
    if not npu:
        return "model", None, []
    if requested is not None and requested not in DRIVER_KINDS:
        raise ByocError(f"npu_driver '{requested}' is not one of {', '.join(DRIVER_KINDS)}")
    on_fvp = backend == "fvp" or (backend is None and any(shutil.which(b) for b in
                                                          platform.FVP_BINARIES))
    driver = "npu" if arm_driver else requested
    notes = []
    if driver is None:
        driver = "npu" if on_fvp or platform.npu_emulator() is not None else "model"
        if driver == "model":
            notes.append("no Ethos-U55 device emulator is built (`make setup` builds it): the "
                         "NPU's work runs in the firmware's functional model, and the "
                         "instruction count includes it")
    return driver, (_npu_macs(compiled) if driver == "npu" else None), notes


def _with_labels(profile: list[ProfileEntry], compiled: CompiledModel) -> list[ProfileEntry]:
    """Profile entries named by the package's call labels (the firmware prints names with
    spaces replaced, to keep its key=value lines parseable)."""
    labels = {int(c["index"]): str(c.get("label") or c.get("function", ""))
              for c in compiled.metadata.get("calls", [])}
    return [ProfileEntry(p.op, labels.get(p.op) or p.name, p.instructions, p.calls)
            for p in profile]


# ----------------------------------------------------------------------------- reports


def format_profile(profile: list[ProfileEntry], total: int | None = None,
                   unit: str = "instructions") -> str:
    """Per-operator table: index, operator, count, share of the run, cumulative share.
    ``total`` is the whole run function's count for the profiled sample (sample 0)."""
    if not profile:
        return "(no profile: build with profile=True / --profile)"
    ops_sum = sum(p.instructions for p in profile)
    whole = total if total else ops_sum
    names = [p.name if len(p.name) <= _NAME_WIDTH else p.name[:_NAME_WIDTH - 3] + "..."
             for p in profile]
    name_w = max(8, *(len(n) for n in names))
    count_w = max(len(unit), len(f"{whole:,}"))
    head = f"{'#':>4}  {'operator':<{name_w}}  {unit:>{count_w}}  {'share':>6}  {'cumul.':>6}"
    rows = [head, "-" * len(head)]
    cumulative = 0
    for p, name in zip(profile, names):
        cumulative += p.instructions
        calls = f"  (x{p.calls})" if p.calls != 1 else ""
        rows.append(f"{p.op:>4}  {name:<{name_w}}  {p.instructions:>{count_w},}  "
                    f"{100.0 * p.instructions / whole:>5.1f}%  {100.0 * cumulative / whole:>5.1f}%"
                    f"{calls}")
    rows.append("-" * len(head))
    rows.append(f"{'':>4}  {'operators':<{name_w}}  {ops_sum:>{count_w},}  "
                f"{100.0 * ops_sum / whole:>5.1f}%")
    if total:
        rows.append(f"{'':>4}  {'run function':<{name_w}}  {total:>{count_w},}  {100.0:>5.1f}%"
                    "  (includes call and profiling-hook overhead)")
    return "\n".join(rows)


def npu_line(driver: str, pmu_cycles: int | None, vela_cycles: int | None) -> str:
    """One report line about the NPU work of a run (driver, cycles, Vela's estimate)."""
    vela = f", Vela estimate {vela_cycles:,}" if vela_cycles is not None else ""
    count = f"{pmu_cycles:,}" if pmu_cycles is not None else "n/a"
    if driver == "model":
        return (f"  NPU: byoc's functional model in the firmware (no NPU device; the "
                f"instructions include its work), estimated NPU cycles {count}{vela}")
    return (f"  NPU: {driver} driver on the Ethos-U55 device, NPU cycles (PMU) {count} per "
            f"inference{vela}; the instructions are the CPU's alone")


def format_run(run: FirmwareRun, compiled: CompiledModel | None = None) -> str:
    """A short human-readable report of a FirmwareRun."""
    verdict = "PASS" if run.passed else "FAIL"
    lines = []
    what = "instructions" if run.counter != "dwt_cycles" else "cycles (DWT)"
    count = f"{run.instructions:,}" if run.instructions is not None else "n/a"
    mism = ("outputs not checked (no expected outputs), " if run.mismatches is None
            else f"{run.mismatches} mismatching elements, ")
    bad = [s for s in run.run_status if s != 0]
    errors = f", run function returned {bad[0]} on {len(bad)} sample(s)" if bad else ""
    lines.append(f"{verdict}: {mism}{len(run.instructions_per_sample)} sample(s) on "
                 f"Corstone-300 ({run.backend}){errors}")
    lines.append(f"  {what}: {count} per inference" +
                 (" (profiled build: includes hook overhead)" if run.profile else ""))
    arena = f"  arena {run.arena_bytes} bytes"
    if compiled is not None:
        arena += f" (lower bound {compiled.arena_lower_bound_bytes})"
        if compiled.state_bytes:
            arena += f", state {compiled.state_bytes} bytes (samples run as one stream)"
    lines.append(arena + f"; model code {run.code_bytes} bytes, read-only data "
                 f"{run.rodata_bytes} bytes (constants {run.constant_bytes})")
    if run.libraries:
        from .libraries import describe
        lines.append(f"  libraries: {describe(run.libraries)}")
    if run.npu_driver is not None:
        lines.append(npu_line(run.npu_driver, run.npu_cycles,
                              compiled.metadata.get("npu_cycles") if compiled else None))
    for w in run.warnings:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


__all__ = ["BACKENDS", "FirmwareRun", "check_backend", "default_timeout", "format_profile", "format_run",
           "harness_source", "io_tensors", "load_package", "model_sizes", "npu_line", "parse_outputs",
           "run_on_corstone"]

