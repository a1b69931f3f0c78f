#!/usr/bin/env bash
# Installs the Debian 12 packages qkiosk needs to build, test and demo, and
# only those that are missing. Used by ./demo.sh and ./test.sh.
#   scripts/install-deps.sh [build|test|bench]   (default: test)
set -euo pipefail

build_pkgs=(g++ cmake make pkg-config libclamav-dev libtsk-dev libmagic-dev libudev-dev libusb-1.0-0-dev
            nlohmann-json3-dev libtomlplusplus-dev libseccomp-dev libsodium-dev libsqlite3-dev
            libcairo2-dev libpango1.0-dev libqrencode-dev fonts-ipafont-gothic libgnutls28-dev
            libncurses-dev gettext libpam0g-dev libarchive-dev
            libvhdi-dev libvmdk-dev libqcow-dev libewf-dev libbfio-dev)   # virtual disks (scanner/reader/VirtualDisk.h)
# What the kiosk itself runs: mtools writes an officer's log export onto the
# FAT filesystem of a stick without mounting it (kiosk/officer/FatExport.h).
runtime_pkgs=(mtools)
# Tools that make real filesystem images at test time (mtools too, above), and clamscan to compare with.
# The container tests (tests/integration/ContainerTest.cpp) make every archive,
# stream, filesystem image, virtual disk and installer the scanner must open or name.
fixture_pkgs=(dosfstools ntfs-3g e2fsprogs genisoimage xorriso fdisk exfatprogs
              zip python3 coreutils
              p7zip-full zstd lz4 lzip squashfs-tools wimtools qemu-utils nsis msitools
              ewf-tools gdisk syslinux-utils isolinux syslinux-common)   # sgdisk, isohybrid, the isolinux boot code and its ldlinux.c32 for the layout tests; qemu-img and ewfacquire write the virtual disks the reader's tests open
test_pkgs=(catch2 clamav clamav-testfiles sleuthkit file umockdev libumockdev-dev
           qemu-system-x86 linux-image-amd64 busybox-static cpio xz-utils
           clang libclang-rt-14-dev
           zbar-tools poppler-utils cups cups-client cups-bsd tmux
           rsyslog rsyslog-gnutls gnutls-bin openssl tzdata)   # a real syslog collector for the forwarding tests
bench_pkgs=(clamav-daemon clamdscan p7zip-full time hyperfine)

case "${1:-test}" in
  build) want=("${runtime_pkgs[@]}" "${build_pkgs[@]}" "${fixture_pkgs[@]}") ;;
  test)  want=("${runtime_pkgs[@]}" "${build_pkgs[@]}" "${fixture_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) want=("${runtime_pkgs[@]}" "${build_pkgs[@]}" "${fixture_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
