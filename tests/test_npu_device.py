"""byoc's Corstone-300 emulator with the Ethos-U55 as a device (fvp/qemu: Debian's QEMU plus
byoc's device at 0x48102000 / IRQ 56 executing command streams with the functional model).

* registers, interrupt, soft reset, PMU and errors through a firmware that drives the device
  with hand-written command streams (tests/data/platform/npu_device_main.c): a DMA job, and
  malformed streams (unknown opcode, no STOP, a region that is not RAM, an operation beyond
  the watchdog's work limit) that give a driver error and leave the NPU usable;
* Vela payloads through the driver API on the device, outputs compared with TFLM on the
  target, for every MAC configuration; a payload compiled for another configuration is refused;
* Arm's driver (with Arm's sources) on the device, bit-exact;
* whole models: ``byoc validate`` on the device is bit-exact with TFLM, reports the CPU's
  instructions alone and the NPU cycles of the PMU, which equal the functional model's
  estimate when the model runs in the firmware instead.

Skipped when the device emulator is not built (``make setup`` builds it; a failure in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import byoc
from byoc import zoo
from byoc.platform import corstone300 as platform
from toolchain import require_tools

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "kernels_c" / "ethosu" / "test"))
import ethosu_testlib as tl  # noqa: E402

from byoc.ethosu import compile_vela  # noqa: E402



def require_device() -> None:
    """The toolchain, and the device emulator: skipped locally without it, a failure in CI
    (or with BYOC_REQUIRE_TOOLCHAIN=1), where `make setup` must have built it."""
    require_tools()
    if platform.npu_emulator() is None:
        message = ("byoc's Corstone-300 emulator with the Ethos-U55 device is not built: run "
                   "`make setup` (fvp/qemu/build.sh)")
        if os.environ.get("CI") or os.environ.get("BYOC_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(message)
        pytest.skip(message)

DEVICE_MAIN = REPO / "tests" / "data" / "platform" / "npu_device_main.c"
ARM_PKG = REPO / "tests" / "data" / "arm_driver_pkg"
#: Vela cases run through the driver on the device (single operators and two networks).
CASES = ("conv_1_9x7x3_k3s1Sd1_5_none", "conv_4_12x12x5_k3s1Sd2_7_none", "dw_mult2", "fc_40_10",
         "avgpool_3x3_s1_same", "add_bcast_c", "mul", "softmax_4x5x33", "tanh", "mean_hw",
         "concat_channels")


def test_device_registers_interrupt_reset_and_errors(tmp_path):
    require_device()
    elf = platform.build_firmware(tl.FW_PKG, [DEVICE_MAIN], tmp_path / "fw",
                                  cmake_args=["-DBYOC_ETHOSU_DRIVER=npu"])
    run = platform.run_firmware(elf, backend="qemu", timeout_s=60, npu_macs=128)
    checks = {kv["check"]: kv for kv in (platform.parse_key_values(line) for line in
                                         run.stdout.splitlines() if line.startswith("NPU_DEV check="))}
    expected = ["dma_job", "dma_job_one_interrupt", "dma_job_pmu_cycles", "pmu_repeatable",
                "unknown_opcode_fails", "no_stop_fails", "region_not_ram_fails", "watchdog_fails",
                "usable_after_errors", "completes_without_interrupt", "reset_status_clear",
                "prot_after_reset", "raw_done", "raw_pmu_counts", "irq_cleared", "raw_parse_error",
                "fault_sticky", "reset_clears_fault"]
    assert list(checks) == expected, run.stdout
    assert all(c["ok"] == "1" for c in checks.values()), run.stdout
    assert "NPU_DEV hw macs_log2=7 arch_major=1" in run.stdout  # the device's CONFIG/ID
    assert "NPU_DEV result=pass" in run.stdout and run.exit_code == 0
    # the device names each refused stream on stderr (the driver only sees STATUS)
    said = " | ".join(run.warnings)
    assert "unknown cmd0 opcode" in said and "without STOP" in said, said


@pytest.mark.parametrize("accelerator", tl.ACCELERATORS)
def test_vela_payloads_bit_exact_on_device(accelerator, tmp_path):
    require_device()
    singles = {c.name: c for c in tl.single_op_cases()}
    picks = [singles[n] for n in CASES] + tl.multi_op_cases()[:2]
    blobs, expected_rc = [], []
    for i, case in enumerate(picks):
        model = case.build()
        result = compile_vela(model, accelerator)
        inputs = tl.random_inputs(result, i)
        blobs.append(tl.pack_fw_case(result, inputs, tl.tflm_run(model, inputs, len(result.outputs))))
        expected_rc.append(0)
    # compiled for another MAC configuration: the driver refuses it (CONFIG mismatch)
    other = next(a for a in tl.ACCELERATORS if a != accelerator)
    model = picks[0].build()
    result = compile_vela(model, other)
    inputs = tl.random_inputs(result, 0)
    blobs.append(tl.pack_fw_case(result, inputs, tl.tflm_run(model, inputs), expected_rc=-1))
    expected_rc.append(-1)
    macs = int(accelerator.rsplit("-", 1)[1])
    run = tl.build_and_run_firmware(blobs, tmp_path, npu_macs=macs)
    rows = tl.parse_fw_cases(run.stdout)
    assert len(rows) == len(blobs), run.stdout[-3000:]
    for row, exp in zip(rows, expected_rc):
        if exp == 0:
            assert row["rc"] == "0" and row["mismatches"] == "0", row
        else:
            assert int(row["rc"]) < 0, row
    assert run.passed, run.stdout[-3000:]


@pytest.mark.parametrize("name", ["small_cnn", "ds_cnn"])
def test_zoo_model_on_device_vs_model_in_firmware(name, tmp_path):
    require_device()
    model = getattr(zoo, name)()
    target = "ethos-u55-256,cmsis-nn,c"
    device = byoc.validate(model, target=target, backend="qemu", inputs=2, seed=0,
                           work_dir=tmp_path / "device")
    assert device.status == "pass" and device.mismatches == 0, device.details
    assert device.npu_driver == "byoc" and device.npu_pmu_cycles > 0
    compiled = byoc.compile(model, target=target, cpu="cortex-m55", output_dir=tmp_path / "pkg")
    from byoc.firmware import run_on_corstone
    from byoc.validate import random_inputs
    from byoc.tflite.reader import load_model
    samples = random_inputs(load_model(model), 2, 0)
    in_fw = run_on_corstone(compiled, samples, None, backend="qemu", npu_driver="model",
                            work_dir=tmp_path / "model")
    on_dev = run_on_corstone(compiled, samples, None, backend="qemu", npu_driver="npu",
                             work_dir=tmp_path / "dev")
    assert in_fw.npu_driver == "model" and on_dev.npu_driver == "byoc"
    for a, b in zip(in_fw.outputs, on_dev.outputs):
        for x, y in zip(a, b):
            assert (x == y).all()
    # the device firmware has the driver API and no functional model; the fallback has it
    assert {"ethosu_invoke_v3", "ethosu_irq_handler"} <= _symbols(on_dev.elf)
    assert "em_run_commands" not in _symbols(on_dev.elf)
    assert "em_run_commands" in _symbols(in_fw.elf)
    # one source of NPU semantics: the PMU reports the model's own count
    assert on_dev.npu_cycles_per_sample == in_fw.npu_cycles_per_sample
    # the CPU no longer executes the NPU's work
    assert on_dev.instructions * 100 < in_fw.instructions


def _symbols(elf: Path) -> set[str]:
    nm = platform.find_tool("arm-none-eabi-nm")
    out = subprocess.run([str(nm), str(elf)], capture_output=True, text=True, check=True).stdout
    return {parts[2] for parts in (line.split() for line in out.splitlines()) if len(parts) == 3}


def test_validate_with_arm_driver_on_device(tmp_path):
    """``byoc validate --target ethos-u55-256,cmsis-nn,c --ethosu-driver-path ...``: Arm's
    driver in the firmware, no functional model, bit-exact on the device, CPU instructions and
    PMU cycles reported separately."""
    driver, cmsis = os.environ.get("BYOC_ARM_ETHOSU_DRIVER"), os.environ.get("BYOC_ARM_CMSIS")
    if not driver or not cmsis:
        pytest.skip("needs BYOC_ARM_ETHOSU_DRIVER and BYOC_ARM_CMSIS (Arm's sources)")
    require_device()
    res = byoc.validate(zoo.small_cnn(), target="ethos-u55-256,cmsis-nn,c", backend="qemu",
                        inputs=2, seed=0, work_dir=tmp_path, ethosu_driver_path=driver,
                        cmsis_path=cmsis)
    assert res.status == "pass" and res.mismatches == 0, res.details
    assert res.npu_driver == "arm" and res.npu_pmu_cycles > 0 and res.instructions > 0
    symbols = _symbols(tmp_path / "firmware" / "build" / "firmware.elf")
    assert {"ethosu_invoke_v3", "ethosu_irq_handler", "ethosu_dev_run_command_stream"} <= symbols
    assert "em_run_commands" not in symbols


def test_arm_driver_on_device(tmp_path):
    """Arm's ethos-u-core-driver (BYOC_ARM_ETHOSU_DRIVER, CMSIS-Core from BYOC_ARM_CMSIS)
    runs Vela payloads on the device: bit-exact with TFLM, the interrupt wired to its
    ethosu_irq_handler by the platform."""
    driver, cmsis = os.environ.get("BYOC_ARM_ETHOSU_DRIVER"), os.environ.get("BYOC_ARM_CMSIS")
    if not driver or not cmsis:
        pytest.skip("needs BYOC_ARM_ETHOSU_DRIVER and BYOC_ARM_CMSIS (Arm's sources)")
    require_device()
    singles = {c.name: c for c in tl.single_op_cases()}
    picks = [singles[n] for n in CASES[:6]] + tl.multi_op_cases()[:1]
    blobs = []
    for i, case in enumerate(picks):
        model = case.build()
        result = compile_vela(model, "ethos-u55-128")
        inputs = tl.random_inputs(result, i)
        blobs.append(tl.pack_fw_case(result, inputs, tl.tflm_run(model, inputs, len(result.outputs))))
    data_c = tl.write_fw_data(blobs, tmp_path / "ethosu_case_data.c")
    elf = platform.build_firmware(ARM_PKG, [tl.FW_MAIN, data_c], tmp_path / "fw",
                                  constants_region="DDR",
                                  cmake_args=[f"-DETHOSU_DRIVER_PATH={driver}", f"-DCMSIS_PATH={cmsis}",
                                              "-DETHOSU_MACS=128"])
    run = platform.run_firmware(elf, backend="qemu", timeout_s=60, npu_macs=128)
    rows = tl.parse_fw_cases(run.stdout)
    assert len(rows) == len(blobs), run.stdout[-3000:]
    assert all(r["rc"] == "0" and r["mismatches"] == "0" for r in rows), rows
    assert run.passed, run.stdout[-3000:]
