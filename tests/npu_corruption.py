"""Corrupt the Ethos-U command stream of a compiled byoc package (corpus class ``npu``).

``corrupt_package(pkg, name)`` rewrites ``<prefix>_ethosu_0_command_stream`` in
``src/<prefix>_constants.c`` (or the stream length passed to the driver in
``src/<prefix>_ops.c``) with one of ``CORRUPTIONS``. ``python tests/npu_corruption.py host
PKG X.npy`` builds the package for the host with -Werror and ASan/UBSan, runs it once and
exits 0 (ran), 2 with one ``byoc: error:`` line (the run function returned an error code)
or 3 (anything else: a sanitizer report, a crash).
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np

_ARRAY = re.compile(r"(_ethosu_0_command_stream\[(\d+)\] = \{)([^}]*)(\})")


def _words(cs: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(cs) // 4}I", cs))


def _pack(words: list[int]) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


def _cmd_start(words: list[int]) -> int:
    """Index of the first command word after the COP1 header's actions."""
    i = 1
    while i < len(words):
        action = words[i] & 0xFF
        if action == 1:
            i += 3
        elif action == 2:
            return i + 1
        else:
            i += 1
    return len(words)


def _patch_register(words: list[int], opcode: int, value: int) -> list[int]:
    """Set every occurrence of register ``opcode`` (cmd1: payload word; cmd0: parameter)."""
    out, i = list(words), _cmd_start(words)
    while i < len(out):
        w = out[i]
        if w & 0x4000:
            if opcode & 0x4000 and w & 0x3FF == opcode & 0x3FF and i + 1 < len(out):
                out[i + 1] = value
            i += 2
        else:
            if not opcode & 0x4000 and w & 0x3FF == opcode:
                out[i] = (w & 0xFFFF) | (value << 16)
            i += 1
    return out


def _flip(seed: int) -> Callable[[bytes], bytes]:
    def f(cs: bytes) -> bytes:
        rng = np.random.default_rng(seed)
        buf = bytearray(cs)
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, len(buf)))
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        return bytes(buf)
    return f


def _set_word(index_fn, value_fn) -> Callable[[bytes], bytes]:
    def f(cs: bytes) -> bytes:
        w = _words(cs)
        k = index_fn(w)
        w[k] = value_fn(w[k])
        return _pack(w)
    return f


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "bad_magic": lambda cs: b"XXXX" + cs[4:],
    "no_stop": _set_word(lambda w: len(w) - 1, lambda v: 0x0012),
    "unknown_opcode": _set_word(_cmd_start, lambda v: 0x01FE),
    "ifm_base_far": lambda cs: _pack(_patch_register(_words(cs), 0x4000, 0x7FFFFFF0)),
    "ofm_base_far": lambda cs: _pack(_patch_register(_words(cs), 0x4010, 0x7FFFFFF0)),
    "zero_strides_wide_ofm": lambda cs: _pack(_patch_register(_patch_register(_patch_register(
        _words(cs), 0x4014, 0), 0x4004, 0), 0x111, 0xFFFF)),
    "giant_kernel": lambda cs: _pack(_patch_register(_patch_register(
        _words(cs), 0x120, 0xFFFF), 0x121, 0xFFFF)),
    "u65_config": _set_word(lambda w: 2, lambda v: v | (1 << 28)),
    "512_macs_config": _set_word(lambda w: 2, lambda v: (v & ~0xF) | 9),
    "header_zeroed": lambda cs: cs[:4] + bytes(8) + cs[12:],
    **{f"bitflip_{s}": _flip(s) for s in range(5)},
}
#: Length passed to the driver instead of the stream's size (truncations).
TRUNCATIONS = {"truncated_to_8": 8, "truncated_to_half": None, "length_not_multiple_of_4": -2}
CORRUPTIONS.update({k: (lambda cs: cs) for k in TRUNCATIONS})


def corrupt_package(pkg: Path, name: str) -> None:
    consts = next((pkg / "src").glob("*_constants.c"))
    text = consts.read_text()
    m = _ARRAY.search(text)
    if m is None:
        raise RuntimeError(f"{consts}: no command stream array")
    size = int(m.group(2))
    cs = bytes(int(v) for v in m.group(3).replace("\n", " ").split(",") if v.strip())
    new = CORRUPTIONS[name](cs)
    assert len(new) == size
    body = ",".join(str(b) for b in new)
    consts.write_text(text[:m.start(3)] + body + text[m.end(3):])
    if name in TRUNCATIONS:
        ops = next((pkg / "src").glob("*_ops.c"))
        cut = TRUNCATIONS[name]
        length = size // 2 & ~3 if cut is None else (size + cut if cut < 0 else cut)
        src = ops.read_text()
        pattern = f"_ethosu_0_command_stream, {size},"
        assert pattern in src
        ops.write_text(src.replace(pattern, f"_ethosu_0_command_stream, {length},"))


def run_host(pkg: Path, x_path: Path) -> int:
    import json
    import tempfile

    from byoc import host
    from byoc.firmware import load_package, io_tensors
    compiled = load_package(pkg)
    inputs, outputs = io_tensors(compiled)
    work = Path(tempfile.mkdtemp(prefix="byoc_npu_corrupt_"))
    exe = host.build_host(pkg, compiled.prefix, inputs, outputs, work / "build", sanitize=True,
                          opt="-O1")
    x = np.load(x_path)
    (work / "in.bin").write_bytes(np.ascontiguousarray(x).tobytes())
    proc = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin"), "1"],
                          capture_output=True, text=True, timeout=120)
    del json
    if proc.returncode == 0:
        print("ran")
        return 0
    m = re.search(r"run returned (-?\d+)", proc.stderr)
    if proc.returncode == 4 and m and "runtime error" not in proc.stderr:
        print(f"byoc: error: {compiled.prefix}_run returned {m.group(1)}", file=sys.stderr)
        return 2
    print(f"harness exit {proc.returncode}: {proc.stderr[-1500:]}")
    return 3


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "host":
        print("usage: npu_corruption.py host PKG X.npy", file=sys.stderr)
        sys.exit(64)
    sys.exit(run_host(Path(sys.argv[2]), Path(sys.argv[3])))
