"""The Corstone-300 platform wires the Ethos-U55 interrupt (external IRQ 56) to the Ethos-U
driver's ``ethosu_irq_handler``: a firmware pends that interrupt in software (NVIC ISPR and
STIR) on QEMU and sees the handler run in exception 72 with the driver it attached, and a
detached interrupt masked by the vector. Needs arm-none-eabi-gcc, cmake, ninja, QEMU."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from byoc.platform import corstone300 as platform
from toolchain import require_tools

HARNESS = Path(__file__).parent / "data" / "platform" / "npu_irq_main.c"
NPU_IRQ = 56  # Corstone-300 ETHOS_U55_IRQn (Arm's SSE-300 device header)


def _lines(stdout: str) -> list[dict[str, str]]:
    return [platform.parse_key_values(line) for line in stdout.splitlines()
            if line.startswith("NPU_IRQ via=")]


@pytest.mark.parametrize("cpu, vias", [("cortex-m55", ["ispr", "stir", "detached"]),
                                       ("cortex-m4", ["ispr", "stir", "detached"]),
                                       ("cortex-m0plus", ["ispr", "detached"])])
def test_npu_interrupt_reaches_ethosu_irq_handler(tmp_path, cpu, vias):
    require_tools()
    elf = platform.build_firmware(None, [HARNESS], cpu=cpu, build_dir=tmp_path / "fw")
    run = platform.run_firmware(elf, backend="qemu", timeout_s=20)
    steps = _lines(run.stdout)
    assert [s["via"] for s in steps] == vias, run.stdout
    for s in steps:
        assert s["count"] == "1", run.stdout
        if s["via"] == "detached":
            assert s["handler_calls"] == "0", run.stdout
        else:
            assert s["handler_calls"] == "1" and s["driver_ok"] == "1", run.stdout
            assert int(s["exception"]) == 16 + NPU_IRQ, run.stdout
    assert "NPU_IRQ result=pass" in run.stdout and run.exit_code == 0, run.stdout
    assert _vector_entry_is_npu_isr(elf)


def _vector_entry_is_npu_isr(elf: Path) -> bool:
    """Entry 16 + 56 of the linked vector table holds byoc_npu_irq_isr (Thumb bit set)."""
    nm = platform.find_tool("arm-none-eabi-nm")
    symbols = {}
    for line in subprocess.run([str(nm), str(elf)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    data, sections = platform._elf_sections(elf)
    vectors = symbols["byoc_vectors"]
    sec = next(s for s in sections if s.addr <= vectors < s.addr + s.size and s.type == 1)
    off = sec.offset + vectors - sec.addr + 4 * (16 + NPU_IRQ)
    entry = int.from_bytes(data[off:off + 4], "little")
    return entry & ~1 == symbols["byoc_npu_irq_isr"] & ~1 and bool(entry & 1)
