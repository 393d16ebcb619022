#!/usr/bin/env bash
# Install the Debian packages byoc needs, only those that are missing. Idempotent.
# Cross toolchain + newlib (firmware), QEMU (Corstone-300 = mps3-an547), CMake + Ninja,
# and a host C compiler (validation on the host). For byoc's Corstone-300 emulator with the
# Ethos-U55 device (fvp/qemu/build.sh): QEMU's build dependencies for one arm-softmmu target
# (glib, pixman, libfdt, zlib, meson, pkg-config; dpkg-dev for dpkg-source) and a deb-src
# entry, so that `apt-get source` fetches Debian's own source of the installed QEMU.
set -euo pipefail
packages=(gcc make gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
          qemu-system-arm cmake ninja-build python3-venv
          dpkg-dev patch pkg-config meson libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# A deb-src entry for Debian's archive: added (once) when no source index is configured.
src_list=/etc/apt/sources.list.d/byoc-deb-src.sources
need_src=0
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  need_src=1
fi
if [ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ] && apt-cache showsrc qemu >/dev/null 2>&1 \
   && [ -n "$(apt-cache showsrc qemu 2>/dev/null)" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    [ ${#missing[@]} -eq 0 ] || echo "byoc setup: missing Debian packages: ${missing[*]}" >&2
    [ $need_src -eq 0 ] || echo "byoc setup: no deb-src entry (needed for the QEMU source)" >&2
    echo "byoc setup: run as root (or with sudo): bash scripts/setup-system.sh" >&2
    exit 1
  fi
else
  SUDO=
fi
if [ $need_src -eq 1 ]; then
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ -z "$codename" ] || ! grep -qs '^ID=debian' /etc/os-release; then
    echo "byoc setup: not Debian (or no codename): add a deb-src entry for qemu yourself" >&2
    exit 1
  fi
  # The source entries mirror the machine's own Debian binary entries (same archive, suites and
  # keyring), so setup names no archive of its own: deb822 stanzas signed by Debian's archive key,
  # and one-line `deb` entries for this release's suites.
  entries=$(
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && [ "$f" != "$src_list" ] || continue
      awk 'BEGIN { RS = ""; ORS = "\n\n" }
           /(^|\n)Types:[^\n]*deb/ && /debian-archive-keyring/ {
             out = ""; n = split($0, lines, "\n")
             for (i = 1; i <= n; i++) {
               if (lines[i] ~ /^#/) continue
               if (lines[i] ~ /^Types:/) lines[i] = "Types: deb-src"
               out = out lines[i] "\n"
             }
             printf "%s\n", out }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk -v c="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ "^" c "(-|$)") {
                               sub(/^deb/, "deb-src"); print; next } }' "$f"
    done)
  if [ -z "$entries" ]; then
    echo "byoc setup: no Debian archive entry found to derive a deb-src entry from: add one for qemu yourself" >&2
    exit 1
  fi
  echo "byoc setup: adding deb-src entries ($src_list)"
  if printf '%s\n' "$entries" | grep -q '^Types:'; then
    printf '# Added by byoc scripts/setup-system.sh (apt-get source qemu): the Debian entries as sources.\n%s\n' \
      "$(printf '%s\n' "$entries" | grep -v '^deb-src ')" | $SUDO tee "$src_list" >/dev/null
  fi
  oneline=$(printf '%s\n' "$entries" | grep '^deb-src ' || true)
  if [ -n "$oneline" ]; then
    printf '# Added by byoc scripts/setup-system.sh (apt-get source qemu).\n%s\n' "$oneline" \
      | $SUDO tee "${src_list%.sources}.list" >/dev/null
  fi
fi
echo "byoc setup: apt-get update${missing[*]:+, installing ${missing[*]}}"
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
