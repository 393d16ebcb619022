"""The cores byoc compiles for: the one table every other list is derived from.

* ``CORTEX_M``: the Cortex-M cores a package and its firmware build for (the toolchain file
  ``cmake/arm-none-eabi.cmake`` accepts exactly these as ``BYOC_CPU``; a test checks it). All of
  them run on the Corstone-300 (its Cortex-M55 executes every instruction of an Armv6-M / v7-M /
  v7E-M / v8-M build).
* ``CPUS``: what ``--cpu`` accepts: ``CORTEX_M`` plus "host" (the package built for the machine
  running byoc).
* ``KERNEL_PATHS``: the CMSIS-NN kernel path per ``-mcpu`` core name ("mve": Helium, "dsp": the
  DSP extension, "c": portable C), the compile-time choice of ``arm_nn_math_types.h``. It also
  names cores byoc does not build firmware for (cortex-m0, cortex-m35p), for the kernel tests.
* ``PATH_CPUS``: one representative core per kernel path (benchmarks measure these).

Plain Python (no TVM): imported by the compiler, the platform layer and the kernel parameters.
"""

from __future__ import annotations

#: (core, kernel path) for every core byoc builds firmware for, smallest first.
_CORES = (
    ("cortex-m0plus", "c"),
    ("cortex-m3", "c"),
    ("cortex-m4", "dsp"),
    ("cortex-m7", "dsp"),
    ("cortex-m33", "dsp"),
    ("cortex-m55", "mve"),
    ("cortex-m85", "mve"),
)

CORTEX_M: tuple[str, ...] = tuple(name for name, _ in _CORES)
HOST = "host"
CPUS: tuple[str, ...] = CORTEX_M + (HOST,)
KERNEL_PATHS: dict[str, str] = {"cortex-m0": "c", **dict(_CORES), "cortex-m35p": "dsp"}
PATH_NAMES: dict[str, str] = {"mve": "Helium", "dsp": "DSP", "c": "portable C"}
PATH_CPUS: dict[str, str] = {"mve": "cortex-m55", "dsp": "cortex-m4", "c": "cortex-m0plus"}
DEFAULT_CPU = "cortex-m55"


def cpu_help() -> str:
    """The ``--cpu`` choices for a command line's help text."""
    return "/".join(CORTEX_M) + " or host"
