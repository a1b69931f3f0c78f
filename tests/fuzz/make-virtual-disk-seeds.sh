#!/usr/bin/env bash
# make-virtual-disk-seeds.sh - the seed corpus of fuzz_virtual_disk: one tiny
# disk (64 KiB: MBR, FAT12, a file) in every virtual disk format the reader
# opens, raw and uncompressed because libFuzzer mutates bytes.
#   tests/fuzz/make-virtual-disk-seeds.sh OUT_DIR
# qemu-img and ewfacquire write what they can write small (a fixed VHD,
# qcow2 with 512-byte clusters, qcow version 1, an E01); their dynamic
# formats allocate 1 or 2 MiB blocks, which would not fit the fuzzer's 1 MiB
# inputs, so the dynamic VHD and the VDI are written here with 4 KiB blocks,
# both VMDKs with 8 KiB grains, and the VHDX with its metadata and block table inside its
# 320 KiB header area and no data block (VHDX data blocks start at 1 MiB
# multiples). qemu-img compare checks every seed it can read against the raw
# disk; the VDI (4 KiB blocks) and the VHDX (regions overlapping its header
# area) are for our own reader only, which tests/unit/reader/VirtualDiskTest.cpp
# checks on qemu-img's own files.
# Exit status: 0 ok, 2 error, 77 a tool is missing.
set -euo pipefail

OUT=${1:?usage: make-virtual-disk-seeds.sh OUT_DIR}
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=1704067200
for t in mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk qemu-img:qemu-utils ewfacquire:ewf-tools python3:python3; do
  command -v "${t%%:*}" >/dev/null || { echo "make-virtual-disk-seeds.sh: missing ${t%%:*} (Debian package ${t#*:})" >&2; exit 77; }
done
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

RAW=$WORK/raw.img
truncate -s 64K "$RAW"
printf 'label: dos\nlabel-id: 0x5eed0010\nstart=8, type=1\n' | sfdisk -q "$RAW"
mkfs.vfat -F 12 --invariant -i 5eed0011 -n SEEDVDISK --offset 8 "$RAW" 56 >/dev/null 2>&1
printf 'hello from inside a virtual disk\n' > "$WORK/HELLO.TXT"
touch -d @$SOURCE_DATE_EPOCH "$WORK/HELLO.TXT"
mcopy -m -i "$RAW@@4096" "$WORK/HELLO.TXT" ::/HELLO.TXT

