"""C harnesses around a compiled package: one generator for the host and the Corstone-300.

Both harnesses bind the package's ``struct <prefix>_inputs`` / ``struct <prefix>_outputs`` to
static buffers, hand an Ethos-U driver to a package with NPU regions (``<prefix>_set_npu``),
initialise the state of a stateful package (``<prefix>_init``, ``<prefix>_reset`` before a
chosen sample) and call ``<prefix>_run`` once per sample (``Harness`` writes those parts for
both). They differ in where the samples come from and where the results go:

* ``host_source``: ``<prefix>_harness <inputs.bin> <outputs.bin> <samples> [reset_before]``
  reads every sample's inputs from one file (model order, raw little-endian bytes) and writes
  the outputs the same way (``byoc.host`` builds and runs it).
* ``firmware_source``: the samples and expected outputs are const arrays in the image
  (``BYOC_DATA_ATTR``); each run is bracketed by ``byoc_counter_start/stop``, its outputs are
  compared on the target and the harness prints ``BYOC_SAMPLE`` / ``BYOC_OUTPUT`` /
  ``BYOC_MISMATCH`` lines and the platform's ``BYOC_RESULT`` (``byoc.firmware`` runs it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .aot import IOTensor
from .codegen.tir_to_c import c_type
from .errors import ByocError

#: Output bytes per BYOC_OUTPUT line of the firmware harness.
OUTPUT_CHUNK = 256
#: Element types the firmware harness can embed and compare.
FIRMWARE_DTYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "float32")


def elements(io: IOTensor) -> int:
    """Number of elements of a model input or output."""
    return int(np.prod(io.shape, dtype=np.int64))


@dataclass(frozen=True)
class Harness:
    """The parts every harness of one package shares (``npu``: the package has Ethos-U
    regions; ``stateful``: the samples are consecutive steps of one stream through one state
    buffer)."""

    prefix: str
    inputs: list[IOTensor]
    outputs: list[IOTensor]
    npu: bool = False
    stateful: bool = False

    def io_structs(self) -> list[str]:
        """Declarations of the package's input and output structs (in ``main``)."""
        return [f"  struct {self.prefix}_inputs inputs;", f"  struct {self.prefix}_outputs outputs;"]

    def bind(self, kind: str, buffer: str, indent: str = "  ",
             offset: "callable | None" = None) -> list[str]:
        """``inputs.<name> = <buffer><i>;`` (``kind`` "inputs" or "outputs"); ``offset(io)``: an
        element offset into the buffer (the firmware's samples lie back to back)."""
        ios = self.inputs if kind == "inputs" else self.outputs
        if offset is None:
            return [f"{indent}{kind}.{io.c_name} = {buffer}{i};" for i, io in enumerate(ios)]
        return [f"{indent}{kind}.{io.c_name} = &{buffer}{i}[{offset(io)}];" for i, io in enumerate(ios)]

    def npu_init(self, driver: str, base: str, on_error: list[str],
                 attach: list[str] = ()) -> list[str]:
        """Initialise the Ethos-U driver ``driver`` at ``base`` and hand it to the model."""
        if not self.npu:
            return []
        return [f"  if (ethosu_init(&{driver}, (void*){base}, NULL, 0, 1, 1) != 0) {{",
                *[f"    {line}" for line in on_error], "  }", *attach,
                f"  {self.prefix}_set_npu(&{driver});"]

    def state_init(self, state: str, on_error: list[str]) -> list[str]:
        """``<prefix>_init`` of a stateful model's state buffer (before the first sample)."""
        if not self.stateful:
            return []
        return [f"  if ({self.prefix}_init({state}) != 0) {{", *[f"    {line}" for line in on_error], "  }"]

    def state_reset(self, state: str, when: str, on_error: list[str]) -> list[str]:
        """``<prefix>_reset`` of the state before the sample where ``when`` holds."""
        if not self.stateful:
            return []
        return [f"    if ({when} && {self.prefix}_reset({state}) != 0) {{",
                *[f"      {line}" for line in on_error], "    }"]

    def run_call(self, arena: str, state: str) -> str:
        """The ``<prefix>_run`` call expression."""
        return (f"{self.prefix}_run(&inputs, &outputs, {arena}"
                f"{', ' + state if self.stateful else ''})")


# ----------------------------------------------------------------------------- host


