"""Tests of the Corstone-300 platform: CMake/toolchain build, QEMU runs, result parsing,
faults, timeouts, link-time overflow errors, instruction counting and build-only cores.

All firmwares are built once per session, in parallel, from the fake model package and
harnesses in tests/data/platform/. Needs arm-none-eabi-gcc, cmake, ninja, qemu-system-arm:
without them the tests are skipped, unless CI or BYOC_REQUIRE_TOOLCHAIN=1 is set (then
they fail).
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from byoc.platform import corstone300 as platform
from toolchain import require_tools

DATA = Path(__file__).parent / "data" / "platform"
MODEL = DATA / "fake_model"
HARNESS = DATA / "harness_main.c"
MODES = DATA / "modes_main.c"
BIG_CONSTANTS = 600 * 1024  # bytes: more than the 512 KiB ITCM

# name -> build_firmware keyword arguments
BUILDS: dict[str, dict] = {
    "pass": dict(model_dir=MODEL, harness_sources=[HARNESS], profile=True),
    "wrong": dict(model_dir=MODEL, harness_sources=[HARNESS],
                  extra_defines={"WRONG_EXPECTATION": None}),
    "udf": dict(model_dir=None, harness_sources=[MODES], extra_defines={"TEST_MODE": 1}),
    "bus": dict(model_dir=None, harness_sources=[MODES], extra_defines={"TEST_MODE": 2}),
    "stack": dict(model_dir=None, harness_sources=[MODES], extra_defines={"TEST_MODE": 3}),
    "busy": dict(model_dir=None, harness_sources=[MODES], extra_defines={"TEST_MODE": 4}),
    "big_constants": dict(model_dir=MODEL, harness_sources=[HARNESS],
                          extra_defines={"TEST_BIG_CONSTANTS": BIG_CONSTANTS}),
    "arena_overflow": dict(model_dir=MODEL, harness_sources=[HARNESS],
                           extra_defines={"TEST_ARENA_SIZE": 8 * 1024 * 1024}),
    "secure_aliases": dict(model_dir=MODEL, harness_sources=[HARNESS],
                           memory=platform.SECURE_ALIAS_MEMORY),
}
OTHER_CPUS = [c for c in platform.SUPPORTED_CPUS if c != "cortex-m55"]
for _cpu in OTHER_CPUS:
    BUILDS[f"cpu_{_cpu}"] = dict(model_dir=MODEL, harness_sources=[HARNESS], cpu=_cpu,
                                 profile=True)



@pytest.fixture(scope="session")
def firmwares(tmp_path_factory) -> dict[str, Path | Exception]:
    """Every firmware of BUILDS: the ELF path, or the exception its build raised."""
    require_tools()
    root = tmp_path_factory.mktemp("firmware")

    def build(name: str) -> Path | Exception:
        try:
            return platform.build_firmware(build_dir=root / name, **BUILDS[name])
        except platform.PlatformError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(BUILDS, pool.map(build, BUILDS)))


def elf(firmwares: dict, name: str) -> Path:
    built = firmwares[name]
    if isinstance(built, Exception):
        raise AssertionError(f"build of {name} failed: {built}")
    return built


@pytest.fixture(scope="session")
def pass_run(firmwares) -> platform.RunResult:
    return platform.run_firmware(elf(firmwares, "pass"), backend="qemu", timeout_s=20)


# ------------------------------------------------------------------------- results


def test_fake_model_passes(pass_run):
    assert pass_run.passed, pass_run.stdout
    assert pass_run.exit_code == 0
    assert pass_run.backend == "qemu"
    assert pass_run.result["status"] == "pass"
    assert pass_run.result["mismatches"] == "0"
    assert pass_run.result["arena_bytes"] == "64"
    assert pass_run.instructions is not None and pass_run.instructions > 0
    assert pass_run.platform["counter"] == "icount"
    assert pass_run.platform["cpu"] == "cortex-m55"
    assert pass_run.warnings == []


def test_profile_lines(pass_run):
    names = [(p.op, p.name, p.calls) for p in pass_run.profile]
    assert names == [(0, "add_const", 1), (1, "copy_out", 1)]
    assert all(p.instructions > 0 for p in pass_run.profile)
    # Hook overhead is inside the total, never inside an operator's count.
    assert sum(p.instructions for p in pass_run.profile) < pass_run.instructions


def test_wrong_expectation_fails(firmwares):
    run = platform.run_firmware(elf(firmwares, "wrong"), backend="qemu", timeout_s=20)
    assert run.result["status"] == "fail"
    assert run.result["mismatches"] == "1"
    assert run.exit_code == 1
    assert not run.passed
    assert "BYOC_MISMATCH output=output index=15 got=34 expected=35" in run.stdout


# ------------------------------------------------------------------------- counter


def _test_counter_line(run: platform.RunResult) -> dict[str, str]:
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("TEST_COUNTER"))
    return platform.parse_key_values(line)


def test_counter_empty_region_and_known_loop(pass_run):
    counts = _test_counter_line(pass_run)
    # An empty start/stop region reads exactly 0 after overhead subtraction.
    assert counts["empty"] == "0"
    # 1000 x 4-instruction loop body = 4000, plus the call: mov, movs, bl, bx (+4).
    # Stated tolerance: 4000..4008.
    assert 4000 <= int(counts["loop4000"]) <= 4008
    assert pass_run.platform["loop_check"] == "2000/2000"


def test_counts_are_deterministic(firmwares, pass_run):
    again = platform.run_firmware(elf(firmwares, "pass"), backend="qemu", timeout_s=20)
    assert again.instructions == pass_run.instructions
    assert again.profile == pass_run.profile
    assert _test_counter_line(again) == _test_counter_line(pass_run)


def test_wrong_icount_shift_is_flagged(firmwares):
    run = platform.run_firmware(elf(firmwares, "pass"), backend="qemu", timeout_s=20,
                                icount_shift=8)
    assert any("self-check" in w for w in run.warnings), run.warnings


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name, fault_type, reason", [
    ("udf", "UsageFault", "undefined_instruction"),
    ("bus", "BusFault", "data_bus_error"),
    ("stack", "UsageFault", "stack_overflow"),
])
def test_fault_is_reported(firmwares, name, fault_type, reason):
    with pytest.raises(platform.FirmwareFault) as info:
        platform.run_firmware(elf(firmwares, name), backend="qemu", timeout_s=20)
    err = info.value
    assert err.fault["type"] == fault_type
    assert err.fault["reason"] == reason
    assert err.fault["pc"].startswith("0x")
    assert "BYOC_EXIT code=3" in err.output
    assert "\n" not in str(err)


def test_busy_loop_times_out(firmwares):
    with pytest.raises(platform.RunTimeout) as info:
        platform.run_firmware(elf(firmwares, "busy"), backend="qemu", timeout_s=1.0)
    assert "TEST_MODE start" in str(info.value)
    assert "1 s" in str(info.value)


def test_arena_overflow_names_region(firmwares):
    err = firmwares["arena_overflow"]
    assert isinstance(err, platform.FirmwareBuildError), err
    message = str(err)
    assert "region `SRAM2' overflowed by 4194304 bytes" in message
    assert ".byoc_arena" in message
    assert "\n" not in message
    assert "collect2" in err.log  # the full log is kept


def test_big_constants_move_to_ddr(firmwares):
    path = elf(firmwares, "big_constants")
    _, sections = platform._elf_sections(path)
    constants = next(s for s in sections if s.name == ".byoc_constants")
    assert constants.addr == 0x60000000
    assert constants.size >= BIG_CONSTANTS
    run = platform.run_firmware(path, backend="qemu", timeout_s=20)
    assert run.passed, run.stdout


def test_secure_alias_memory_map_runs(firmwares):
    path = elf(firmwares, "secure_aliases")
    _, sections = platform._elf_sections(path)
    addr = {s.name: s.addr for s in sections}
    assert addr[".vectors"] == 0x10000000 and addr[".byoc_arena"] == 0x31000000
    assert platform.run_firmware(path, backend="qemu", timeout_s=20).passed


def test_emulator_failure_is_reported(firmwares):
    with pytest.raises(platform.EmulatorError, match="invalid option"):
        platform.run_firmware(elf(firmwares, "pass"), backend="qemu", extra_args=["-bogus"])


def test_missing_emulator_says_make_setup(firmwares, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(platform.ToolNotFoundError, match="make setup"):
        platform.run_firmware(elf(firmwares, "pass"), backend="qemu")
    with pytest.raises(platform.ToolNotFoundError, match="arm-none-eabi-gcc|cmake"):
        platform.build_firmware(MODEL, [HARNESS], tmp_path / "b")


# ------------------------------------------------------------------------- ELF facts


def test_elf_sizes_and_info(firmwares):
    path = elf(firmwares, "pass")
    sizes = platform.elf_sizes(path)
    assert sizes["code_bytes"] > 1000
    assert sizes["arena_bytes"] == 64
    assert sizes["constants_bytes"] >= 3 * 16  # model constant + input + expected
    assert sizes["rodata_bytes"] >= sizes["constants_bytes"]
    assert sizes["bss_bytes"] >= sizes["arena_bytes"]
    assert sizes["stack_bytes"] == 0x10000
    info = platform.firmware_info(path)
    assert info["cpu"] == "cortex-m55"
    assert info["icount_shift"] == str(platform.DEFAULT_ICOUNT_SHIFT)


@pytest.mark.parametrize("cpu", OTHER_CPUS)
def test_other_cores_run_on_the_m55(firmwares, pass_run, cpu):
    """A firmware built for another core runs on the Corstone-300's Cortex-M55 (a superset
    of its instruction set): it passes, and its count is that build's own."""
    path = elf(firmwares, f"cpu_{cpu}")
    assert platform.firmware_info(path)["cpu"] == cpu
    assert platform.elf_sizes(path)["code_bytes"] > 0
    run = platform.run_firmware(path, backend="qemu")
    assert run.passed, run.stdout[-2000:]
    assert run.instructions > 0
    assert [(p.op, p.name, p.calls) for p in run.profile] == \
        [(p.op, p.name, p.calls) for p in pass_run.profile]


