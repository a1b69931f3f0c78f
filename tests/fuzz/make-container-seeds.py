#!/usr/bin/env python3
"""make-container-seeds.py OUT_DIR [--payload FILE]

Writes small containers, byte by byte, for the parsers of scanner/formats the
scanner relies on: the seeds of fuzz_zip_directory and fuzz_installers, and
the synthetic installers of tests/integration/ContainerTest.cpp (no Inno
Setup compiler runs on Linux, so its installers are built here to the layout
Inno Setup's loader reads, as innoextract documents it).

  OUT_DIR/fuzz_zip_directory/  stored.zip zip64.zip sfx.zip comment.zip empty.zip
  OUT_DIR/fuzz_installers/     inno-5.exe inno-4.exe nsis.exe msi.msi appended.exe program.exe

--payload FILE puts FILE's bytes into the installers' appended data (as an
installer would carry it, packed in its own format: here simply stored).
"""
import argparse
import os
import struct
import zipfile
import zlib


def pe(resources=b"", overlay=b"", inno_pointer=None):
    """A minimal PE32 program: one code section, an optional resource section,
    `overlay` appended after the last section."""
    file_align, sect_align = 0x200, 0x1000
    sections = [(b".text\0\0\0", b"\xc3" + b"\0" * 0x1FF, 0x60000020)]
    if resources:
        sections.append((b".rsrc\0\0\0", resources, 0x40000040))
    header_size = 0x200
    dos = bytearray(b"MZ" + b"\0" * 0x3E)
    struct.pack_into("<I", dos, 0x3C, 0x40)
    if inno_pointer is not None:   # Inno Setup before 5.1.5: "Inno", offset, ~offset at 0x30
        struct.pack_into("<III", dos, 0x30, 0x6F6E6E49, inno_pointer, inno_pointer ^ 0xFFFFFFFF)
    opt = bytearray(224)
    raw_offsets, va = [], sect_align
    raw = header_size
    for _, data, _ in sections:
        raw_offsets.append((va, raw, len(data)))
        raw += (len(data) + file_align - 1) // file_align * file_align
        va += (len(data) + sect_align - 1) // sect_align * sect_align
    struct.pack_into("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII", opt, 0,
                     0x10B, 14, 0, 0x200, 0, 0, 0x1000, 0x1000, 0x2000, 0x400000, sect_align, file_align,
                     4, 0, 0, 0, 4, 0, 0, va, header_size, 0, 2, 0, 0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    if resources:
        rva, _, size = raw_offsets[1]
        struct.pack_into("<II", opt, 96 + 2 * 8, rva, size)
    coff = struct.pack("<HHIIIHH", 0x14C, len(sections), 0, 0, 0, len(opt), 0x0102)
    table = b""
    for (name, data, flags), (rva, off, size) in zip(sections, raw_offsets):
        table += name + struct.pack("<IIIIIIHHI", size, rva, (size + file_align - 1) // file_align * file_align,
                                    off, 0, 0, 0, 0, flags)
    out = bytearray(bytes(dos) + b"PE\0\0" + coff + bytes(opt) + table)
    out += b"\0" * (header_size - len(out))
    for (_, data, _), (_, off, _) in zip(sections, raw_offsets):
        out += data + b"\0" * (-len(data) % file_align)
    return bytes(out) + overlay, raw_offsets


def rcdata_11111():
    """The directories of a resource section holding RCDATA #11111 (language
    1033); its data entry and data follow. Returns (bytes, data's offset)."""
    def directory(entries):
        return struct.pack("<IIHHHH", 0, 0, 0, 0, 0, len(entries)) + b"".join(struct.pack("<II", i, o) for i, o in entries)
    root = directory([(10, 0x80000000 | 0x18)])
    names = directory([(11111, 0x80000000 | 0x30)])
    langs = directory([(1033, 0x48)])
    head = root + names + langs
    assert len(head) == 0x48
    return head, 0x58


def inno_table(header_offset, data_offset, modern=True):
    """Inno Setup's offset table: 5.1.5 and later (revision field) or 4.1.6."""
    if modern:
        body = b"rDlPtS\xcd\xe6\xd7{\x0b*" + struct.pack("<IIIIIII", 1, 0, 0, 0, 0, header_offset, data_offset)
    else:
        body = b"rDlPtS07\x87eVx" + struct.pack("<IIIIII", 0, 0, 0, 0, header_offset, data_offset)
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def setup_data(payload):
    return b"Inno Setup Setup Data (6.2.2) (u)".ljust(64, b"\0") + payload


def inno5(payload):
    # The table's place depends on the image size, which depends on the table: lay out twice.
    for _ in range(2):
        head, data_at = rcdata_11111()
        section_rva = 0x2000
        table = inno_table(0, 0)
        rsrc = head + struct.pack("<IIII", section_rva + data_at, len(table), 0, 0) + table
        image, _ = pe(rsrc)
        table = inno_table(len(image), len(image) + 64)
        rsrc = head + struct.pack("<IIII", section_rva + data_at, len(table), 0, 0) + table
    image, _ = pe(rsrc, setup_data(payload))
    return image


def inno4(payload):
    image, _ = pe()
    table_at = len(image)
    table = inno_table(table_at + 40, table_at + 40 + 64, modern=False)
    image, _ = pe(overlay=table + setup_data(payload), inno_pointer=table_at)
    return image


def nsis(payload):
    image, _ = pe()
    first = struct.pack("<I", 0) + b"\xef\xbe\xad\xdeNullsoftInst" + struct.pack("<II", 0, len(payload) + 28)
    return image + first + payload


def msi():
    """An OLE2 compound file whose root storage has the MSI class (and no streams)."""
    sector = 512
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    # directory sectors (0 in version 3), FAT sectors, first directory sector,
    # transaction, mini stream cutoff, first mini FAT sector, mini FAT sectors
    struct.pack_into("<IIIIIII", header, 40, 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0)
    struct.pack_into("<II", header, 68, 0xFFFFFFFE, 0)   # no DIFAT sectors
    struct.pack_into("<I", header, 76, 0)          # the first FAT sector: 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE) + b"\xff" * (sector - 8)   # the FAT, the directory
    root = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    root[0:len(name)] = name
    struct.pack_into("<HBB", root, 64, len(name), 5, 1)
    struct.pack_into("<III", root, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    root[80:96] = bytes.fromhex("84100c0000000000c000000000000046")
    struct.pack_into("<I", root, 116, 0xFFFFFFFE)
    directory = bytes(root) + b"\0" * (sector - 128)
    return bytes(header) + fat + directory + b"\0" * sector


def zip64_stored(name, data):
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, zlib.crc32(data), 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), 20) + name + struct.pack("<HHQQ", 1, 16, len(data), len(data)) + data
    extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, zlib.crc32(data), 0xFFFFFFFF,
                          0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
    cd_at = len(local)
    end64_at = cd_at + len(central)
    end64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), cd_at)
    locator = struct.pack("<IIQI", 0x07064B50, 0, end64_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + central + end64 + locator + end


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--payload")
    a = ap.parse_args()
    payload = open(a.payload, "rb").read() if a.payload else b"files an installer would install\n" * 8
    zd = os.path.join(a.out, "fuzz_zip_directory")
    inst = os.path.join(a.out, "fuzz_installers")
    os.makedirs(zd, exist_ok=True)
    os.makedirs(inst, exist_ok=True)

    def zipped(path, members, comment=b"", method=zipfile.ZIP_STORED):
        with zipfile.ZipFile(path, "w", method) as z:
            for n, d in members:
                z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), d)
            z.comment = comment
    zipped(os.path.join(zd, "stored.zip"), [("readme.txt", b"hello\n"), ("dir/", b""), ("dir/notes.txt", b"notes\n")])
    zipped(os.path.join(zd, "comment.zip"), [("a.txt", b"a" * 100)], b"a comment at the end", zipfile.ZIP_DEFLATED)
    zipped(os.path.join(zd, "empty.zip"), [])
    with open(os.path.join(zd, "zip64.zip"), "wb") as f:
        f.write(zip64_stored(b"big.bin", b"zip64 member\n"))
    stub, _ = pe()
    with open(os.path.join(zd, "stored.zip"), "rb") as f:
        archive = f.read()
    with open(os.path.join(zd, "sfx.zip"), "wb") as f:
        f.write(stub + archive)

    for name, data in [("inno-5.exe", inno5(payload)), ("inno-4.exe", inno4(payload)), ("nsis.exe", nsis(payload)),
                       ("msi.msi", msi()), ("appended.exe", pe(overlay=setup_data(payload))[0]),
                       ("program.exe", pe()[0])]:
        with open(os.path.join(inst, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
