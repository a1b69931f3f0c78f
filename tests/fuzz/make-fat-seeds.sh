#!/usr/bin/env bash
# make-fat-seeds.sh - the seed corpus of fuzz_fat_volume: small FAT volumes
# made by mkfs.vfat and mtools (nothing mounted), raw and uncompressed
# because libFuzzer mutates bytes. Each holds a file in the root, a folder
# with a file, a long name, a Japanese long name, an empty file and a hidden
# one, so that every kind of directory entry is there to mutate.
#   tests/fuzz/make-fat-seeds.sh OUT_DIR
# The committed seeds in tests/fuzz/corpus/fuzz_fat_volume/ were made with
# it (see README.md); they come out byte for byte the same on every run.
# Exit status: 0 ok, 2 error, 77 a tool is missing.
set -euo pipefail

OUT=${1:?usage: make-fat-seeds.sh OUT_DIR}
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1
export SOURCE_DATE_EPOCH=1704067200   # 2024-01-01
for t in mkfs.vfat:dosfstools mcopy:mtools mmd:mtools mattrib:mtools python3:python3; do
  command -v "${t%%:*}" >/dev/null || { echo "make-fat-seeds.sh: missing ${t%%:*} (Debian package ${t#*:})" >&2; exit 77; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SRC=$WORK/src
mkdir -p "$SRC/docs"
printf 'hello from a fuzz seed\n' > "$SRC/HELLO.TXT"
seq 1 400 > "$SRC/docs/numbers.txt"
printf 'a long file name\n' > "$SRC/docs/A long file name.txt"
printf '放射線科\n' > "$SRC/docs/検査結果_2026年度.txt"
: > "$SRC/empty"
printf 'hidden\n' > "$SRC/hidden.dat"
find "$SRC" -exec touch -d @$SOURCE_DATE_EPOCH {} +

mkfs() { # mkfs IMG SIZE_KIB SERIAL LABEL MKFS_ARGS...
  local img=$1 kib=$2 serial=$3 label=$4
  shift 4
  rm -f "$img"
  truncate -s "${kib}K" "$img"
  mkfs.vfat --invariant -i "$serial" -n "$label" "$@" "$img" >/dev/null 2>&1 ||
    { echo "make-fat-seeds.sh: mkfs.vfat $* failed on $img" >&2; exit 2; }
}

fill() { # fill IMG
  mcopy -m -i "$1" "$SRC/HELLO.TXT" "$SRC/empty" "$SRC/hidden.dat" ::/
  mattrib -i "$1" +h ::/hidden.dat
  mmd -i "$1" ::/docs
  mcopy -m -i "$1" "$SRC/docs/numbers.txt" "$SRC/docs/A long file name.txt" "$SRC/docs/検査結果_2026年度.txt" ::/docs/
}

# FAT12, 512-byte sectors and clusters, a root folder of 64 entries.
mkfs "$OUT/fat12-48k" 48 5eed0101 SEEDFAT12 -F 12 -s 1 -r 64
fill "$OUT/fat12-48k"

# FAT12 with 4096-byte sectors.
mkfs "$OUT/fat12-4k-sectors-64k" 64 5eed0102 SEED4K -F 12 -S 4096 -s 1
fill "$OUT/fat12-4k-sectors-64k"

# FAT16 needs 4085 clusters and more (2 MiB with 512-byte clusters): only its
# first 48 KiB are kept (boot sector, both FATs, the root folder, the files),
# a volume larger than its media as a truncated image is.
mkfs "$WORK/fat16.img" 2200 5eed0103 SEEDFAT16 -F 16 -s 1
fill "$WORK/fat16.img"
head -c 49152 "$WORK/fat16.img" > "$OUT/fat16-cut-48k"

# FAT32 as Windows and Linux read it (the FAT32 form of the boot sector),
# with 100 clusters. mtools cannot write into such a volume (it follows the
# specification's cluster count and takes it for FAT16), so a FAT32 of
# 67,000 clusters is made and filled first, then cut down: its FATs to their
# first sector, its data area to its first 100 clusters, and the boot sector
# (and its backup) told so.
mkfs "$WORK/fat32.img" 33792 5eed0104 SEEDFAT32 -F 32 -s 1
fill "$WORK/fat32.img"
python3 - "$WORK/fat32.img" "$OUT/fat32-100-clusters" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
bps, = struct.unpack_from('<H', src, 11)
reserved, = struct.unpack_from('<H', src, 14)
fats = src[16]
fat_sectors, = struct.unpack_from('<I', src, 36)
backup, = struct.unpack_from('<H', src, 50)
keep_fat, keep_clusters = 1, 100          # one FAT sector holds entries 0 to 127
out = bytearray(src[:reserved * bps])
for k in range(fats):
    at = (reserved + k * fat_sectors) * bps
    out += src[at:at + keep_fat * bps]
data = (reserved + fats * fat_sectors) * bps
out += src[data:data + keep_clusters * bps]
for boot in (0, backup * bps):
    struct.pack_into('<I', out, boot + 32, reserved + fats * keep_fat + keep_clusters)
    struct.pack_into('<I', out, boot + 36, keep_fat)
struct.pack_into('<I', out, bps + 488, 0xFFFFFFFF)   # FSInfo: free cluster count unknown
open(sys.argv[2], 'wb').write(out)
PY
ls -l "$OUT"
