"""Corstone-300 platform: build firmware ELFs with CMake and run them on QEMU or the Arm FVP.

Build: ``build_firmware()`` configures ``fvp/CMakeLists.txt`` with the toolchain file
``cmake/arm-none-eabi.cmake`` (Ninja) for a model package plus harness sources and returns
the ELF. Run: ``run_firmware()`` starts ``qemu-system-arm -M mps3-an547`` (default) or
``FVP_Corstone_SSE-300_Ethos-U55`` and parses the firmware's machine-readable lines::

    BYOC_PLATFORM name=corstone300 cpu=cortex-m55 counter=icount icount_shift=7 ...
    BYOC_RESULT status=pass mismatches=0 instructions=1234 arena_bytes=4096
    BYOC_PROFILE op=0 name=conv2d instructions=1000 calls=1
    BYOC_FAULT type=UsageFault pc=0x... cfsr=0x... reason=...
    BYOC_EXIT code=0

Instruction counts are exact on QEMU (``-icount``); the shift the firmware was built for is
read from the ELF's ``.byoc_info`` section, so build and run always agree.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cpus import CORTEX_M
from ..errors import ByocError
from ..resources import data_dir

FVP_DIR = data_dir("fvp")
TOOLCHAIN_FILE = data_dir("cmake") / "arm-none-eabi.cmake"

SUPPORTED_CPUS = CORTEX_M
#: Cores whose firmware runs on the Corstone-300 (QEMU mps3-an547 / FVP): all of them. The
#: platform's Cortex-M55 (Armv8.1-M, FPv5, Helium) executes every instruction of an
#: Armv6-M / v7-M / v7E-M / v8-M build, so a cortex-m4 firmware is functionally checked and its
#: instructions counted exactly (the same binary executes the same instructions). Not modelled:
#: the smaller core's timing, and its faults (e.g. unaligned access on cortex-m0plus).
RUNNABLE_CPUS = SUPPORTED_CPUS
REGIONS = ("ITCM", "SRAM", "DTCM", "SRAM2", "DDR")
DEFAULT_ICOUNT_SHIFT = 7
FIRMWARE_NAME = "firmware"
FVP_BINARIES = ("FVP_Corstone_SSE-300_Ethos-U55", "FVP_Corstone_SSE-300_Ethos-U65")
QEMU_BINARY = "qemu-system-arm"
#: ``memory=`` preset that links to the SSE-300 Secure aliases (address bit 28 set) instead
#: of QEMU's plain addresses; QEMU runs both, and Secure-state firmware on the real FVP
#: conventionally uses these.
SECURE_ALIAS_MEMORY = {"ITCM_BASE": 0x10000000, "SRAM_BASE": 0x11000000,
                       "DTCM_BASE": 0x30000000, "SRAM2_BASE": 0x31000000,
                       "DDR_BASE": 0x70000000}
#: byoc's Corstone-300 emulator: Debian's QEMU with byoc's Ethos-U55 device on mps3-an547
#: (fvp/qemu/build.sh, run by ``make setup``), and the device's QOM type name.
NPU_QEMU_DIR = FVP_DIR.parent / "build" / "qemu-ethosu"
NPU_DEVICE = "byoc-ethos-u55"
#: Exit code the platform's fault handlers stop the firmware with.
FAULT_EXIT_CODE = 3

_SETUP_HINT = "run `make setup`"


class PlatformError(ByocError):
    """Base class of every platform failure; messages are one line."""


class ToolNotFoundError(PlatformError):
    """A required program (cross compiler, CMake, Ninja, emulator) is not installed."""


class FirmwareBuildError(PlatformError):
    """Configuring, compiling or linking the firmware failed.

    ``str(err)`` holds the key compiler/linker lines (e.g. "region `SRAM2' overflowed by
    4194304 bytes"); ``log`` holds the complete CMake/Ninja output.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class EmulatorError(PlatformError):
    """The emulator could not start or stopped before the firmware finished."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class RunTimeout(PlatformError):
    """The firmware did not exit within the time limit; ``output`` has what it printed."""

    def __init__(self, message: str, output: str = "", timeout_s: float = 0.0) -> None:
        super().__init__(message)
        self.output = output
        self.timeout_s = timeout_s


class FirmwareFault(PlatformError):
    """The firmware took a fault; ``fault`` is the parsed BYOC_FAULT line."""

    def __init__(self, message: str, fault: dict[str, str], fault_line: str,
                 output: str = "") -> None:
        super().__init__(message)
        self.fault = fault
        self.fault_line = fault_line
        self.output = output


@dataclass
class ProfileEntry:
    """One operator's share of a profiled run (instructions summed over ``calls``)."""

    op: int
    name: str
    instructions: int
    calls: int = 1


@dataclass
class RunResult:
    """Outcome of one firmware run.

    ``result`` is the BYOC_RESULT line as strings (``status``, ``mismatches``,
    ``instructions``, ``arena_bytes``, ...); empty if the firmware printed none.
    """

    exit_code: int
    stdout: str
    result: dict[str, str]
    profile: list[ProfileEntry]
    platform: dict[str, str]
    backend: str
    wall_time_s: float
    command: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the firmware reported status=pass and exited with 0."""
        return self.exit_code == 0 and self.result.get("status") == "pass"

    @property
    def instructions(self) -> int | None:
        """Instructions of the measured region from BYOC_RESULT, if reported."""
        value = self.result.get("instructions")
        return int(value) if value is not None else None


# --------------------------------------------------------------------------- tools


def find_tool(name: str) -> Path:
    """Absolute path of program ``name`` on PATH; raises ToolNotFoundError if missing."""
    found = shutil.which(name)
    if found is None:
        raise ToolNotFoundError(f"{name} not found on PATH; {_SETUP_HINT}")
    return Path(found)


def npu_emulator() -> Path | None:
    """byoc's QEMU with the Ethos-U55 device: ``$BYOC_NPU_QEMU`` if set (``off``: none), else
    the checkout's build (``make setup`` builds it); None when there is none."""
    env = os.environ.get("BYOC_NPU_QEMU")
    if env is not None and env.strip().lower() in ("", "off", "0", "none"):
        return None
    path = Path(env) if env else NPU_QEMU_DIR / "qemu-system-arm"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _fvp_binary() -> Path | None:
    for name in FVP_BINARIES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


# --------------------------------------------------------------------------- build


def _normalise_defines(extra_defines: Mapping[str, object] | Sequence[str] | None) -> list[str]:
    if extra_defines is None:
        return []
    if isinstance(extra_defines, Mapping):
        out = []
        for key, value in extra_defines.items():
            out.append(str(key) if value is None else f"{key}={value}")
        return out
    if isinstance(extra_defines, str):
        return [extra_defines]
    return [str(d) for d in extra_defines]


_KEY_LINE = re.compile(
    r"(error:|will not fit in region|overflowed by|BYOC:|undefined reference|"
    r"multiple definition|CMake Error|No such file)"
)
_LD_PREFIX = re.compile(r"^\S*/ld(\.bfd)?: ")


def _summarise_build_log(log: str, limit: int = 6) -> str:
    """The lines of a build log that say what went wrong, joined into one line."""
    picked: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if not _KEY_LINE.search(line) or line.startswith("collect2:") or line.startswith("FAILED:"):
            continue
        text = _LD_PREFIX.sub("", line.strip())
        if text.startswith("CMake Error") and i + 1 < len(lines):
            # CMake puts the explanation on the following indented lines.
            follow = [lines[j].strip() for j in range(i + 1, min(i + 4, len(lines)))
                      if lines[j].startswith("  ") and lines[j].strip()]
            text = " ".join([text, *follow])
        if text not in picked:
            picked.append(text)
        if len(picked) == limit:
            break
    if not picked:
        tail = [ln.strip() for ln in lines if ln.strip()][-3:]
        picked = tail or ["no output"]
    return "; ".join(picked)


def _run_build_step(cmd: list[str], what: str, timeout_s: float) -> str:
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        log = (exc.stdout or b"").decode("utf-8", "replace")
        raise FirmwareBuildError(f"firmware {what} timed out after {timeout_s:g} s", log) from None
    log = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise FirmwareBuildError(f"firmware {what} failed: {_summarise_build_log(log)}", log)
    return log


def _is_itcm_overflow(err: FirmwareBuildError) -> bool:
    return "region `ITCM' overflowed" in err.log or "do not fit in memory region ITCM" in err.log


def build_firmware(
    model_dir: Path | str | None,
    harness_sources: Sequence[Path | str],
    build_dir: Path | str,
    cpu: str = "cortex-m55",
    profile: bool = False,
    extra_defines: Mapping[str, object] | Sequence[str] | None = None,
    *,
    constants_region: str = "auto",
    arena_region: str = "SRAM2",
    icount_shift: int = DEFAULT_ICOUNT_SHIFT,
    memory: Mapping[str, int] | None = None,
    build_type: str = "Release",
    cmake_args: Sequence[str] = (),
    timeout_s: float = 600.0,
) -> Path:
    """Build a firmware ELF for ``cpu`` from a model package and harness sources.

    Args:
        model_dir: generated model package (``CMakeLists.txt`` defining target ``<prefix>``,
            ``include/<prefix>.h``), or None for a firmware without a model.
        harness_sources: C sources of the harness (one of them defines ``main``).
        build_dir: CMake binary directory (created; reconfigured from scratch each call so
            no option of an earlier build lingers; unchanged objects are not recompiled).
        cpu: one of SUPPORTED_CPUS. Only RUNNABLE_CPUS can be run; others are build checks.
        profile: compile model and harness with ``-DBYOC_PROFILE`` (per-operator counts).
        extra_defines: compile definitions for harness and platform, as a mapping
            (``{"N": 4, "FLAG": None}``) or ``["N=4", "FLAG"]``.
        constants_region: region for ``.rodata.byoc_constants*`` (one of REGIONS), or
            "auto": ITCM, and DDR if ITCM overflows.
        arena_region: region for the arena section ``.bss.byoc_arena*`` (one of REGIONS).
        icount_shift: QEMU ``-icount`` shift (6..10) the firmware converts counts with;
            recorded in the ELF for run_firmware.
        memory: overrides of region geometry in bytes, keys like ``"DDR_SIZE"`` or
            ``"SRAM2_BASE"`` (CMake cache variables ``BYOC_<KEY>``).
        build_type: CMAKE_BUILD_TYPE (Release = -O3).
        cmake_args: further ``-D...`` arguments for the configure step.
        timeout_s: limit for each of the configure and build steps, in seconds.

    Returns:
        Path of ``<build_dir>/firmware.elf``.

    Raises:
        ToolNotFoundError: cmake, ninja or arm-none-eabi-gcc missing.
        FirmwareBuildError: configure/compile/link failed; the message carries the
            compiler's or linker's own words (e.g. which region overflowed by how much).
    """
    sources, model = _check_build_request(model_dir, harness_sources, cpu, constants_region,
                                          arena_region, icount_shift)
    cmake = find_tool("cmake")
    find_tool("ninja")
    find_tool("arm-none-eabi-gcc")

    build = Path(build_dir).resolve()
    build.mkdir(parents=True, exist_ok=True)
    settings = {
        "CMAKE_TOOLCHAIN_FILE": TOOLCHAIN_FILE,
        "CMAKE_BUILD_TYPE": build_type,
        "BYOC_CPU": cpu,
        "BYOC_MODEL_DIR": model or "",
        "BYOC_HARNESS_SOURCES": ";".join(str(s) for s in sources),
        "BYOC_PROFILE": "ON" if profile else "OFF",
        "BYOC_EXTRA_DEFINES": ";".join(_normalise_defines(extra_defines)),
    }

    def configure(region: str) -> None:
        # A fresh cache each time: toolchain flags are cached on first configure only.
        (build / "CMakeCache.txt").unlink(missing_ok=True)
        shutil.rmtree(build / "CMakeFiles", ignore_errors=True)
        cmd = _configure_command(cmake, build, settings, region, arena_region, icount_shift,
                                 memory, cmake_args)
        _run_build_step(cmd, "configure", timeout_s)

    def compile_and_link() -> None:
        _run_build_step([str(cmake), "--build", str(build)], "build", timeout_s)

    first_region = "ITCM" if constants_region == "auto" else constants_region
    configure(first_region)
    try:
        compile_and_link()
    except FirmwareBuildError as err:
        if constants_region != "auto" or not _is_itcm_overflow(err):
            raise
        # Large weights: only the linker script changes, so this is a relink.
        configure("DDR")
        compile_and_link()
    elf = build / f"{FIRMWARE_NAME}.elf"
    if not elf.is_file():
        raise FirmwareBuildError(f"build finished but {elf} is missing")
    return elf


def _check_build_request(model_dir: Path | str | None, harness_sources: Sequence[Path | str],
                         cpu: str, constants_region: str, arena_region: str,
                         icount_shift: int) -> tuple[list[Path], Path | None]:
    """The harness sources and the model package as absolute paths, after checking every
    ``build_firmware`` argument (one ``PlatformError`` line naming the bad one)."""
    if cpu not in SUPPORTED_CPUS:
        raise PlatformError(f"cpu '{cpu}' is not supported; "
                            f"choose one of {', '.join(SUPPORTED_CPUS)}")
    if constants_region != "auto" and constants_region not in REGIONS:
        raise PlatformError(f"constants_region '{constants_region}' is not one of "
                            f"auto, {', '.join(REGIONS)}")
    if arena_region not in REGIONS:
        raise PlatformError(f"arena_region '{arena_region}' is not one of {', '.join(REGIONS)}")
    if not 6 <= int(icount_shift) <= 10:
        raise PlatformError(f"icount_shift {icount_shift} is outside 6..10")
    sources = [Path(s).resolve() for s in harness_sources]
    if not sources:
        raise PlatformError("build_firmware needs at least one harness source")
    for src in sources:
        if not src.is_file():
            raise PlatformError(f"harness source {src} does not exist")
    model = Path(model_dir).resolve() if model_dir is not None else None
    if model is not None and not (model / "CMakeLists.txt").is_file():
        raise PlatformError(f"model package {model} has no CMakeLists.txt")
    return sources, model


def _configure_command(cmake: Path | str, build: Path, settings: Mapping[str, object],
                       constants_region: str, arena_region: str, icount_shift: int,
                       memory: Mapping[str, int] | None, cmake_args: Sequence[str]) -> list[str]:
    """The ``cmake`` configure command of the platform project (``fvp/``) in ``build``."""
    cmd = [str(cmake), "-G", "Ninja", "-S", str(FVP_DIR), "-B", str(build),
           *(f"-D{key}={value}" for key, value in settings.items()),
           f"-DBYOC_CONSTANTS_REGION={constants_region}",
           f"-DBYOC_ARENA_REGION={arena_region}",
           f"-DBYOC_ICOUNT_SHIFT={int(icount_shift)}",
           f"-DBYOC_FIRMWARE_NAME={FIRMWARE_NAME}"]
    for key, value in (memory or {}).items():
        cmd.append(f"-DBYOC_{key.upper()}={value:#x}" if isinstance(value, int)
                   else f"-DBYOC_{key.upper()}={value}")
    return cmd + list(cmake_args)


# --------------------------------------------------------------------------- ELF facts

_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 0x1, 0x2, 0x4
_SHT_NOBITS = 8


@dataclass
class _Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int


def _elf_sections(elf: Path | str) -> tuple[bytes, list[_Section]]:
    """Section headers of a 32-bit little-endian ELF (all Arm M-profile images are)."""
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise PlatformError(f"{elf} is not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    raw = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = raw[shstrndx][4], raw[shstrndx][5]
    strtab = data[strtab_off:strtab_off + strtab_size]
    sections = []
    for name_off, sh_type, flags, addr, offset, size, *_ in raw:
        name = strtab[name_off:strtab.index(b"\0", name_off)].decode("ascii", "replace")
        sections.append(_Section(name, sh_type, flags, addr, offset, size))
    return data, sections


def elf_sizes(elf: Path | str) -> dict[str, int]:
    """Memory footprint of a firmware ELF in bytes, from its section headers.

    Returns a dict with
      ``code_bytes``      executable sections (.text),
      ``rodata_bytes``    read-only data incl. vectors and model constants,
      ``data_bytes``      initialised read-write data (.data; also occupies its load image),
      ``bss_bytes``       zero-initialised data incl. the model arena, excluding the
                          platform's stack and heap reservations,
      ``constants_bytes`` the model constants section alone (part of rodata_bytes),
      ``arena_bytes``     the arena section alone (part of bss_bytes),
      ``stack_bytes`` / ``heap_bytes``  the platform's reservations.
    """
    _, sections = _elf_sections(elf)
    sizes = dict.fromkeys(("code_bytes", "rodata_bytes", "data_bytes", "bss_bytes",
                           "constants_bytes", "arena_bytes", "stack_bytes", "heap_bytes"), 0)
    for sec in sections:
        if not sec.flags & _SHF_ALLOC or sec.size == 0:
            continue
        if sec.name == ".stack":
            sizes["stack_bytes"] += sec.size
        elif sec.name == ".heap":
            sizes["heap_bytes"] += sec.size
        elif sec.flags & _SHF_EXECINSTR:
            sizes["code_bytes"] += sec.size
        elif not sec.flags & _SHF_WRITE:
            sizes["rodata_bytes"] += sec.size
        elif sec.type == _SHT_NOBITS:
            sizes["bss_bytes"] += sec.size
        else:
            sizes["data_bytes"] += sec.size
        if sec.name == ".byoc_constants":
            sizes["constants_bytes"] += sec.size
        elif sec.name == ".byoc_arena":
            sizes["arena_bytes"] += sec.size
    return sizes


def firmware_info(elf: Path | str) -> dict[str, str]:
    """Build facts the platform recorded in the ELF's ``.byoc_info`` section
    (``cpu``, ``icount_shift``, ...); empty if the ELF was not built with this platform."""
    data, sections = _elf_sections(elf)
    for sec in sections:
        if sec.name == ".byoc_info":
            text = data[sec.offset:sec.offset + sec.size].decode("utf-8", "replace")
            return _parse_info_text(text)
    return {}


def _parse_info_text(text: str) -> dict[str, str]:
    info = {}
    for line in text.replace("\0", "\n").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key.strip()] = value.strip()
    return info


# --------------------------------------------------------------------------- run


def parse_key_values(line: str) -> dict[str, str]:
    """``"TAG a=1 b=x"`` -> ``{"a": "1", "b": "x"}`` (the leading tag is dropped)."""
    out = {}
    for token in line.split()[1:]:
        key, sep, value = token.partition("=")
        if sep:
            out[key] = value
    return out


@dataclass
class _Parsed:
    result: dict[str, str] = field(default_factory=dict)
    profile: list[ProfileEntry] = field(default_factory=list)
    platform: dict[str, str] = field(default_factory=dict)
    fault_line: str | None = None
    exit_code: int | None = None


def _parse_output(text: str) -> _Parsed:
    parsed = _Parsed()
    for raw in text.splitlines():
        line = raw.strip().strip("\x04")
        tag = line.split(" ", 1)[0]
        if tag == "BYOC_RESULT":
            parsed.result = parse_key_values(line)
        elif tag == "BYOC_PROFILE":
            kv = parse_key_values(line)
            try:
                parsed.profile.append(ProfileEntry(int(kv["op"]), kv.get("name", "?"),
                                                   int(kv["instructions"]),
                                                   int(kv.get("calls", "1"))))
            except (KeyError, ValueError):
                continue
        elif tag == "BYOC_PLATFORM":
            parsed.platform = parse_key_values(line)
        elif tag == "BYOC_FAULT" and parsed.fault_line is None:
            parsed.fault_line = line
        elif tag == "BYOC_EXIT":
            code = parse_key_values(line).get("code", "")
            if re.fullmatch(r"-?\d+", code):
                parsed.exit_code = int(code)
    return parsed


def _tail(text: str, lines: int = 5) -> str:
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(kept) if kept else "(no output)"


_QEMU_NPU: dict[str, bool] = {}


def qemu_has_npu() -> bool:
    """Whether the ``qemu-system-arm`` on PATH models an Ethos-U55 on mps3-an547 (a device
    named ``ethos-u*`` in ``-device help``). Stock QEMU has none: firmware using Arm's real
    driver would then wait forever for the NPU interrupt. ``BYOC_QEMU_NPU=1`` / ``=0``
    overrides the probe."""
    forced = os.environ.get("BYOC_QEMU_NPU")
    if forced in ("0", "1"):
        return forced == "1"
    qemu = shutil.which(QEMU_BINARY)
    if qemu is None:
        return False
    if qemu not in _QEMU_NPU:
        try:
            proc = subprocess.run([qemu, "-M", "mps3-an547", "-device", "help"],
                                  capture_output=True, text=True, timeout=20, check=False)
            text = proc.stdout + proc.stderr
        except (OSError, subprocess.TimeoutExpired):
            text = ""
        _QEMU_NPU[qemu] = re.search(r'name "ethos-?u', text, re.IGNORECASE) is not None
    return _QEMU_NPU[qemu]


def _qemu_command(elf: Path, icount_shift: int, npu_macs: int | None = None) -> list[str]:
    if npu_macs is None:
        qemu, device = find_tool(QEMU_BINARY), []
    else:
        qemu, device = npu_emulator(), ["-global", f"{NPU_DEVICE}.macs={int(npu_macs)}"]
        if qemu is None and qemu_has_npu():   # a QEMU on PATH with its own Ethos-U model
            qemu, device = find_tool(QEMU_BINARY), []
        if qemu is None:
            raise ToolNotFoundError("the firmware drives the Ethos-U55 device, and byoc's "
                                    "Corstone-300 emulator with the device is not built; run "
                                    "`make setup` (fvp/qemu/build.sh)")
    return [
        str(qemu), "-M", "mps3-an547", "-nographic",
        "-semihosting-config", "enable=on,target=native",
        "-icount", f"shift={icount_shift}", *device,
        "-kernel", str(elf),
    ]


def _fvp_command(fvp: Path, elf: Path, timeout_s: float, npu_macs: int | None = None) -> list[str]:
    """The FVP command line; ``npu_macs`` sets the Ethos-U55's MAC count (``ethosu.num_macs``)
    to the configuration the command streams were compiled for."""
    cmd = [str(fvp)]
    if npu_macs is not None:
        cmd += ["-C", f"ethosu.num_macs={int(npu_macs)}"]
    for setting in (
        "mps3_board.visualisation.disable-visualisation=1",
        "mps3_board.telnetterminal0.start_telnet=0",
        "mps3_board.telnetterminal1.start_telnet=0",
        "mps3_board.telnetterminal2.start_telnet=0",
        "mps3_board.telnetterminal5.start_telnet=0",
        "mps3_board.uart0.out_file=-",
        "mps3_board.uart0.shutdown_on_eot=1",
        "cpu0.semihosting-enable=1",
    ):
        cmd += ["-C", setting]
    cmd += ["-a", str(elf), "--timelimit", str(max(1, math.ceil(timeout_s)))]
    return cmd


def run_firmware(
    elf: Path | str,
    backend: str | None = None,
    timeout_s: float = 60.0,
    *,
    icount_shift: int | None = None,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    npu_macs: int | None = None,
) -> RunResult:
    """Run a firmware ELF to completion and parse what it printed.

    Args:
        elf: firmware built by build_firmware (for a RUNNABLE_CPUS core).
        backend: "qemu", "fvp", or None = the FVP if ``FVP_Corstone_SSE-300_Ethos-U55``
            (or ``-U65``) is on PATH, else QEMU.
        timeout_s: wall-clock limit in seconds (QEMU runs ~100-200 M instructions/s).
        icount_shift: override of the ``-icount`` shift; default = the one in the ELF.
        extra_args: appended to the emulator command line.
        env: environment for the emulator process (default: inherited).
        npu_macs: the firmware drives an Ethos-U55 with this many MACs per cycle: QEMU is
            byoc's emulator with the device (``npu_emulator()``), the FVP gets
            ``ethosu.num_macs``. None: no NPU (stock qemu-system-arm).

    Returns:
        RunResult; a run whose firmware reports status=fail is returned, not raised
        (``exit_code`` is then non-zero).

    Raises:
        ToolNotFoundError: the emulator is missing.
        RunTimeout: still running after ``timeout_s`` (message has the last output lines).
        FirmwareFault: the firmware printed a BYOC_FAULT line, or QEMU reported a lockup.
        EmulatorError: the emulator failed to start or died before BYOC_EXIT.
    """
    elf = Path(elf).resolve()
    backend, cmd, grace_s = _emulator_command(elf, backend, timeout_s, icount_shift, npu_macs)
    cmd += list(extra_args)
    proc, stdout, stderr, wall = _run_emulator(cmd, elf, backend, timeout_s, grace_s, env)
    parsed = _parse_output(stdout)
    _raise_failed_run(parsed, elf, backend, cmd, proc.returncode, stdout, stderr, wall, timeout_s)
    warnings = _run_warnings(parsed, backend, proc.returncode, stderr)
    return RunResult(
        exit_code=parsed.exit_code,
        stdout=stdout,
        result=parsed.result,
        profile=parsed.profile,
        platform=parsed.platform,
        backend=backend,
        wall_time_s=wall,
        command=cmd,
        warnings=warnings,
    )


def _emulator_command(elf: Path, backend: str | None, timeout_s: float,
                      icount_shift: int | None,
                      npu_macs: int | None) -> tuple[str, list[str], float]:
    """The backend ("qemu" or "fvp"), its command line for ``elf`` and the grace time beyond
    ``timeout_s`` (the FVP's own time limit fires first); checks the ELF and its core."""
    if not elf.is_file():
        raise PlatformError(f"firmware {elf} does not exist")
    info = firmware_info(elf)
    cpu = info.get("cpu", "cortex-m55")
    if cpu not in RUNNABLE_CPUS:
        raise PlatformError(f"firmware {elf.name} is built for {cpu}; the Corstone-300 runs "
                            f"{', '.join(RUNNABLE_CPUS)} only (other cores are build-only)")
    if backend is None:
        backend = "fvp" if _fvp_binary() is not None else "qemu"
    if backend == "qemu":
        shift = icount_shift if icount_shift is not None else int(
            info.get("icount_shift", DEFAULT_ICOUNT_SHIFT))
        return backend, _qemu_command(elf, shift, npu_macs), 0.0
    if backend == "fvp":
        fvp = _fvp_binary()
        if fvp is None:
            raise ToolNotFoundError(f"{FVP_BINARIES[0]} not found on PATH (the Arm FVP is "
                                    "installed separately; use backend='qemu')")
        return backend, _fvp_command(fvp, elf, timeout_s, npu_macs), 10.0
    raise PlatformError(f"unknown backend '{backend}'; use 'qemu', 'fvp' or None")


def _run_emulator(cmd: list[str], elf: Path, backend: str, timeout_s: float, grace_s: float,
                  env: Mapping[str, str] | None
                  ) -> tuple[subprocess.Popen, str, str, float]:
    """Run the emulator in its own session: (process, stdout, stderr, wall seconds); past
    the time limit the whole process group is killed and ``RunTimeout`` raised."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                env=dict(env) if env is not None else None)
    except OSError as exc:
        raise EmulatorError(f"cannot start {cmd[0]}: {exc.strerror}") from None
    try:
        out_b, err_b = proc.communicate(timeout=timeout_s + grace_s)
    except subprocess.TimeoutExpired:
        # The emulator runs in its own session: kill the whole group, then collect output.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out_b, err_b = proc.communicate()
        output = out_b.decode("utf-8", "replace")
        raise RunTimeout(f"firmware {elf.name} did not finish within {timeout_s:g} s on "
                         f"{backend}; last output: {_tail(output)}", output, timeout_s) from None
    wall = time.monotonic() - start
    stdout = out_b.decode("utf-8", "replace").replace("\r\n", "\n")
    return proc, stdout, err_b.decode("utf-8", "replace"), wall


def _raise_failed_run(parsed: _Parsed, elf: Path, backend: str, cmd: list[str], returncode: int,
                      stdout: str, stderr: str, wall: float, timeout_s: float) -> None:
    """Raise for a run that faulted, locked up, hit the FVP's time limit or ended before
    the firmware's BYOC_EXIT line."""
    if parsed.fault_line is not None:
        fault = parse_key_values(parsed.fault_line)
        raise FirmwareFault(f"firmware {elf.name} faulted: {parsed.fault_line}", fault,
                            parsed.fault_line, stdout)
    if "Lockup" in stderr:
        line = "BYOC_FAULT type=Lockup"
        raise FirmwareFault(f"firmware {elf.name} locked up (fault inside a fault handler); "
                            f"emulator said: {_tail(stderr, 2)}", {"type": "Lockup"}, line, stdout)
    if parsed.exit_code is None:
        # The FVP stops itself at --timelimit (wording varies across versions).
        said_limit = "time limit" in (stdout + stderr).lower()
        if backend == "fvp" and (wall >= 0.9 * timeout_s or said_limit):
            raise RunTimeout(f"firmware {elf.name} did not finish within {timeout_s:g} s on fvp; "
                             f"last output: {_tail(stdout)}", stdout, timeout_s)
        raise EmulatorError(f"{Path(cmd[0]).name} exited with status {returncode} before the "
                            f"firmware finished: {_tail(stderr or stdout, 3)}", stdout + stderr)


def _run_warnings(parsed: _Parsed, backend: str, returncode: int, stderr: str) -> list[str]:
    """Warnings of a completed run: a failed counter self-check, the emulated NPU's reasons
    for refusing a command stream, a QEMU exit status that differs from BYOC_EXIT."""
    warnings = []
    # The firmware checks its counter against a known loop at boot (see fvp/src/platform.c).
    check = parsed.platform.get("loop_check")
    if parsed.platform.get("counter") == "icount" and check and check != "2000/2000":
        warnings.append(f"instruction counter self-check read {check}: counts are not exact "
                        "(icount shift mismatch?)")
    # The emulated NPU says why it refused a command stream (the driver only sees STATUS).
    warnings += [ln[ln.index(NPU_DEVICE):].strip() for ln in stderr.splitlines()
                 if NPU_DEVICE + ":" in ln][:3]
    if backend == "qemu" and returncode != parsed.exit_code:
        warnings.append(f"QEMU exit status {returncode} differs from BYOC_EXIT "
                        f"code={parsed.exit_code}")
    return warnings

