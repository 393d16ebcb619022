"""The Ethos-U backend (``byoc.backend.Backend``, targets ``ethos-u55-32`` ... ``-256``):
the operators Vela keeps on the NPU.

Partition: ``byoc.ethosu.partition.partition_for_ethosu`` (Vela's verdict per chain, merged
into maximal regions), then the codegen (``byoc.ethosu.codegen.generate``): per region a
TFLite model, Vela's command stream and a C function calling ``ethosu_invoke_v3``. Package:
``ethosu_driver.h``, the driver hand-over (``<prefix>_set_npu``), byoc's register-level
driver and functional Ethos-U55 model (or Arm's ethos-u-core-driver through
``-DETHOSU_DRIVER_PATH``) and their CMake lines. Metadata: ``npu_regions`` (per region its
operators, cycles and sizes) and ``npu_cycles``.
"""

from __future__ import annotations

from pathlib import Path

from ..backend import BackendCall, CompileContext, ExternalBackend, PackageParts
from ..errors import ByocError
from ..libraries import cmake_module, cmake_string, package_tree

HEADER = "ethosu_driver.h"
#: Package subdirectories: byoc's register-level Ethos-U55 driver (for a real or emulated NPU)
#: and byoc's functional Ethos-U55 model (computes on the CPU); both define the CMake target
#: ``ethosu_core_driver`` behind Arm's driver API.
PACKAGE_DIR = "ethosu"
DRIVER_PACKAGE_DIR = "ethosu_driver"
#: Values of the package's CMake cache variable ``BYOC_ETHOSU_DRIVER``.
DRIVER_KINDS = ("npu", "model")
#: reason of the calls and operators on the NPU
ON_NPU = "Vela: on the NPU"