# ------------------------------------------------------------------------- FVP backend


def test_fvp_is_preferred_when_on_path(firmwares, tmp_path, monkeypatch):
    """A stand-in FVP records its arguments and prints what a firmware would."""
    args_file = tmp_path / "args.txt"
    fake = tmp_path / "FVP_Corstone_SSE-300_Ethos-U55"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{args_file}"\n'
        'echo "telnetterminal0: Listening for serial connection on port 5000"\n'
        'echo "BYOC_RESULT status=pass mismatches=0 instructions=77 arena_bytes=64"\n'
        'printf "BYOC_EXIT code=0\\n\\004"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    run = platform.run_firmware(elf(firmwares, "pass"), timeout_s=30)
    assert run.backend == "fvp"
    assert run.passed and run.instructions == 77
    args = args_file.read_text().splitlines()
    assert args[args.index("-a") + 1] == str(elf(firmwares, "pass"))
    for setting in ("mps3_board.uart0.out_file=-", "mps3_board.uart0.shutdown_on_eot=1",
                    "cpu0.semihosting-enable=1",
                    "mps3_board.visualisation.disable-visualisation=1"):
        assert setting in args
    assert args[args.index("--timelimit") + 1] == "30"


# ------------------------------------------------------------------------- parsing


def test_parse_key_values():
    line = "BYOC_RESULT status=pass mismatches=0 instructions=12 arena_bytes=64 extra=x"
    assert platform.parse_key_values(line) == {
        "status": "pass", "mismatches": "0", "instructions": "12", "arena_bytes": "64",
        "extra": "x"}


