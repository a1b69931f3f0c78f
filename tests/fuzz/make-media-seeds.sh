#!/usr/bin/env bash
# make-media-seeds.sh - the seed corpus of fuzz_media_reader: tiny real disk
# images made by the standard tools (nothing mounted), raw and uncompressed
# because libFuzzer mutates bytes. Each holds a file in the root, a folder with
# a file, a long name; NTFS adds an alternate data stream, ext2 a symlink,
# a hard link and a sparse file.
#   tests/fuzz/make-media-seeds.sh OUT_DIR
# The committed seeds in tests/fuzz/corpus/fuzz_media_reader/ were made with
# it (see README.md); timestamps and serials are fixed where the tools allow.
# Exit status: 0 ok, 2 error, 77 a tool is missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: make-media-seeds.sh OUT_DIR}
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1
export SOURCE_DATE_EPOCH=1704067200 E2FSPROGS_FAKE_TIME=1704067200   # 2024-01-01
for t in mkfs.vfat:dosfstools mcopy:mtools mmd:mtools sfdisk:fdisk mke2fs:e2fsprogs \
         mkntfs:ntfs-3g ntfscp:ntfs-3g genisoimage:genisoimage python3:python3; do
  command -v "${t%%:*}" >/dev/null || { echo "make-media-seeds.sh: missing ${t%%:*} (Debian package ${t#*:})" >&2; exit 77; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The files every image holds.
SRC=$WORK/src
mkdir -p "$SRC/docs"
printf 'hello from a fuzz seed\n' > "$SRC/HELLO.TXT"
seq 1 400 > "$SRC/docs/numbers.txt"
printf 'a long file name\n' > "$SRC/docs/A long file name.txt"
touch -d @$SOURCE_DATE_EPOCH "$SRC/HELLO.TXT" "$SRC/docs/numbers.txt" "$SRC/docs/A long file name.txt"

# FAT12 filling SIZE_KIB KiB of IMG at byte OFFSET (the partition's start).
fat12() { # fat12 IMG OFFSET_SECTORS SIZE_KIB LABEL
  local img=$1 sectors=$2 kib=$3 label=$4
  # (mkfs.vfat warns "block count mismatch" when the image is larger than the volume)
  mkfs.vfat -F 12 --invariant -i 5eed0001 -n "$label" --offset "$sectors" "$img" "$kib" >/dev/null 2>&1 ||
    { echo "make-media-seeds.sh: mkfs.vfat failed on $img" >&2; exit 2; }
  local at="$img@@$(( sectors * 512 ))"
  mcopy -m -i "$at" "$SRC/HELLO.TXT" ::/HELLO.TXT
  mmd -i "$at" ::/docs
  mcopy -m -i "$at" "$SRC/docs/numbers.txt" "$SRC/docs/A long file name.txt" ::/docs/
}

# A bare FAT12 volume, as small sticks come.
rm -f "$OUT/fat12-64k"
truncate -s 64K "$OUT/fat12-64k"
fat12 "$OUT/fat12-64k" 0 64 SEEDFAT12

# MBR, one FAT12 primary partition at sector 32.
rm -f "$OUT/mbr-fat12-128k"
truncate -s 128K "$OUT/mbr-fat12-128k"
printf 'label: dos\nlabel-id: 0x5eed0002\nstart=32, size=224, type=1\n' | sfdisk -q "$OUT/mbr-fat12-128k"
fat12 "$OUT/mbr-fat12-128k" 32 112 SEEDMBR

# MBR with a primary and a logical FAT12 partition inside an extended one.
rm -f "$OUT/mbr-extended-fat12-192k"
truncate -s 192K "$OUT/mbr-extended-fat12-192k"
printf 'label: dos\nlabel-id: 0x5eed0003\nstart=32, size=128, type=1\nstart=160, size=224, type=5\nstart=192, size=192, type=1\n' |
  sfdisk -q "$OUT/mbr-extended-fat12-192k"
fat12 "$OUT/mbr-extended-fat12-192k" 32 64 SEEDPRIM
fat12 "$OUT/mbr-extended-fat12-192k" 192 96 SEEDLOGIC

# GPT (primary and backup tables), one FAT12 partition.
rm -f "$OUT/gpt-fat12-160k"
truncate -s 160K "$OUT/gpt-fat12-160k"
printf 'label: gpt\nlabel-id: 5EED0004-0000-4000-8000-000000000000\nfirst-lba: 34\nstart=40, size=240, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5EED0004-0000-4000-8000-000000000001\n' |
  sfdisk -q "$OUT/gpt-fat12-160k"
fat12 "$OUT/gpt-fat12-160k" 40 120 SEEDGPT

# ext2 with 1 KiB blocks; a symlink, a hard link and a 20 MiB sparse file
# (larger than the harness reads of any file).
EXT=$WORK/ext
cp -a "$SRC" "$EXT"
ln -s docs/numbers.txt "$EXT/link-to-numbers"
ln "$EXT/HELLO.TXT" "$EXT/docs/hard-link.txt"
truncate -s 20M "$EXT/sparse.bin"
printf 'end' | dd of="$EXT/sparse.bin" bs=1 seek=$(( 20 * 1024 * 1024 - 3 )) conv=notrunc status=none
find "$EXT" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +
rm -f "$OUT/ext2-128k"
mke2fs -q -F -t ext2 -b 1024 -N 32 -m 0 -L SEEDEXT2 -U 5eed0005-0000-4000-8000-000000000000 \
  -E root_owner=0:0,hash_seed=5eed0005-0000-4000-8000-000000000001 -d "$EXT" "$OUT/ext2-128k" 128 >/dev/null

# ISO 9660 with Joliet and Rock Ridge names, no trailing padding.
rm -f "$OUT/iso9660-70k"
genisoimage -quiet -no-pad -V SEEDISO -J -r -o "$WORK/iso" "$SRC"
mv "$WORK/iso" "$OUT/iso9660-70k"

# NTFS at its minimum size (1 MiB volume + the backup boot sector), with a
# folder (ntfs-mkdir.py from the fixtures), files and an alternate data stream.
rm -f "$OUT/ntfs-1m"
truncate -s 1049088 "$OUT/ntfs-1m"
mkntfs -q -F -Q -s 512 -c 512 -p 0 -H 0 -S 0 -L SEEDNTFS "$OUT/ntfs-1m" 2>/dev/null
python3 "$HERE/../fixtures/ntfs-mkdir.py" "$OUT/ntfs-1m" docs
ntfscp -q -t "$OUT/ntfs-1m" "$SRC/HELLO.TXT" /HELLO.TXT
ntfscp -q -t "$OUT/ntfs-1m" "$SRC/docs/numbers.txt" /docs/numbers.txt
ntfscp -q -t "$OUT/ntfs-1m" "$SRC/docs/A long file name.txt" "/docs/A long file name.txt"
printf '[ZoneTransfer]\r\nZoneId=3\r\n' > "$WORK/zone"
ntfscp -q -N Zone.Identifier "$OUT/ntfs-1m" "$WORK/zone" /HELLO.TXT
