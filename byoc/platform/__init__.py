"""Target platforms that build and run firmware for compiled models.

``corstone300``: Arm Corstone-300 (Cortex-M55), run on QEMU ``mps3-an547`` or the Arm FVP.
"""

from .corstone300 import (
    RUNNABLE_CPUS,
    SECURE_ALIAS_MEMORY,
    SUPPORTED_CPUS,
    EmulatorError,
    FirmwareBuildError,
    FirmwareFault,
    PlatformError,
    ProfileEntry,
    RunResult,
    RunTimeout,
    ToolNotFoundError,
    build_firmware,
    elf_sizes,
    find_tool,
    firmware_info,
    parse_key_values,
    run_firmware,
)

__all__ = [
    "RUNNABLE_CPUS",
    "SECURE_ALIAS_MEMORY",
    "SUPPORTED_CPUS",
    "EmulatorError",
    "FirmwareBuildError",
    "FirmwareFault",
    "PlatformError",
    "ProfileEntry",
    "RunResult",
    "RunTimeout",
    "ToolNotFoundError",
    "build_firmware",
    "elf_sizes",
    "find_tool",
    "firmware_info",
    "parse_key_values",
    "run_firmware",
]
