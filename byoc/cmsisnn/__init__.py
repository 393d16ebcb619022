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

from .codegen import CmsisCall, generate, ops_preamble
from .partition import offload_reason, partition_for_cmsisnn

__all__ = ["partition_for_cmsisnn", "generate", "offload_reason", "package_parts",
           "CmsisCall", "kernel_sources"]

#: Package subdirectory holding the bundled kernel sources.
PACKAGE_DIR = "cmsis_nn"


def kernel_sources() -> dict[str, str]:
    """The bundled CMSIS-NN implementation (``kernels_c/cmsis_nn``) as {relative path: text}
    under ``cmsis_nn/``, found in a checkout or an installed byoc."""
    from ..resources import data_dir
    root = data_dir("kernels_c") / "cmsis_nn"
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.suffix in (".c", ".h") or path.name == "CMakeLists.txt"):
            files[f"{PACKAGE_DIR}/{path.relative_to(root).as_posix()}"] = path.read_text()
    return files


def cmake_lines(prefix: str) -> str:
    """CMake lines linking the model target to ``cmsis-nn``: the bundled sources, or Arm's
    CMSIS-NN with ``-DCMSIS_NN_PATH=/path/to/CMSIS-NN`` (the generated code is the same)."""
    return f"""
# CMSIS-NN kernels (target `cmsis-nn`): the bundled implementation in cmsis_nn/, or Arm's
# CMSIS-NN sources with -DCMSIS_NN_PATH=/path/to/CMSIS-NN. A target `cmsis-nn` defined
# before add_subdirectory() of this package (e.g. by a vendor SDK) is used as it is.
set(CMSIS_NN_PATH "" CACHE PATH "Arm CMSIS-NN source tree to link instead of the bundled cmsis_nn/")
if(NOT TARGET cmsis-nn)
  if(CMSIS_NN_PATH)
    if(NOT EXISTS "${{CMSIS_NN_PATH}}/Include/arm_nnfunctions.h")
      message(FATAL_ERROR "CMSIS_NN_PATH=${{CMSIS_NN_PATH}} has no Include/arm_nnfunctions.h")
    endif()
    file(GLOB _{prefix}_arm_cmsis_nn_sources "${{CMSIS_NN_PATH}}/Source/*/*.c")
    add_library(cmsis-nn STATIC ${{_{prefix}_arm_cmsis_nn_sources}})
    target_include_directories(cmsis-nn PUBLIC "${{CMSIS_NN_PATH}}/Include")
    if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
      target_compile_options(cmsis-nn PRIVATE -O3)
    endif()
  else()
    add_subdirectory("${{CMAKE_CURRENT_LIST_DIR}}/{PACKAGE_DIR}" "${{CMAKE_CURRENT_BINARY_DIR}}/{PACKAGE_DIR}")
  endif()
endif()
target_link_libraries({prefix} PUBLIC cmsis-nn)
"""


def package_parts(prefix: str, cpu: str) -> dict:
    """Keyword arguments for ``byoc.package.PackageSources`` of a package with CMSIS-NN calls."""
    return {"extra_includes": ["arm_nnfunctions.h"], "extra_cmake": cmake_lines(prefix),
            "ops_preamble": ops_preamble(prefix, cpu), "extra_files": kernel_sources()}