rm -f "$OUT"/*
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$RAW" "$OUT/fixed.vhd"
qemu-img convert -f raw -O qcow2 -o cluster_size=512 "$RAW" "$OUT/clusters-512.qcow2"
qemu-img convert -f raw -O qcow "$RAW" "$OUT/version-1.qcow"
ewfacquire -u -q -t "$WORK/evidence" -f encase6 -c deflate:fast -C case -D seed -E 1 -e examiner -N notes "$RAW" >/dev/null
mv "$WORK/evidence.E01" "$OUT/evidence.E01"

python3 - "$RAW" "$OUT" <<'EOF'
import struct, sys, uuid, zlib

raw = open(sys.argv[1], 'rb').read()
out = sys.argv[2]
SIZE = len(raw)
BLOCK = 4096
blocks = [raw[i:i + BLOCK] for i in range(0, SIZE, BLOCK)]
used = [i for i, b in enumerate(blocks) if any(b)]
ZERO_UUID = bytes(16)
SEED_UUID = uuid.UUID('5eed0000-0000-4000-8000-000000000001').bytes

def pad(b, n=512):
    return b + bytes(-len(b) % n)

# ---- dynamic VHD, 4 KiB blocks: footer copy, dynamic header, BAT, blocks, footer
def vhd_checksum(b, at):
    return (~sum(b[:at] + b[at + 4:])) & 0xFFFFFFFF

def vhd_footer():
    f = bytearray(512)
    struct.pack_into('>8sIIQI4sIIQQHBBII16sB', f, 0, b'conectix', 2, 0x00010000, 512, 0, b'qkio', 0x00010000,
                     0x5769326B, SIZE, SIZE, 2, 16, 4, 3, 0, SEED_UUID, 0)
    struct.pack_into('>I', f, 64, vhd_checksum(bytes(f), 64))
    return bytes(f)

entries = SIZE // BLOCK
header = bytearray(1024)
struct.pack_into('>8sQQIII', header, 0, b'cxsparse', 0xFFFFFFFFFFFFFFFF, 1536, 0x00010000, entries, BLOCK)
struct.pack_into('>I', header, 36, vhd_checksum(bytes(header), 36))
bat = [0xFFFFFFFF] * entries
data = b''
at = (1536 + pad(bytes(entries * 4)).__len__()) // 512
for i in used:
    bat[i] = at + len(data) // 512
    data += pad(b'\xff') + blocks[i]      # sector bitmap (8 sectors, padded to a sector), then the data
vhd = vhd_footer() + bytes(header) + pad(struct.pack('>%dI' % entries, *bat)) + data + vhd_footer()
open(out + '/dynamic-4k.vhd', 'wb').write(vhd)

# ---- VDI 1.1, 4 KiB blocks
vdi = bytearray(512)
vdi[0:40] = b'<<< Oracle VM VirtualBox Disk Image >>>\n'
struct.pack_into('<IIIII', vdi, 0x40, 0xBEDA107F, 0x00010001, 0x190, 1, 0)
struct.pack_into('<IIIIIIIQIIII16s16s16s16s', vdi, 0x154, 0x200, 0x400, 0, 0, 0, 512, 0, SIZE, BLOCK, 0,
                 entries, len(used), SEED_UUID, SEED_UUID, ZERO_UUID, ZERO_UUID)
vmap = [0xFFFFFFFF] * entries
for n, i in enumerate(used):
    vmap[i] = n
vdi = bytes(vdi) + pad(struct.pack('<%dI' % entries, *vmap)) + b''.join(blocks[i] for i in used)
open(out + '/dynamic-4k.vdi', 'wb').write(vdi)

# ---- VMDK hosted sparse extents, 8 KiB grains (the least libvmdk reads): monolithic sparse and stream-optimized
GRAIN = 16                      # sectors
SECTORS = SIZE // 512
grains_of = [raw[i:i + GRAIN * 512] for i in range(0, SIZE, GRAIN * 512)]
used_grains = [i for i, g in enumerate(grains_of) if any(g)]
def vmdk_header(version, flags, gd, rgd, overhead, compress):
    h = bytearray(512)
    struct.pack_into('<4sIIQQQQIQQQB4sH', h, 0, b'KDMV', version, flags, SECTORS, GRAIN, 1, 2, 512, rgd, gd,
                     overhead, 0, b'\n \r\n', compress)
    return bytes(h)

def descriptor(kind):
    return pad(('# Disk DescriptorFile\nversion=1\nCID=5eed0012\nparentCID=ffffffff\ncreateType="%s"\n\n'
                '# Extent description\nRW %d SPARSE "seed.vmdk"\n\n# The Disk Data Base\n#DDB\n\n'
                'ddb.adapterType = "ide"\n' % (kind, SECTORS)).encode(), 1024)

# monolithic sparse: header, descriptor (sectors 1-2), redundant GD (3), its GT (4-7), GD (8), GT (9-12), grains from 16
gt = [0] * 512
grains = b''
for i in used_grains:
    gt[i] = 16 + len(grains) // 512
    grains += grains_of[i]
table = struct.pack('<512I', *gt)
sparse = (vmdk_header(1, 3, 8, 3, 16, 0) + descriptor('monolithicSparse') + pad(struct.pack('<I', 4)) + table +
          pad(struct.pack('<I', 9)) + table + bytes(512 * 3) + grains)
open(out + '/monolithic-sparse.vmdk', 'wb').write(sparse)

# stream-optimized: grains as markers with deflated data, then the GT, GD, footer and end-of-stream markers
def marker(value, size, kind):
    return pad(struct.pack('<QII', value, size, kind))

body = b''
first = 3                       # header and descriptor come first
gt = [0] * 512
for i in used_grains:
    gt[i] = first + len(body) // 512
    z = zlib.compress(grains_of[i], 9)
    body += pad(struct.pack('<QI', i * GRAIN, len(z)) + z)
gt_at = first + len(body) // 512 + 1
body += marker(4, 0, 1) + struct.pack('<512I', *gt)
gd_at = first + len(body) // 512 + 1
body += marker(1, 0, 2) + pad(struct.pack('<I', gt_at))
body += marker(1, 0, 3) + vmdk_header(3, 0x30001, gd_at, 0, 3, 1) + bytes(512)
stream = vmdk_header(3, 0x30001, 0xFFFFFFFFFFFFFFFF, 0, 3, 1) + descriptor('streamOptimized') + body
open(out + '/stream-optimized.vmdk', 'wb').write(stream)

# ---- VHDX with everything in its 320 KiB header area and no data block (an empty disk)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF

def le_guid(s):
    return uuid.UUID(s).bytes_le

def checksummed(b):
    b = bytearray(b)
    struct.pack_into('<I', b, 4, crc32c(bytes(b)))
    return bytes(b)

vhdx = bytearray(320 * 1024)
vhdx[0:8] = b'vhdxfile'
vhdx[8:8 + 22] = 'qkiosk seed'.encode('utf-16-le')
for n, at in enumerate((64 * 1024, 128 * 1024)):
    h = bytearray(4096)
    struct.pack_into('<4sIQ16s16s16sHHIQ', h, 0, b'head', 0, n + 1, SEED_UUID, SEED_UUID, ZERO_UUID, 0, 1, 0, 0)
    vhdx[at:at + 4096] = checksummed(h)
# The metadata table at 4 KiB, its items 64 KiB further (libvhdi wants them
# there, as the specification does), just past the first header; the block
# table at 72 KiB.
META, ITEMS, BAT = 4 * 1024, 64 * 1024, 72 * 1024
regions = bytearray(64 * 1024)
struct.pack_into('<4sII', regions, 0, b'regi', 0, 2)
struct.pack_into('<16sQII', regions, 16, le_guid('2DC27766-F623-4200-9D64-115E9BFD4A08'), BAT, 4096, 1)
struct.pack_into('<16sQII', regions, 48, le_guid('8B7CA206-4790-4B9A-B8FE-575F050F886E'), META, ITEMS + 4096, 1)
regions = checksummed(regions)
vhdx[192 * 1024:256 * 1024] = regions
vhdx[256 * 1024:320 * 1024] = regions
items = [('CAA16737-FA36-4D43-B3B6-33F0AA44E76B', struct.pack('<II', 1 << 20, 0), 4),
         ('2FA54224-CD1B-4876-B211-5DBED83BF4B8', struct.pack('<Q', SIZE), 6),
         ('8141BF1D-A96F-4709-BA47-F233A8FAAB5F', struct.pack('<I', 512), 6),
         ('CDA348C7-445D-4471-9CC9-E9885251C556', struct.pack('<I', 512), 6),
         ('BECA12AB-B2E6-4523-93EF-C309E000C746', SEED_UUID, 6)]
struct.pack_into('<8sHH', vhdx, META, b'metadata', 0, len(items))
for n, (g, value, flags) in enumerate(items):
    offset = ITEMS + 64 * n
    struct.pack_into('<16sIII', vhdx, META + 32 + 32 * n, le_guid(g), offset, len(value), flags)
    vhdx[META + offset:META + offset + len(value)] = value
# The block table: one entry for the one data block, not present (zeros).
open(out + '/empty-in-header-area.vhdx', 'wb').write(bytes(vhdx))
EOF

for seed in dynamic-4k.vhd:vpc monolithic-sparse.vmdk:vmdk stream-optimized.vmdk:vmdk fixed.vhd:vpc \
            clusters-512.qcow2:qcow2 version-1.qcow:qcow; do
  qemu-img compare -q -f "${seed#*:}" -F raw "$OUT/${seed%%:*}" "$RAW" ||
    { echo "make-virtual-disk-seeds.sh: qemu-img does not read ${seed%%:*} as the raw disk" >&2; exit 2; }
done
ls -l "$OUT"
