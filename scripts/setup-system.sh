#!/usr/bin/env bash
# Install the Debian packages byoc needs, only those that are missing. Idempotent.
# Cross toolchain + newlib (firmware), QEMU (Corstone-300 = mps3-an547), CMake + Ninja,
# and a host C compiler (validation on the host).
set -euo pipefail
packages=(gcc make gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
          qemu-system-arm cmake ninja-build python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "byoc setup: missing Debian packages: ${missing[*]}" >&2
    echo "byoc setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "byoc setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
