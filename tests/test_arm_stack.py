"""byoc's kernels next to Arm's real stack.

* Namespace (always): byoc's CMSIS-NN library defines only functions of the public CMSIS-NN
  API (declared in its ``arm_nnfunctions.h``) and ``byoc_nn_*`` helpers, on every kernel path
  (cortex-m55 Helium, cortex-m4 DSP, cortex-m0plus portable), so it can share an image with
  Arm's library.
* With Arm's sources (``BYOC_ARM_CMSIS_NN`` / ``BYOC_ARM_ETHOSU_DRIVER`` / ``BYOC_ARM_CMSIS``
  pointing at checkouts; skipped otherwise): see the tests below.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from toolchain import require_tools

REPO = Path(__file__).resolve().parent.parent
import sys  # noqa: E402

sys.path.insert(0, str(REPO / "kernels_c" / "test"))
import cmsis_nn_testlib as tl  # noqa: E402

CROSS = ("arm-none-eabi-gcc", "cmake", "ninja")
PATH_CPUS = {"cortex-m55": "mve", "cortex-m4": "dsp", "cortex-m0plus": "c"}


def declared_functions(header: Path) -> set[str]:
    """Names of the functions a CMSIS-NN ``arm_nnfunctions.h`` declares."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header.read_text(), flags=re.S)
    return set(re.findall(r"\b(arm_[a-z0-9_]+)\s*\(", text))


def defined_globals(library: Path) -> set[str]:
    """Global symbols an archive defines (arm-none-eabi-nm)."""
    out = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(library)],
                         capture_output=True, text=True, check=True).stdout
    return {parts[2] for parts in (ln.split() for ln in out.splitlines()) if len(parts) == 3}


def build_library(cpu: str, build_dir: Path, cmake_args=()) -> Path:
    ok, detail = tl.build_library_for_cpu(cpu, build_dir, cmake_args)
    assert ok, detail
    libs = sorted(build_dir.rglob("libcmsis-nn.a"))
    assert len(libs) == 1, libs
    return libs[0]


@pytest.fixture(scope="module")
def byoc_libraries(tmp_path_factory) -> dict[str, Path]:
    """byoc's kernel library built for each kernel path (cpu -> libcmsis-nn.a)."""
    require_tools(CROSS)
    root = tmp_path_factory.mktemp("byoc_nn")
    return {cpu: build_library(cpu, root / cpu) for cpu in PATH_CPUS}


@pytest.mark.parametrize("cpu", list(PATH_CPUS))
def test_byoc_library_defines_only_api_and_byoc_nn_names(byoc_libraries, cpu):
    api = declared_functions(tl.LIB_DIR / "Include" / "arm_nnfunctions.h")
    stray = sorted(s for s in defined_globals(byoc_libraries[cpu])
                   if not s.startswith("byoc_nn_") and s not in api)
    assert not stray, f"{cpu}: symbols outside the CMSIS-NN API and byoc_nn_*: {stray}"


def test_private_headers_are_not_arm_header_names():
    """byoc's private headers live under Include/Internal/ with byoc names, so a build that
    also has Arm's Include/ on its path never picks the other library's internal header."""
    public = {p.name for p in (tl.LIB_DIR / "Include").glob("*.h")}
    assert public == {"arm_nnfunctions.h", "arm_nn_types.h", "arm_nn_math_types.h"}
    internal = {p.name for p in (tl.LIB_DIR / "Include" / "Internal").glob("*.h")}
    assert internal and all(name.startswith("byoc_nn_") for name in internal)
