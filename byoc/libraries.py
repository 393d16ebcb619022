"""Which kernel libraries a package links: byoc's own trees (default) or Arm's sources.

* CMSIS-NN: byoc's implementation (``kernels_c/cmsis_nn``, shipped in the package) or Arm's
  ARM-software/CMSIS-NN checkout (v7.0.0 or newer; ``cmsis_nn_path``);
* Ethos-U driver: byoc's functional Ethos-U55 model (``kernels_c/ethosu``) or Arm's
  ethos-u-core-driver (``ethosu_driver_path``), which needs CMSIS-Core headers from a CMSIS_6
  or CMSIS_5 checkout (``cmsis_path``).

The choice is made in CMake by ``cmake/byoc_libraries.cmake`` (shipped in every package);
this module checks the paths, gives the ``-D`` arguments of a firmware build and the
``libraries`` record of ``metadata.json`` and ``validate --json``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import ByocError

#: Package subdirectory and file name of the shipped CMake module.
CMAKE_MODULE = "cmake/byoc_libraries.cmake"


def cmake_module() -> dict[str, str]:
    """``cmake/byoc_libraries.cmake`` as {package path: text}: the library choice, included by
    the CMake lines of every backend that links a library."""
    from .resources import data_dir
    return {CMAKE_MODULE: (data_dir("cmake") / "byoc_libraries.cmake").read_text()}


def cmake_string(value: "Path | str | None") -> str:
    """``value`` (a path; None: empty) as the body of a double-quoted CMake string."""
    return str(value or "").replace("\\", "/").replace('"', '\\"')


def package_tree(subdir: str, dest: str, keep) -> dict[str, str]:
    """The shipped sources ``kernels_c/<subdir>`` as {``<dest>/<relative path>``: text}, in
    path order, for the files ``keep(path, relative posix path)`` accepts."""
    from .resources import data_dir
    root = data_dir("kernels_c") / subdir
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and keep(path, rel):
            files[f"{dest}/{rel}"] = path.read_text()
    return files

_CHECKS = {
    "cmsis_nn": ("--cmsis-nn-path", "CMSIS-NN", ("Include/arm_nnfunctions.h", "CMakeLists.txt")),
    "ethosu_driver": ("--ethosu-driver-path", "ethos-u-core-driver",
                      ("include/ethosu_driver.h", "CMakeLists.txt")),
    "cmsis": ("--cmsis-path", "CMSIS_6/CMSIS_5", ("CMSIS/Core/Include/cmsis_compiler.h",)),
}


def _checked(key: str, value: "str | os.PathLike | None") -> Path | None:
    if value is None or str(value) == "":
        return None
    option, what, files = _CHECKS[key]
    path = Path(value).expanduser().absolute()
    if not path.is_dir():
        raise ByocError(f"{option} {value}: no such directory")
    for rel in files:
        if not (path / rel).is_file():
            raise ByocError(f"{option} {path}: not a {what} checkout (no {rel})")
    return path


def _git_commit(path: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", out) else None


def _driver_version(path: Path) -> str | None:
    text = (path / "include" / "ethosu_driver.h").read_text(errors="replace")
    parts = [re.search(rf"#define\s+ETHOSU_DRIVER_VERSION_{k}\s+(\d+)", text)
             for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(m.group(1) for m in parts) if all(parts) else None


@dataclass(frozen=True)
class Libraries:
    """Arm source trees to build instead of byoc's (None: byoc's own)."""

    cmsis_nn: Path | None = None        # ARM-software/CMSIS-NN checkout
    ethosu_driver: Path | None = None   # ethos-u-core-driver checkout
    cmsis: Path | None = None           # CMSIS_6 / CMSIS_5 checkout (CMSIS/Core/Include)

    @classmethod
    def from_options(cls, cmsis_nn_path: "str | os.PathLike | None" = None,
                     ethosu_driver_path: "str | os.PathLike | None" = None,
                     cmsis_path: "str | os.PathLike | None" = None) -> "Libraries":
        """Checked paths; a bad one raises a one-line ByocError naming the option."""
        return cls(_checked("cmsis_nn", cmsis_nn_path), _checked("ethosu_driver", ethosu_driver_path),
                   _checked("cmsis", cmsis_path))

    def check_complete(self) -> "Libraries":
        """Arm's driver needs CMSIS-Core headers: refuse a driver path without a CMSIS path."""
        if self.ethosu_driver is not None and self.cmsis is None:
            raise ByocError("--ethosu-driver-path needs --cmsis-path: a CMSIS_6 or CMSIS_5 checkout "
                            "(Arm's driver includes CMSIS/Core/Include/cmsis_compiler.h)")
        return self

    @classmethod
    def from_metadata(cls, metadata: dict) -> "Libraries":
        """The libraries a package was compiled for (its ``metadata.json``)."""
        rec = metadata.get("libraries") or {}

        def path(name: str, key: str = "path") -> Path | None:
            value = (rec.get(name) or {}).get(key)
            return Path(value) if value else None
        return cls(path("cmsis-nn"), path("ethos-u-driver"), path("ethos-u-driver", "cmsis_path"))

    def merged(self, override: "Libraries") -> "Libraries":
        """These libraries with every path ``override`` sets replacing ours."""
        return Libraries(override.cmsis_nn or self.cmsis_nn,
                         override.ethosu_driver or self.ethosu_driver,
                         override.cmsis or self.cmsis)

    @property
    def any_arm(self) -> bool:
        return self.cmsis_nn is not None or self.ethosu_driver is not None

    def cmake_args(self) -> list[str]:
        """``-D`` arguments selecting these libraries in a package's CMake (every variable is
        passed, so a package compiled for Arm's tree can also be rebuilt with byoc's)."""
        return [f"-DCMSIS_NN_PATH={self.cmsis_nn or ''}",
                f"-DETHOSU_DRIVER_PATH={self.ethosu_driver or ''}",
                f"-DCMSIS_PATH={self.cmsis or ''}"]

    def to_json(self, cmsis_nn: bool = False, ethosu: bool = False,
                npu_config: str | None = None) -> dict:
        """``libraries`` of metadata.json / validate --json for a package that links CMSIS-NN
        (``cmsis_nn``) and/or an Ethos-U driver (``ethosu``)."""
        out: dict = {}
        if cmsis_nn:
            if self.cmsis_nn is None:
                out["cmsis-nn"] = {"source": "byoc", "path": None}
            else:
                out["cmsis-nn"] = {"source": "arm", "path": str(self.cmsis_nn),
                                   "commit": _git_commit(self.cmsis_nn)}
        if ethosu:
            if self.ethosu_driver is None:
                out["ethos-u-driver"] = {"source": "byoc", "path": None,
                                         "npu_config": npu_config}
            else:
                out["ethos-u-driver"] = {
                    "source": "arm", "path": str(self.ethosu_driver),
                    "version": _driver_version(self.ethosu_driver),
                    "commit": _git_commit(self.ethosu_driver), "npu_config": npu_config,
                    "cmsis_path": str(self.cmsis) if self.cmsis else None}
        return out


def describe(record: dict) -> str:
    """One line for the CLI: ``cmsis-nn: Arm (/path), ethos-u-driver: byoc``."""
    parts = []
    for name, lib in record.items():
        parts.append(f"{name}: Arm ({lib['path']})" if lib.get("source") == "arm"
                     else f"{name}: byoc")
    return ", ".join(parts)