def test_build_summary_keeps_linker_words():
    log = ("[1/2] Linking C executable firmware.elf\nFAILED: firmware.elf\n"
           "/usr/bin/../arm-none-eabi/bin/ld: firmware.elf section `.byoc_arena' will not fit "
           "in region `ARENA'\n/usr/bin/ld: region `ARENA' overflowed by 12 bytes\n"
           "collect2: error: ld returned 1 exit status\n")
    summary = platform._summarise_build_log(log)
    assert summary == ("firmware.elf section `.byoc_arena' will not fit in region `ARENA'; "
                       "region `ARENA' overflowed by 12 bytes")


def test_one_cpu_table_the_toolchain_file_accepts_the_same_cores():
    """byoc.cpus is the one list of cores: the CMake toolchain file's BYOC_CPU choices, each
    with its architecture flags, the platform's, the compiler's and the kernel paths equal it."""
    import re

    from byoc import cmsisnn_params, compiler, cpus

    text = platform.TOOLCHAIN_FILE.read_text()
    listed = re.search(r"set\(_byoc_cpus ([^)]*)\)", text).group(1).split()
    assert tuple(listed) == cpus.CORTEX_M
    for cpu in cpus.CORTEX_M:
        assert f'BYOC_CPU STREQUAL "{cpu}"' in text, cpu
        assert cmsisnn_params.kernel_path(cpu) in cpus.PATH_NAMES
    assert platform.SUPPORTED_CPUS == cpus.CORTEX_M
    assert compiler.CPUS == cpus.CORTEX_M + ("host",)
    assert {cmsisnn_params.kernel_path(c) for c in cpus.PATH_CPUS.values()} == set(cpus.PATH_CPUS)
    assert all(cmsisnn_params.kernel_path(c) == p for p, c in cpus.PATH_CPUS.items())