def vela_options(accelerator: str, vela: dict | None):
    """``byoc.ethosu.partition.VelaOptions`` for ``accelerator`` from the ``vela`` options of
    ``byoc.compile`` (``system_config``, ``memory_mode``, ``optimise``, ``config`` = path of
    a vela.ini, read here)."""
    from .partition import VelaOptions
    vela = dict(vela or {})
    ini = vela.pop("config", None)
    if ini is not None:
        try:
            ini = Path(ini).read_text()
        except OSError as exc:
            raise ByocError(f"cannot read vela.ini '{ini}': {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ByocError(f"vela.ini '{ini}' is not a text file (an INI file is "
                            "expected)") from None
    unknown = set(vela) - {"system_config", "memory_mode", "optimise"}
    if unknown:
        raise ByocError(f"unknown Vela option(s): {', '.join(sorted(unknown))}")
    return VelaOptions(accelerator, vela.get("system_config"), vela.get("memory_mode"), ini,
                       vela.get("optimise") or "Performance")


def header_lines(prefix: str) -> str:
    """Declarations the model header gets: the driver hand-over ``<prefix>_set_npu``."""
    return (f"struct ethosu_driver;\n"
            f"/* The Ethos-U driver the NPU regions run on (initialised with ethosu_init()); "
            f"NULL:\n   each region call reserves one with ethosu_reserve_driver(). */\n"
            f"void {prefix}_set_npu(struct ethosu_driver* drv);\n")


def driver_sources() -> dict[str, str]:
    """kernels_c/ethosu (byoc's functional Ethos-U55 model behind the driver API) under
    ``ethosu/`` and kernels_c/ethosu_driver (byoc's register-level driver) under
    ``ethosu_driver/``, as {relative path: text}."""
    files = {}
    for sub in (PACKAGE_DIR, DRIVER_PACKAGE_DIR):
        files.update(package_tree(sub, sub, lambda path, rel: not rel.startswith("test/") and (
            path.suffix in (".c", ".h") or path.name == "CMakeLists.txt")))
    return files


def cmake_lines(prefix: str, npu_config: str, driver_path: "Path | None" = None,
                cmsis_path: "Path | None" = None) -> str:
    """CMake lines linking the model to ``ethosu_core_driver``: byoc's register-level driver in
    ethosu_driver/ or byoc's model in ethosu/ (``BYOC_ETHOSU_DRIVER`` npu|model), or Arm's
    driver (its own CMake project, built for ``npu_config``) with ``-DETHOSU_DRIVER_PATH`` and
    ``-DCMSIS_PATH`` (defaults: the trees the package was compiled for)."""
    return f"""
# Ethos-U driver (target `ethosu_core_driver`), by BYOC_ETHOSU_DRIVER:
#   npu   (default) byoc's register-level driver in {DRIVER_PACKAGE_DIR}/: programs the NPU (a
#         board, the FVP, or byoc's emulated Corstone-300 with its Ethos-U55 device);
#   model byoc's functional Ethos-U55 model in {PACKAGE_DIR}/: computes the NPU's work on the CPU
#         (for an emulator or host without an NPU).
# Arm's ethos-u-core-driver (its own CMake project, ETHOSU_TARGET_NPU_CONFIG={npu_config})
# with -DETHOSU_DRIVER_PATH=/path/to/ethos-u-core-driver -DCMSIS_PATH=/path/to/CMSIS_6
# (defaults: the trees given to `byoc compile`). A target `ethosu_core_driver` defined before
# add_subdirectory() of this package is used as it is.
set({prefix.upper()}_NPU_SECTION "" CACHE STRING "Linker section of the NPU command streams and blobs")
include("${{CMAKE_CURRENT_LIST_DIR}}/cmake/byoc_libraries.cmake")
byoc_ethosu_driver_library(BUNDLED "${{CMAKE_CURRENT_LIST_DIR}}/{PACKAGE_DIR}" NPU_CONFIG {npu_config}
                           DRIVER "${{CMAKE_CURRENT_LIST_DIR}}/{DRIVER_PACKAGE_DIR}" DEFAULT_DRIVER npu
                           DEFAULT_PATH "{cmake_string(driver_path)}" DEFAULT_CMSIS_PATH "{cmake_string(cmsis_path)}")
target_link_libraries({prefix} PUBLIC ethosu_core_driver)
"""


def placement_rows(regions: dict, decisions: list):
    """Ethos-U's placement rows (``byoc.placement``), exact by TFLite operator index: the
    operators its regions (``byoc.ethosu.codegen.Region``) compute, and for the others why
    the NPU did not take them (from the partition's ``decisions``)."""
    from ..placement import BackendRows, Claim
    from . import partition as part
    claims = {i: Claim("ethos-u", ON_NPU, r.function.name if r.function else "")
              for r in regions.values() for i in r.operators}
    refused: dict[int, str] = {}
    for d in decisions:
        if d.reason is not None:
            for i in d.operators:
                refused.setdefault(i, d.reason)

    def refusal(index: int, typ: str) -> str:
        if index in refused:
            return refused[index]
        if typ not in part.TFLITE_TYPES.values() and typ != "PADV2":
            return f"byoc does not offer {typ} to Vela"
        return "not matched by the Ethos-U patterns"

    return BackendRows("NPU", claims, refusal)


class EthosUBackend(ExternalBackend):
    """Target ``ethos-u55-<macs>``. After ``partition``: ``regions`` (symbol ->
    ``byoc.ethosu.codegen.Region``) and ``decisions`` (the partition's ``Decision`` list)."""

    name = "ethos-u"

    def __init__(self, npu_config: str) -> None:
        super().__init__()
        self.npu_config = npu_config
        self.regions: dict = {}
        self.decisions: list = []

    def partition(self, mod, ctx: CompileContext):
        from . import codegen
        from .partition import partition_for_ethosu
        options = vela_options(self.npu_config, ctx.vela)
        mod = partition_for_ethosu(mod, options.accelerator, system_config=options.system_config,
                                   memory_mode=options.memory_mode,
                                   config_ini=options.config_ini, optimise=options.optimise,
                                   report=self.decisions)
        mod, self.regions = codegen.generate(mod, ctx.prefix, options)
        self.calls = {s: BackendCall(r.function, r.label, ON_NPU)
                      for s, r in self.regions.items()}
        return mod

    def package_parts(self, ctx: CompileContext) -> PackageParts:
        if not self.regions:
            return PackageParts()
        from .codegen import ops_preamble
        libs = ctx.libraries
        return PackageParts([HEADER], cmake_lines(ctx.prefix, self.npu_config,
                                                  libs.ethosu_driver, libs.cmsis),
                            ops_preamble(ctx.prefix), header_lines(ctx.prefix),
                            {**driver_sources(), **cmake_module()})

    def placement_rows(self, mod, ctx: CompileContext):
        return placement_rows(self.regions, self.decisions)

    def summary(self, calls: list[dict]) -> dict | None:
        if not self.regions:
            return None
        return {**super().summary(calls),
                "operators": sum(len(r.ops) for r in self.regions.values())}

    def metadata(self) -> dict:
        regions = [r.to_json() for r in self.regions.values()]
        return {"npu_cycles": sum(r["npu_cycles"] for r in regions) if regions else None,
                "npu_regions": regions}

    def libraries_json(self) -> dict:
        return {"ethosu": bool(self.regions), "npu_config": self.npu_config}
