"""Build a compiled package for the host with gcc and run it on input samples.

The host harness reads all samples' inputs from one binary file (inputs in model order,
sample after sample, raw little-endian bytes), runs ``<prefix>_run`` on each and writes the
outputs the same way (``byoc.harness.host_source``, the generator shared with the firmware
harness). One process runs every sample, so validation stays fast.

A package with CMSIS-NN calls carries the kernel sources in ``cmsis_nn/``; on the host they
build as the portable C path. They are compiled once per set of sources and flags into a
static library kept in a cache directory (``BYOC_HOST_CACHE``, default under the system's
temporary directory) and linked from there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .aot import IOTensor
from .errors import ToolError
from .harness import host_source as harness_source

WARNING_FLAGS = ["-Wall", "-Wextra", "-Werror"]


def find_host_cc() -> str:
    for cc in ("gcc", "cc"):
        path = shutil.which(cc)
        if path:
            return path
    raise ToolError("no host C compiler (gcc) found; run `make setup`")


SANITIZE_FLAGS = ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
#: Package subdirectory with bundled kernel sources (``Include/``, ``Source/*/*.c``).
KERNEL_DIRS = ("cmsis_nn",)


def _cache_root() -> Path:
    return Path(os.environ.get("BYOC_HOST_CACHE")
                or Path(tempfile.gettempdir()) / f"byoc-host-cache-{os.getuid()}")


def kernel_library(src_dir: Path, cc: str, flags: list[str]) -> Path:
    """Static library of the kernel sources in ``src_dir`` (``Source/*/*.c`` with
    ``Include/``) built with ``cc`` and ``flags``, cached by content and flags."""
    sources = sorted(src_dir.glob("Source/*/*.c"))
    headers = sorted(src_dir.glob("Include/*.h"))
    h = hashlib.sha256()
    for part in [cc, *flags]:
        h.update(part.encode() + b"\0")
    for f in headers + sources:
        h.update(f.relative_to(src_dir).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    dest = _cache_root() / f"{src_dir.name}-{h.hexdigest()[:20]}"
    lib = dest / "libkernels.a"
    if lib.is_file():
        return lib
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        objs = []
        for i, src in enumerate(sources):
            obj = work / f"{i:03d}_{src.stem}.o"
            proc = subprocess.run([cc, "-std=c99", *flags, "-I", str(src_dir / "Include"), "-c",
                                   str(src), "-o", str(obj)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolError(f"host build of {src} failed:\n{proc.stderr.strip()[:4000]}")
            objs.append(str(obj))
        ar = shutil.which("ar") or "ar"
        proc = subprocess.run([ar, "rcs", str(work / "libkernels.a"), *objs],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"ar failed for {src_dir}: {proc.stderr.strip()[:2000]}")
        try:
            os.replace(work, dest)       # atomic; a concurrent build may have won the race
        except OSError:
            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not lib.is_file():
        raise ToolError(f"host build of the kernels in {src_dir} left no library")
    return lib


def build_host(package_dir: Path, prefix: str, inputs: list[IOTensor], outputs: list[IOTensor],
               build_dir: Path, sanitize: bool = False, opt: str = "-O2") -> Path:
    """Compile the package plus the harness with -Wall -Wextra -Werror; returns the binary.
    Kernel sources shipped in the package (``cmsis_nn/``) are built (portable C path) with
    the same flags and linked."""
    build_dir.mkdir(parents=True, exist_ok=True)
    harness = build_dir / f"{prefix}_harness.c"
    npu_dir = package_dir / "ethosu"
    npu = (npu_dir / "include" / "ethosu_driver.h").is_file()
    stateful = _is_stateful(package_dir)
    harness.write_text(harness_source(prefix, inputs, outputs, npu, stateful))
    exe = build_dir / f"{prefix}_harness"
    cc = find_host_cc()
    flags = [opt, *WARNING_FLAGS] + (SANITIZE_FLAGS if sanitize else [])
    includes, libs = [], []
    for name in KERNEL_DIRS:
        kdir = package_dir / name
        if (kdir / "Include").is_dir():
            includes += ["-I", str(kdir / "Include")]
            libs.append(str(kernel_library(kdir, cc, flags)))
    sources = sorted(str(p) for p in (package_dir / "src").glob("*.c"))
    if npu:  # byoc's Ethos-U55 model (ethosu/), built with the package
        includes += ["-I", str(npu_dir / "include"), "-I", str(npu_dir / "src")]
        sources += sorted(str(p) for p in (npu_dir / "src").glob("*.c"))
    cmd = [cc, "-std=c99", *flags, "-I", str(package_dir / "include"), *includes,
           *sources, str(harness), *libs, "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(f"host build of {package_dir} failed:\n{proc.stderr.strip()[:4000]}")
    return exe


def _is_stateful(package_dir: Path) -> bool:
    import json
    try:
        return bool(json.loads((package_dir / "metadata.json").read_text()).get("state"))
    except (OSError, ValueError):
        return False


def run_host(exe: Path, samples: list[list[np.ndarray]], outputs: list[IOTensor],
             work_dir: Path, timeout_s: float = 300.0,
             reset_before: int | None = None) -> list[list[np.ndarray]]:
    """Run the harness on all samples; returns the outputs per sample. A stateful
    package's harness runs them as one stream, calling ``<prefix>_reset`` before sample
    ``reset_before`` when given."""
    fin, fout = work_dir / "inputs.bin", work_dir / "outputs.bin"
    with open(fin, "wb") as f:
        for sample in samples:
            for arr in sample:
                f.write(np.ascontiguousarray(arr).tobytes())
    try:
        reset = [] if reset_before is None else [str(reset_before)]
        proc = subprocess.run([str(exe), str(fin), str(fout), str(len(samples)), *reset],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ToolError(f"host run of {exe.name} timed out after {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        raise ToolError(f"host run of {exe.name} failed with exit code {proc.returncode}: "
                        f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
    raw = fout.read_bytes()
    results, pos = [], 0
    for _ in samples:
        outs = []
        for io in outputs:
            n = io.nbytes
            outs.append(np.frombuffer(raw[pos:pos + n], dtype=io.dtype).reshape(io.shape).copy())
            pos += n
        results.append(outs)
    return results