def host_source(prefix: str, inputs: list[IOTensor], outputs: list[IOTensor],
                npu: bool = False, stateful: bool = False) -> str:
    """C source of the host harness for a package with the given IO (``npu``: the package
    has Ethos-U regions; the harness initialises a driver and hands it to the model).
    ``stateful``: the samples are consecutive steps of one stream through one state
    (``<prefix>_init`` first); an optional 4th argument is the sample before which
    ``<prefix>_reset`` is called."""
    h = Harness(prefix, inputs, outputs, npu, stateful)
    P = prefix.upper()
    lines = [
        f"/* Host harness for {prefix}: {prefix}_harness <inputs.bin> <outputs.bin> <samples>"
        + (" [reset_before] */" if stateful else " */"),
        "#include <stdio.h>",
        "#include <stdlib.h>",
        f"#include \"{prefix}.h\"",
        *(["#include \"ethosu_driver.h\"", "static struct ethosu_driver npu;"] if npu else []),
        "",
        f"static unsigned char workspace[{P}_WORKSPACE_SIZE + 16u] __attribute__((aligned(16)));",
        *([f"static unsigned char state[{P}_STATE_SIZE + 16u] __attribute__((aligned(16)));"]
          if stateful else []),
    ]
    for name, ios in (("in", inputs), ("out", outputs)):
        for i, io in enumerate(ios):
            lines.append(f"static {c_type(io.dtype)} {name}{i}[{max(1, io.nbytes // np.dtype(io.dtype).itemsize)}];")
    lines += [
        "",
        "int main(int argc, char** argv) {",
        f"  if (argc != 4{' && argc != 5' if stateful else ''}) {{ fprintf(stderr, \"usage: harness in out samples\\n\"); return 2; }}",
        "  FILE* fin = fopen(argv[1], \"rb\");",
        "  FILE* fout = fopen(argv[2], \"wb\");",
        "  long samples = strtol(argv[3], NULL, 10);",
        "  if (fin == NULL || fout == NULL) { fprintf(stderr, \"cannot open files\\n\"); return 2; }",
        *h.io_structs(),
        *h.npu_init("npu", "&npu", ["fprintf(stderr, \"ethosu_init failed\\n\");", "return 2;"]),
        *h.bind("inputs", "in"),
        *h.bind("outputs", "out"),
        *(["  long reset_before = argc == 5 ? strtol(argv[4], NULL, 10) : -1;"] if stateful else []),
        *h.state_init("state", ["fprintf(stderr, \"init failed\\n\");", "return 4;"]),
        "  for (long s = 0; s < samples; ++s) {",
    ]
    for i in range(len(inputs)):
        lines.append(f"    if (fread(in{i}, 1, sizeof(in{i}), fin) != sizeof(in{i})) return 3;")
    lines += [
        *h.state_reset("state", "s == reset_before", ["return 4;"]),
        f"    int32_t status = {h.run_call('workspace', 'state')};",
        "    if (status != 0) { fprintf(stderr, \"run returned %d\\n\", (int)status); return 4; }",
    ]
    for i in range(len(outputs)):
        lines.append(f"    if (fwrite(out{i}, 1, sizeof(out{i}), fout) != sizeof(out{i})) return 5;")
    lines += ["  }", "  fclose(fin);", "  fclose(fout);", "  return 0;", "}", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- firmware


def firmware_c_type(dtype: str, what: str) -> str:
    """The C element type of a firmware harness array (``what`` names the tensor in the error)."""
    if dtype not in FIRMWARE_DTYPES:
        raise ByocError(f"{what}: data type '{dtype}' is not supported by the firmware harness "
                        f"(supported: {', '.join(FIRMWARE_DTYPES)})")
    return c_type(dtype)


def _literals(arr: np.ndarray) -> list[str]:
    """C literals of every element of ``arr`` (floats exact, in hexadecimal)."""
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


def _firmware_head(h: Harness, samples: int) -> list[str]:
    """Includes, NPU hooks, the arena, the state and the output buffers."""
    p, P = h.prefix, h.prefix.upper()
    lines = [
        f"/* Corstone-300 harness for {p}: {samples} sample(s), generated by byoc.firmware. */",
        "#include <math.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        "",
        "#include \"byoc_platform.h\"",
        f"#include \"{p}.h\"",
        *(_NPU_HOOKS.splitlines() if h.npu else []),
        "",
        f"#define NUM_SAMPLES {samples}u",
        f"#define ARENA_SIZE (({P}_WORKSPACE_SIZE) > 0u ? ({P}_WORKSPACE_SIZE) : 16u)",
        "",
        "static uint8_t byoc_arena[ARENA_SIZE] BYOC_ARENA_ATTR;",
        *([f"static uint8_t byoc_state[{P}_STATE_SIZE] "
           "__attribute__((section(\".bss.byoc_arena.outputs\"), aligned(16)));"]
          if h.stateful else []),
    ]
    for k, io in enumerate(h.outputs):
        ct = firmware_c_type(io.dtype, f"output '{io.tflite_name}'")
        # Next to the arena (large region), not in DTCM: outputs can be big.
        lines.append(f"static {ct} byoc_out{k}[{max(1, elements(io))}] "
                     "__attribute__((section(\".bss.byoc_arena.outputs\"), aligned(16)));")
    return lines


def _firmware_data(h: Harness, samples: list[list[np.ndarray]],
                   expected: list[list[np.ndarray]] | None) -> list[str]:
    """The samples' inputs and expected outputs as const arrays (checked against the IO)."""
    lines: list[str] = []
    for i, io in enumerate(h.inputs):
        ct = firmware_c_type(io.dtype, f"input '{io.tflite_name}'")
        arrays = []
        for s, sample in enumerate(samples):
            arr = np.asarray(sample[i])
            if arr.dtype != np.dtype(io.dtype) or arr.size != elements(io):
                raise ByocError(f"sample {s}, input {i} ('{io.tflite_name}'): expected "
                                f"{io.dtype} {list(io.shape)}, got {arr.dtype} {list(arr.shape)}")
            arrays.append(arr)
        lines += _array(ct, f"byoc_in{i}", arrays)
    if expected is not None:
        for k, io in enumerate(h.outputs):
            ct = firmware_c_type(io.dtype, f"output '{io.tflite_name}'")
            arrays = []
            for s, sample in enumerate(expected):
                arr = np.asarray(sample[k])
                if arr.size != elements(io):
                    raise ByocError(f"expected output {k} of sample {s}: {arr.size} elements, "
                                    f"the model's '{io.tflite_name}' has {elements(io)}")
                arrays.append(arr.astype(io.dtype, copy=False))
            lines += _array(ct, f"byoc_expected{k}", arrays)
    return lines


def _comparator(dt: str, tolerance: float) -> list[str]:
    """``compare_<dt>``: counts the elements outside ``tolerance`` and prints the first 8 as
    BYOC_MISMATCH lines (int8 outputs use the platform's ``byoc_compare_i8``)."""
    ct = c_type(dt)
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
    return [
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


#: ``print_output``: an output's raw bytes as BYOC_OUTPUT lines of OUTPUT_CHUNK bytes each.
_PRINT_OUTPUT = f"""
static void print_output(uint32_t sample, uint32_t index, const void* data, uint32_t size) {{
  static const char digits[] = "0123456789abcdef";
  char hex[2u * {OUTPUT_CHUNK}u + 1u];
  const uint8_t* bytes = (const uint8_t*)data;
  for (uint32_t off = 0; off < size; off += {OUTPUT_CHUNK}u) {{
    uint32_t len = size - off < {OUTPUT_CHUNK}u ? size - off : {OUTPUT_CHUNK}u;
    for (uint32_t j = 0; j < len; ++j) {{
      hex[2u * j] = digits[bytes[off + j] >> 4];
      hex[2u * j + 1u] = digits[bytes[off + j] & 15u];
    }}
    hex[2u * len] = '\\0';
    byoc_print("BYOC_OUTPUT sample=");
    byoc_print_u64(sample);
    byoc_print(" index=");
    byoc_print_u64(index);
    byoc_print(" offset=");
    byoc_print_u64(off);
    byoc_print(" hex=");
    byoc_print(hex);
    byoc_print("\\n");
  }}
}}"""


def _firmware_run_sample(h: Harness, reset_before: int | None) -> list[str]:
    """Loop body, first half: reset, bind the sample's inputs, poison the outputs, run the
    model between the counter calls and keep the largest counts."""
    npu = h.npu
    lines = []
    if reset_before is not None:
        lines += h.state_reset("byoc_state", f"s == {int(reset_before)}u", ["return 1;"])
    lines += h.bind("inputs", "byoc_in", "    ", lambda io: f"s * {elements(io)}u")
    for k in range(len(h.outputs)):
        # A recognisable pattern: an output element the model never writes shows up.
        lines.append(f"    memset(byoc_out{k}, 0x5a, sizeof(byoc_out{k}));")
    return lines + [
        *(["    byoc_npu_cycles = 0u;"] if npu else []),
        "    byoc_counter_start();",
        f"    int32_t rc = {h.run_call('byoc_arena', 'byoc_state')};",
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
    ]


def _firmware_check_sample(h: Harness, compare: bool, print_outputs: bool,
                           tolerance: float) -> list[str]:
    """Loop body, second half: compare the outputs, print them and the BYOC_SAMPLE line."""
    lines = ["    uint32_t bad = 0u;"]
    if compare:
        for k, io in enumerate(h.outputs):
            count = elements(io)
            if io.dtype == "int8":
                lines.append(f"    bad += byoc_compare_i8(\"{io.c_name}\", byoc_out{k}, "
                             f"&byoc_expected{k}[s * {count}u], {count}u, {int(tolerance)}u);")
            else:
                lines.append(f"    bad += compare_{io.dtype}(\"{io.c_name}\", byoc_out{k}, "
                             f"&byoc_expected{k}[s * {count}u], {count}u);")
    lines.append("    mismatches += bad;")
    if print_outputs:
        for k in range(len(h.outputs)):
            lines.append(f"    print_output(s, {k}u, byoc_out{k}, (uint32_t)sizeof(byoc_out{k}));")
    return lines + [
        "    byoc_print(\"BYOC_SAMPLE sample=\");",
        "    byoc_print_u64(s);",
        "    byoc_print(\" status=\");",
        "    byoc_print_i32(rc);",
        "    byoc_print(\" instructions=\");",
        "    byoc_print_u64(instructions);",
        "    byoc_print(\" mismatches=\");",
        "    byoc_print_u64(bad);",
        *(["    byoc_print(\" npu_cycles=\");", "    byoc_print_u64(byoc_npu_cycles);"]
          if h.npu else []),
        "    byoc_print(\"\\n\");",
    ]


def _firmware_main(h: Harness, compare: bool, print_outputs: bool, tolerance: float,
                   reset_before: int | None) -> list[str]:
    """``main``: platform and NPU set-up, the sample loop, the BYOC_RESULT line."""
    npu = h.npu
    return [
        "",
        "int main(void) {",
        "  byoc_platform_init();",
        # BYOC_NPU_BASE_ADDRESS / byoc_npu_attach: fvp/include/byoc_platform.h (the
        # Corstone-300's Ethos-U55 registers and interrupt 56, for Arm's driver).
        *h.npu_init("byoc_npu", "BYOC_NPU_BASE_ADDRESS", ["return 1;"],
                    ["  byoc_npu_attach(&byoc_npu);"]),
        *h.io_structs(),
        "  uint64_t max_instructions = 0u;",
        *(["  uint64_t max_npu_cycles = 0u;"] if npu else []),
        "  uint32_t mismatches = 0u;",
        "  uint32_t run_errors = 0u;",
        *h.bind("outputs", "byoc_out"),
        *h.state_init("byoc_state", ["return 1;"]),
        "  for (uint32_t s = 0; s < NUM_SAMPLES; ++s) {",
        *_firmware_run_sample(h, reset_before),
        *_firmware_check_sample(h, compare, print_outputs, tolerance),
        "  }",
        "  int passed = run_errors == 0u && mismatches == 0u;",
        "  byoc_result_begin(passed);",
        "  byoc_result_u64(\"mismatches\", mismatches);",
        "  byoc_result_u64(\"instructions\", max_instructions);",
        "  byoc_result_u64(\"arena_bytes\", " + f"{h.prefix.upper()}_WORKSPACE_SIZE);",
        "  byoc_result_u64(\"samples\", NUM_SAMPLES);",
        *(["  byoc_result_u64(\"npu_cycles\", max_npu_cycles);",
           "  byoc_result_str(\"npu_driver\", BYOC_NPU_DRIVER);"] if npu else []),
        "  byoc_result_u64(\"run_errors\", run_errors);",
        f"  byoc_result_u64(\"expected\", {1 if compare else 0}u);",
        "  byoc_result_end();",
        "  return passed ? 0 : 1;",
        "}",
        "",
    ]


def firmware_source(prefix: str, inputs: list[IOTensor], outputs: list[IOTensor],
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
    h = Harness(prefix, inputs, outputs, npu, stateful)
    lines = _firmware_head(h, len(samples)) + _firmware_data(h, samples, expected)
    # Comparison helpers: int8 via the platform; others here (same BYOC_MISMATCH lines).
    used = sorted({io.dtype for io in outputs} - {"int8"}) if expected is not None else []
    for dt in used:
        lines += _comparator(dt, tolerance)
    if print_outputs:
        lines += _PRINT_OUTPUT.splitlines()
    lines += _firmware_main(h, expected is not None, print_outputs, tolerance, reset_before)
    return "\n".join(lines)


__all__ = ["FIRMWARE_DTYPES", "Harness", "OUTPUT_CHUNK", "elements", "firmware_c_type",
           "firmware_source", "host_source"]
