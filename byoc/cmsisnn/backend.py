"""The ``cmsis-nn`` backend (``byoc.backend.Backend``): int8/int16 operators computed by
CMSIS-NN v7 kernels.

Partition: ``byoc.cmsisnn.partition.partition_for_cmsisnn`` (its decisions say why a chain
was refused), then the codegen (``byoc.cmsisnn.codegen.generate``): one C function per
partition calling the CMSIS-NN API with compile-time constants. Package: the header
``arm_nnfunctions.h``, the bundled kernel sources (``<package>/cmsis_nn/``, or Arm's
CMSIS-NN through ``-DCMSIS_NN_PATH``) and the CMake lines linking target ``cmsis-nn``.
Placement: ``byoc.cmsisnn.placement``; it is the kernel library of the CPU, so it also
gives the reason of every operator left to the generic C path.
"""

from __future__ import annotations

from pathlib import Path

from ..backend import BackendCall, CompileContext, ExternalBackend, PackageParts
from ..libraries import cmake_module, cmake_string, package_tree
from . import codegen
from . import placement as cpl
from .partition import partition_for_cmsisnn

#: Package subdirectory holding the bundled kernel sources.
PACKAGE_DIR = "cmsis_nn"


def kernel_sources() -> dict[str, str]:
    """The bundled CMSIS-NN implementation (``kernels_c/cmsis_nn``) as {relative path: text}
    under ``cmsis_nn/``, found in a checkout or an installed byoc."""
    return package_tree("cmsis_nn", PACKAGE_DIR, lambda path, rel: path.suffix in (
        ".c", ".h", ".cmake") or path.name == "CMakeLists.txt")


def cmake_lines(prefix: str, arm_path: "Path | None" = None) -> str:
    """CMake lines linking the model target to ``cmsis-nn``: the bundled sources, or Arm's
    CMSIS-NN through its own CMake project with ``-DCMSIS_NN_PATH=/path/to/CMSIS-NN``
    (default: ``arm_path``, the tree the package was compiled for; same generated code)."""
    return f"""
# CMSIS-NN kernels (target `cmsis-nn`): the bundled implementation in cmsis_nn/, or Arm's
# CMSIS-NN (its own CMake project) with -DCMSIS_NN_PATH=/path/to/CMSIS-NN (default: the tree
# given to `byoc compile --cmsis-nn-path`). A target `cmsis-nn` defined before
# add_subdirectory() of this package (e.g. by a vendor SDK) is used as it is.
include("${{CMAKE_CURRENT_LIST_DIR}}/cmake/byoc_libraries.cmake")
byoc_cmsis_nn_library(BUNDLED "${{CMAKE_CURRENT_LIST_DIR}}/{PACKAGE_DIR}"
                      DEFAULT_PATH "{cmake_string(arm_path)}")
target_link_libraries({prefix} PUBLIC cmsis-nn)
"""


def package_parts(prefix: str, cpu: str, arm_path: "Path | None" = None) -> PackageParts:
    """What a package with CMSIS-NN calls needs (``arm_path``: Arm's CMSIS-NN checkout the
    package's CMake defaults to)."""
    return PackageParts(["arm_nnfunctions.h"], cmake_lines(prefix, arm_path),
                        codegen.ops_preamble(prefix, cpu),
                        extra_files={**kernel_sources(), **cmake_module()})


class CmsisNNBackend(ExternalBackend):
    """Target ``cmsis-nn``. After ``partition``: ``cmsis_calls`` (symbol ->
    ``byoc.cmsisnn.CmsisCall``) and ``decisions`` (the partition's ``Decision`` list)."""

    name = cpl.CMSIS

    def __init__(self) -> None:
        super().__init__()
        self.cmsis_calls: dict = {}
        self.decisions: list = []

    def partition(self, mod, ctx: CompileContext):
        mod = partition_for_cmsisnn(mod, ctx.cpu, report=self.decisions)
        mod, self.cmsis_calls = codegen.generate(mod, ctx.prefix, ctx.cpu)
        self.calls = {s: BackendCall(c.function, c.label, c.kernel)
                      for s, c in self.cmsis_calls.items()}
        return mod

    def package_parts(self, ctx: CompileContext) -> PackageParts:
        if not self.cmsis_calls:
            return PackageParts()
        return package_parts(ctx.prefix, ctx.cpu, ctx.libraries.cmsis_nn)

    def placement_rows(self, mod, ctx: CompileContext):
        return cpl.rows(self._entries(mod, ctx), self.decisions)

    def generic_call_reasons(self, mod, ctx: CompileContext):
        by_callee = {e.callee: e.reason for e in self._entries(mod, ctx)
                     if e.backend != cpl.CMSIS}
        return lambda callee: by_callee.get(callee, "generic operators (no CMSIS-NN kernel)")

    def _entries(self, mod, ctx: CompileContext) -> "list[cpl.Entry]":
        """main's operator calls with their placement (``byoc.cmsisnn.placement``)."""
        return cpl.entries(mod, self.cmsis_calls, ctx.qnn_report, self.decisions)

    def libraries_json(self) -> dict:
        return {"cmsis_nn": bool(self.cmsis_calls)}
