"""The ``cmsis-nn`` target: int8 operators computed by CMSIS-NN v7 kernels.

* :mod:`byoc.cmsisnn.partition` - ``cmsisnn.*`` patterns (byoc.qnn's chains, plus PAD fused
  into a convolution), the offload checks with their reasons, ``partition_for_cmsisnn``;
* :mod:`byoc.cmsisnn.codegen` - the ``relax.ext.cmsisnn`` codegen and the C functions that
  call the CMSIS-NN API with compile-time constants;
* :mod:`byoc.cmsisnn.placement` - which operator went where, and why;
* :func:`package_parts` - what the output package needs: the header, the kernel sources
  (``<package>/cmsis_nn/``) and the CMake lines linking target ``cmsis-nn``.
"""

from __future__ import annotations

from pathlib import Path

from .codegen import CmsisCall, generate, ops_preamble
from .partition import offload_reason, partition_for_cmsisnn

__all__ = ["partition_for_cmsisnn", "generate", "offload_reason", "package_parts",
           "CmsisCall", "kernel_sources", "cmake_module"]

#: Package subdirectory holding the bundled kernel sources.
PACKAGE_DIR = "cmsis_nn"


def kernel_sources() -> dict[str, str]:
    """The bundled CMSIS-NN implementation (``kernels_c/cmsis_nn``) as {relative path: text}
    under ``cmsis_nn/``, found in a checkout or an installed byoc."""
    from ..resources import data_dir
    root = data_dir("kernels_c") / "cmsis_nn"
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.suffix in (".c", ".h", ".cmake") or path.name == "CMakeLists.txt"):
            files[f"{PACKAGE_DIR}/{path.relative_to(root).as_posix()}"] = path.read_text()
    return files


def cmake_module() -> dict[str, str]:
    """``cmake/byoc_libraries.cmake`` (the library choice, shared by every package part)."""
    from ..libraries import CMAKE_MODULE
    from ..resources import data_dir
    return {CMAKE_MODULE: (data_dir("cmake") / "byoc_libraries.cmake").read_text()}


def _cmake_string(value: "Path | None") -> str:
    return str(value or "").replace("\\", "/").replace('"', '\\"')


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
                      DEFAULT_PATH "{_cmake_string(arm_path)}")
target_link_libraries({prefix} PUBLIC cmsis-nn)
"""


def package_parts(prefix: str, cpu: str, arm_path: "Path | None" = None) -> dict:
    """Keyword arguments for ``byoc.package.PackageSources`` of a package with CMSIS-NN calls
    (``arm_path``: Arm's CMSIS-NN checkout the package's CMake defaults to)."""
    return {"extra_includes": ["arm_nnfunctions.h"], "extra_cmake": cmake_lines(prefix, arm_path),
            "ops_preamble": ops_preamble(prefix, cpu),
            "extra_files": {**kernel_sources(), **cmake_module()}}
