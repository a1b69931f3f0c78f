#!/usr/bin/env bash
# make-layout-seeds.sh - the seed corpus of fuzz_layout: the first sectors of
# sticks laid out in every way Layout.h reads (DOS tables with EBR chains,
# GPT of 512- and 4096-byte sectors, hybrid MBRs, a boot sector that is also
# a table, an isohybrid ISO, bare ext, a Sun label, a FAT volume hidden
# outside the partitions), made by the standard tools plus the byte edits
# Layout's tests use, and kept small (about 110 KiB in all): what matters is
# the structures at the front, so images are cut short where that is enough.
#   tests/fuzz/make-layout-seeds.sh OUT_DIR
# Exit status: 0 ok, 2 error, 77 a tool is missing.
set -euo pipefail

OUT=${1:?usage: make-layout-seeds.sh OUT_DIR}
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C.UTF-8
export SOURCE_DATE_EPOCH=1704067200 E2FSPROGS_FAKE_TIME=1704067200   # 2024-01-01
for t in sfdisk:fdisk fdisk:fdisk mkfs.vfat:dosfstools mke2fs:e2fsprogs genisoimage:genisoimage \
         isohybrid:syslinux-utils; do
  command -v "${t%%:*}" >/dev/null || { echo "make-layout-seeds.sh: missing ${t%%:*} (Debian package ${t#*:})" >&2; exit 77; }
done
[[ -f /usr/lib/ISOLINUX/isolinux.bin ]] || { echo "make-layout-seeds.sh: missing isolinux.bin (Debian package isolinux)" >&2; exit 77; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# poke FILE OFFSET HEX: writes bytes at OFFSET.
poke() { printf "$(sed 's/../\\x&/g' <<<"$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# entry BOOT TYPE START COUNT: a DOS table entry in hex (little-endian, CHS 0).
le32() { printf '%02x%02x%02x%02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )); }
entry() { printf '%02x000000%02x000000%s%s' "$1" "$2" "$(le32 "$3")" "$(le32 "$4")"; }
fresh() { rm -f "$1"; truncate -s "$2" "$1"; }

# Two primary partitions, the second of type 0 (Linux and libtsk read it).
fresh "$OUT/mbr-two-primary-8k" 8K
printf 'label: dos\nlabel-id: 0x5eed1001\nstart=4, size=4, type=c\nstart=8, size=8, type=83\n' | sfdisk -q "$OUT/mbr-two-primary-8k"
poke "$OUT/mbr-two-primary-8k" $(( 446 + 16 + 4 )) 00

# A primary and three logical partitions in a chain of EBRs.
fresh "$OUT/mbr-extended-chain-12k" 12K
printf 'label: dos\nlabel-id: 0x5eed1002\nstart=2, size=2, type=1\nstart=4, size=20, type=5\nstart=5, size=2, type=c\nstart=8, size=2, type=83\nstart=11, size=2, type=7\n' |
  sfdisk -q "$OUT/mbr-extended-chain-12k"

# GPT (both tables, entry arrays of 4 entries: one sector) with one partition.
fresh "$OUT/gpt-8k" 8K
printf 'label: gpt\nlabel-id: 5EED1003-0000-4000-8000-000000000000\ntable-length: 4\nfirst-lba: 3\nstart=4, size=8, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5EED1003-0000-4000-8000-000000000001\n' |
  sfdisk -q "$OUT/gpt-8k"

# The same GPT with its primary header damaged (its disk GUID changed, its
# CRC not): the backup is read.
cp "$OUT/gpt-8k" "$OUT/gpt-damaged-primary-8k"
poke "$OUT/gpt-damaged-primary-8k" $(( 512 + 56 )) ff

# A hybrid MBR: the protective entry, GPT partition 2 again, and an entry of its own.
fresh "$OUT/gpt-hybrid-mbr-8k" 8K
printf 'label: gpt\nlabel-id: 5EED1004-0000-4000-8000-000000000000\ntable-length: 4\nfirst-lba: 3\nstart=3, size=2, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5EED1004-0000-4000-8000-000000000001\nstart=5, size=2, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5EED1004-0000-4000-8000-000000000002\n' |
  sfdisk -q "$OUT/gpt-hybrid-mbr-8k"
poke "$OUT/gpt-hybrid-mbr-8k" 446 "$(entry 0 238 1 4)$(entry 0 7 5 2)$(entry 0 1 7 4)"

# GPT of 4096-byte sectors, cut after its entry array (no backup: no finding).
fresh "$WORK/gpt4k" 1M
printf 'g\nn\n1\n6\n+16K\nw\n' | fdisk -b 4096 "$WORK/gpt4k" >/dev/null
head -c 24K "$WORK/gpt4k" > "$OUT/gpt-4096-primary-only-24k"

# A FAT12 boot sector whose table area points at a second FAT12 volume
# (16 root entries: a FAT volume's structures must fit in what is cut out).
# The smallest FAT12 mkfs.vfat makes is 48 KiB; cut after the first's FATs
# and root folder, so the partition runs past the end.
fresh "$WORK/both" 96K
mkfs.vfat -F 12 -r 16 --invariant -i 5eed1005 "$WORK/both" 48 >/dev/null 2>&1
mkfs.vfat -F 12 -r 16 --invariant -i 5eed1006 --offset 96 "$WORK/both" 48 >/dev/null 2>&1
poke "$WORK/both" 446 "$(entry 0 1 96 96)"
head -c 4K "$WORK/both" > "$OUT/fat12-and-mbr-4k"

# An isohybrid ISO: the MBR and the ISO 9660 descriptor at 32 KiB.
mkdir -p "$WORK/iso/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin "$WORK/iso/isolinux/"
printf 'hello\n' > "$WORK/iso/HELLO.TXT"
find "$WORK/iso" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +
genisoimage -quiet -V SEEDHYB -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
  -boot-info-table -o "$WORK/hyb.iso" "$WORK/iso"
isohybrid -i 1 "$WORK/hyb.iso"
head -c 34K "$WORK/hyb.iso" > "$OUT/isohybrid-34k"

# A bare ext2: its superblock at 1 KiB.
mke2fs -q -F -t ext2 -b 1024 -N 16 -m 0 -U 5eed1007-0000-4000-8000-000000000000 \
  -E root_owner=0:0,hash_seed=5eed1007-0000-4000-8000-000000000001 "$WORK/ext2" 64 >/dev/null
head -c 3K "$WORK/ext2" > "$OUT/ext2-superblock-3k"

# A Sun label (read through libtsk).
fresh "$WORK/sun" 8M
printf 's\nw\n' | fdisk "$WORK/sun" >/dev/null 2>&1
head -c 1K "$WORK/sun" > "$OUT/sun-label-1k"

# One partition at sector 8 and a FAT12 volume hidden at sector 32, outside it.
fresh "$WORK/hidden" 1M
printf 'label: dos\nlabel-id: 0x5eed1008\nstart=8, size=8, type=83\n' | sfdisk -q "$WORK/hidden"
mkfs.vfat -F 12 -r 16 --invariant -i 5eed1009 --offset 32 "$WORK/hidden" 48 >/dev/null 2>&1
head -c 20K "$WORK/hidden" > "$OUT/mbr-hidden-fat12-20k"

ls -l "$OUT"
