#!/usr/bin/env python3
"""Deterministic file tree of mixed USB-stick content for the qkiosk benchmark.

Writes OUT/tree and OUT/corpus.json.  All content comes from fixed seeds,
except the ELF programs, which are copied from this machine's /usr/bin,
/usr/sbin and /usr/lib/x86_64-linux-gnu (chosen by a seeded generator from the
sorted list, so the same Debian installation gives the same tree).

Composition (fractions of --size-mb; 1024 MB gives the numbers in brackets):
  Small/      5000 * S/1024 files of 1-20 KB in nested folders  [5000, ~52 MB]
  Documents/  text PDFs (some Flate-compressed, some with images),
              zip-based .docx/.xlsx-like files                   [~15 %]
  Text/       .txt .csv .html .json .xml .md                     [~5 %]
  Programs/   ELF copies (linux/), synthetic PE32 .exe/.dll (windows/) [~14 %]
  Data/       random-ish binary .dat/.bin                        [~4 %]
  Archives/   .zip, .tar.gz, .7z of mixed files, some nested; one nested
              zip holds the EICAR test file                      [~20 %]
  Large/      three files of 6 %, 11 % and 18 % of S (an uncompressed .tar,
              a text log, random data)                         [61-184 MB]
"""
import argparse
import gzip
import io
import json
import math
import os
import random
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

EPOCH = 1711962000                      # 2024-04-01 09:00:00 UTC, every mtime
ZIP_DT = (2024, 4, 1, 9, 0, 0)
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
MB = 1024 * 1024

WORDS = """
the of and to in is for on with as by at from that this be are was patient
report imaging scan study series contrast dose protocol radiology department
clinic ward nurse doctor physician referral history diagnosis treatment
follow-up result normal abnormal finding impression technique comparison
chest abdomen pelvis head neck spine knee shoulder liver kidney lung heart
vessel artery vein lesion nodule mass fracture edema effusion inflammation
maintenance service vendor firmware update calibration detector tube gantry
console workstation network printer backup archive schedule shift meeting
minutes agenda budget invoice order delivery inventory supply pharmacy
laboratory specimen blood urine culture sensitivity antibiotic medication
allergy vital sign pressure pulse temperature oxygen saturation weight height
admission discharge transfer emergency outpatient inpatient consent form
policy procedure training manual checklist incident review quality safety
infection control hygiene hand isolation precaution mask glove gown
system software version release note issue ticket resolved pending closed
data file folder export import record log entry user account password
should must may can will not no yes all any each per within after before
during between under over about into through against without among
""".split()
SURNAMES = ("sato suzuki takahashi tanaka watanabe ito yamamoto nakamura "
            "kobayashi kato yoshida yamada sasaki yamaguchi matsumoto inoue "
            "kimura hayashi shimizu yamazaki mori abe ikeda hashimoto").split()
DEPTS = ["Radiology", "Cardiology", "Laboratory", "Pharmacy", "Nursing",
         "Administration", "ICU", "Surgery", "Pediatrics", "Maintenance",
         "Endoscopy", "Rehabilitation"]


# --------------------------------------------------------------- content --
def words(rng, n):
    return rng.choices(WORDS, k=n)


def text_blob(rng, size):
    """Paragraphs of pseudo-English, about `size` bytes."""
    out = []
    total = 0
    while total < size:
        n = rng.randint(20, 120)
        para = " ".join(words(rng, n)).capitalize() + ".\n\n"
        out.append(para)
        total += len(para)
    return "".join(out)[:size].encode()


def csv_blob(rng, size):
    out = ["id,patient_id,date,department,code,value,unit,comment\n"]
    total = len(out[0])
    i = 0
    while total < size:
        i += 1
        line = (f"{i},{rng.randrange(10**7):07d},2023-{rng.randint(1,12):02d}-"
                f"{rng.randint(1,28):02d},{rng.choice(DEPTS)},{rng.choice('ABCDEFGH')}"
                f"{rng.randrange(1000):03d},{rng.uniform(0, 500):.2f},"
                f"{rng.choice(['mg/dL','mmol/L','%','bpm','mmHg','U/L'])},"
                f"{' '.join(words(rng, rng.randint(0, 6)))}\n")
        out.append(line)
        total += len(line)
    return "".join(out)[:size].encode()


def html_blob(rng, size):
    head = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            + " ".join(words(rng, 5)) + "</title>\n<style>body{font-family:sans-serif}"
            "td{padding:2px}</style></head>\n<body>\n")
    out = [head]
    total = len(head)
    while total < size - 20:
        r = rng.random()
        if r < 0.5:
            s = f"<p>{' '.join(words(rng, rng.randint(10, 80)))}</p>\n"
        elif r < 0.8:
            s = "<table>" + "".join(
                "<tr>" + "".join(f"<td>{w}</td>" for w in words(rng, 5)) + "</tr>"
                for _ in range(rng.randint(2, 10))) + "</table>\n"
        else:
            s = (f"<a href=\"https://intranet.example-hospital.jp/"
                 f"{rng.choice(DEPTS).lower()}/{rng.randrange(10**6)}\">"
                 f"{' '.join(words(rng, 3))}</a><br>\n")
        out.append(s)
        total += len(s)
    out.append("</body></html>\n")
    return "".join(out).encode()


def json_blob(rng, size):
    items = []
    total = 2
    while total < size:
        it = {"id": rng.randrange(10**9), "name": rng.choice(SURNAMES),
              "dept": rng.choice(DEPTS), "value": round(rng.uniform(0, 1000), 3),
              "tags": words(rng, rng.randint(0, 4)),
              "note": " ".join(words(rng, rng.randint(3, 25)))}
        s = json.dumps(it)
        items.append(s)
        total += len(s) + 2
    return ("[\n" + ",\n".join(items) + "\n]\n").encode()


def xml_blob(rng, size):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<records>\n']
    total = len(out[0])
    while total < size:
        s = (f'  <record id="{rng.randrange(10**8)}" dept="{rng.choice(DEPTS)}">'
             f"<name>{rng.choice(SURNAMES)}</name><text>"
             f"{' '.join(words(rng, rng.randint(5, 40)))}</text></record>\n")
        out.append(s)
        total += len(s)
    out.append("</records>\n")
    return "".join(out).encode()


def log_blob(rng, size):
    """Syslog-like text, built in 4 MB chunks."""
    hosts = [f"ws-{d.lower()}-{i:02d}" for d in DEPTS for i in range(3)]
    procs = ["pacs-sync", "dicomd", "hl7-router", "backup", "sshd", "cron",
             "printd", "license-mgr", "modality-worklist"]
    chunks = []
    total = 0
    t = 0
    while total < size:
        lines = []
        n = 0
        while n < min(4 * MB, size):
            t += rng.randint(0, 5000)
            line = (f"2024-03-{1 + (t // 86_400_000) % 28:02d}T"
                    f"{(t // 3_600_000) % 24:02d}:{(t // 60_000) % 60:02d}:"
                    f"{(t // 1000) % 60:02d}.{t % 1000:03d} {rng.choice(hosts)} "
                    f"{rng.choice(procs)}[{rng.randint(100, 65000)}]: "
                    f"{rng.choice(['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR'])} "
                    f"{' '.join(words(rng, rng.randint(4, 18)))} "
                    f"id={rng.getrandbits(32):08x}\n")
            lines.append(line)
            n += len(line)
        c = "".join(lines).encode()
        chunks.append(c)
        total += len(c)
    return b"".join(chunks)[:size]


def random_ish(rng, size):
    """Mostly random bytes with some runs and repeated blocks (like media
    files, packed data and disk dumps)."""
    out = bytearray()
    while len(out) < size:
        r = rng.random()
        n = rng.randint(4096, 262144)
        if r < 0.75:
            out += rng.randbytes(n)
        elif r < 0.85:
            out += bytes([rng.choice((0, 0xFF))]) * n
        else:
            blk = rng.randbytes(rng.randint(16, 512))
            out += (blk * (n // len(blk) + 1))[:n]
    return bytes(out[:size])


def png_blob(rng, size):
    """A valid RGB PNG of about `size` bytes (noisy pixels, zlib level 1)."""
    px = max(16, int(math.sqrt(max(size, 200) / 3.2)))
    w = h = px
    raw = bytearray()
    base = rng.randbytes(w * 3)
    for y in range(h):
        raw.append(0)
        if rng.random() < 0.4:
            raw += base
        else:
            raw += rng.randbytes(w * 3)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 1)) + chunk(b"IEND", b""))


def pdf_blob(rng, size):
    """A text PDF with Helvetica pages, some Flate-compressed streams and,
    for bigger files, Flate image XObjects, until about `size` bytes."""
    compress = rng.random() < 0.6
    objs = {}
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    page_ids = []
    nxt = 4
    total = 500
    while total < size:
        lines = []
        y = 800
        for _ in range(rng.randint(25, 60)):
            lines.append(f"BT /F1 10 Tf 50 {y} Td ({' '.join(words(rng, rng.randint(6, 14)))}) Tj ET")
            y -= 13
        content = "\n".join(lines).encode()
        img_id = None
        if size > 200_000 and rng.random() < 0.5:
            side = rng.randint(64, 400)
            pix = rng.randbytes(side * side * 3) if rng.random() < 0.5 else \
                (rng.randbytes(side * 3) * side)
            data = zlib.compress(pix, 1)
            img_id = nxt
            nxt += 1
            objs[img_id] = (f"<< /Type /XObject /Subtype /Image /Width {side} /Height {side} "
                            f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
                            f"/Length {len(data)} >>\nstream\n").encode() + data + b"\nendstream"
            content += f"\nq 200 0 0 200 300 100 cm /Im{img_id} Do Q".encode()
            total += len(data) + 200
        if compress:
            data = zlib.compress(content, 6)
            cobj = (f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
                    + data + b"\nendstream")
        else:
            data = content
            cobj = f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"
        cid = nxt
        pid = nxt + 1
        nxt += 2
        objs[cid] = cobj
        xo = f" /XObject << /Im{img_id} {img_id} 0 R >>" if img_id else ""
        objs[pid] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                     f"/Resources << /Font << /F1 3 0 R >>{xo} >> /Contents {cid} 0 R >>").encode()
        page_ids.append(pid)
        total += len(data) + 250
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = (f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] "
               f"/Count {len(page_ids)} >>").encode()
    objs[nxt] = (f"<< /Title ({' '.join(words(rng, 4))}) /Producer (qkiosk bench) "
                 f"/CreationDate (D:20240401090000Z) >>").encode()
    info = nxt
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offs = {}
    for i in sorted(objs):
        offs[i] = len(out)
        out += f"{i} 0 obj\n".encode() + objs[i] + b"\nendobj\n"
    xref = len(out)
    n = max(objs) + 1
    out += f"xref\n0 {n}\n0000000000 65535 f \n".encode()
    for i in range(1, n):
        out += (f"{offs[i]:010d} 00000 n \n" if i in offs else "0000000000 65535 f \n").encode()
    out += (f"trailer\n<< /Size {n} /Root 1 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def zinfo(name):
    zi = zipfile.ZipInfo(name, date_time=ZIP_DT)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.external_attr = 0o644 << 16
    return zi


def make_zip(members, level=6):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for name, data in members:
            z.writestr(zinfo(name), data, compresslevel=level)
    return bio.getvalue()


def docx_blob(rng, size):
    paras = []
    total = 0
    while total < size * 2.5:              # xml deflates ~3-4x
        p = " ".join(words(rng, rng.randint(15, 90)))
        paras.append(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")
        total += len(p) + 40
        if len(paras) > 20000:
            break
    members = [
        ("[Content_Types].xml", b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        ("docProps/core.xml", f'<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{" ".join(words(rng, 4))}</dc:title><dc:creator>{rng.choice(SURNAMES)}</dc:creator></cp:coreProperties>'.encode()),
        ("word/document.xml", ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                               + "".join(paras) + "</w:body></w:document>").encode()),
    ]
    if size > 100_000 and rng.random() < 0.6:
        for k in range(rng.randint(1, 3)):
            members.append((f"word/media/image{k + 1}.png", png_blob(rng, size // 4)))
    return make_zip(members)


def xlsx_blob(rng, size):
    rows = []
    total = 0
    r = 0
    while total < size * 3:
        r += 1
        cells = "".join(f'<c r="{chr(65 + c)}{r}"><v>{rng.uniform(0, 10000):.4f}</v></c>' for c in range(8))
        row = f'<row r="{r}">{cells}</row>'
        rows.append(row)
        total += len(row)
    members = [
        ("[Content_Types].xml", b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        ("_rels/.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml", b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        ("xl/worksheets/sheet1.xml", ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                                      + "".join(rows) + "</sheetData></worksheet>").encode()),
    ]
    return make_zip(members)


X86_SNIPPETS = [b"\x55\x8b\xec", b"\x83\xec\x10", b"\x8b\x45\x08", b"\x89\x45\xfc",
                b"\x50", b"\x51", b"\x52", b"\x53", b"\x56", b"\x57", b"\x5f", b"\x5e",
                b"\x5b", b"\x8b\xe5\x5d\xc3", b"\x33\xc0", b"\x85\xc0", b"\x74\x05",
                b"\x75\x0a", b"\x6a\x00", b"\xcc\xcc\xcc\xcc", b"\x90", b"\xc3"]


def code_bytes(rng, n):
    out = bytearray()
    while len(out) < n:
        if rng.random() < 0.15:
            out += b"\xe8" + struct.pack("<i", rng.randint(-65536, 65536))
        elif rng.random() < 0.1:
            out += b"\x8b\x0d" + struct.pack("<I", 0x400000 + rng.randrange(0x100000))
        else:
            out += rng.choice(X86_SNIPPETS)
    return bytes(out[:n])


def pe_blob(rng, size, dll=False):
    """A structurally valid PE32 (i386) file: .text (x86-like code), .rdata
    (strings), .data (random-ish, the bulk of big files)."""
    fa, sa = 0x200, 0x1000

    def align(v, a):
        return (v + a - 1) // a * a
    body = max(size - 0x400, 0x600)
    text_n = align(max(0x200, body // 4), fa)
    rdata = (" ".join(words(rng, max(20, body // 40))) + "\0").encode()
    rdata_n = align(min(len(rdata), max(0x200, body // 8)), fa)
    data_n = align(max(0x200, body - text_n - rdata_n), fa)
    secs = [(b".text\0\0\0", code_bytes(rng, text_n), 0x60000020),
            (b".rdata\0\0", rdata[:rdata_n].ljust(rdata_n, b"\0"), 0x40000040),
            (b".data\0\0\0", random_ish(rng, data_n), 0xC0000040)]
    hdr_size = 0x400
    raw_ptr = hdr_size
    va = 0x1000
    table = b""
    for name, data, ch in secs:
        table += struct.pack("<8sIIIIIIHHI", name, len(data), va, len(data), raw_ptr, 0, 0, 0, 0, ch)
        raw_ptr += len(data)
        va += align(len(data), sa)
    size_image = va
    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    struct.pack_into("<HHHHHHHHHHHHH", dos, 2, 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    dos[0x40:0x40 + 39] = b"This program cannot be run in DOS mode."
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", 0x14C, len(secs), 0x65F0A000 + rng.randrange(10**6), 0, 0, 0xE0,
                       0x2102 if dll else 0x0102)
    opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
                      0x10B, 14, 0, text_n, rdata_n + data_n, 0, 0x1000, 0x1000,
                      0x1000 + align(text_n, sa), 0x10000000 if dll else 0x400000, sa, fa,
                      6, 0, 1, 0, 6, 0, 0, size_image, hdr_size, 0, 2 if rng.random() < 0.5 else 3,
                      0x8140, 0x100000, 0x1000, 0x100000, 0x1000, 0, 16) + b"\0" * 128
    hdr = bytes(dos) + coff + opt + table
    hdr = hdr.ljust(hdr_size, b"\0")
    return hdr + b"".join(d for _, d, _ in secs)


class ElfPool:
    def __init__(self, rng, max_file=24 * MB):
        paths = []
        seen = set()
        for d in ("/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"):
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            for f in names:
                p = os.path.join(d, f)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode) or st.st_ino in seen or st.st_size > max_file \
                        or st.st_size < 4096:
                    continue
                try:
                    with open(p, "rb") as fh:
                        if fh.read(4) != b"\x7fELF":
                            continue
                except OSError:
                    continue
                seen.add(st.st_ino)
                paths.append(p)
        rng.shuffle(paths)
        self.paths = paths

    def take(self):
        if not self.paths:
            return None, None
        p = self.paths.pop()
        with open(p, "rb") as fh:
            return os.path.basename(p), fh.read()


# ------------------------------------------------------------- the tree --
class Tree:
    def __init__(self, root):
        self.root = root
        self.files = 0
        self.bytes = 0
        self.by_cat = {}

    def put(self, rel, data, cat):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        assert not os.path.exists(p), rel
        with open(p, "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)
        c = self.by_cat.setdefault(cat, [0, 0])
        c[0] += 1
        c[1] += len(data)
        return len(data)


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def gen_doc(rng, size):
    r = rng.random()
    if r < 0.55:
        return "pdf", pdf_blob(rng, size)
    if r < 0.85:
        return "docx", docx_blob(rng, size)
    return "xlsx", xlsx_blob(rng, size)


def gen_text(rng, size):
    kind = rng.choice(["txt", "csv", "html", "json", "xml", "md"])
    f = {"txt": text_blob, "md": text_blob, "csv": csv_blob, "html": html_blob,
         "json": json_blob, "xml": xml_blob}[kind]
    return kind, f(rng, size)


def gen_member(rng, elf, size):
    """A file for inside an archive: any kind of content."""
    r = rng.random()
    if r < 0.30:
        return gen_doc(rng, size)
    if r < 0.55:
        return gen_text(rng, size)
    if r < 0.70:
        return ("dll" if rng.random() < 0.3 else "exe"), pe_blob(rng, size)
    if r < 0.80:
        name, data = elf.take()
        if data is not None:
            return "so" if ".so" in name else "elf", data
    if r < 0.90:
        return "png", png_blob(rng, size)
    return "bin", random_ish(rng, size)


def name_for(rng, ext, i):
    stem = rng.choice(["report", "minutes", "notes", "summary", "export", "manual",
                       "checklist", "invoice", "schedule", "protocol", "memo",
                       "handover", "audit", "study", "order"])
    return f"{stem}-{rng.choice(SURNAMES)}-{2020 + rng.randrange(5)}{rng.randint(1, 12):02d}-{i:05d}.{ext}"


def members_for(rng, elf, target, prefix=""):
    out = []
    total = 0
    i = 0
    while total < target:
        i += 1
        sz = log_uniform(rng, 4_000, min(4 * MB, max(8_000, target // 3)))
        ext, data = gen_member(rng, elf, sz)
        sub = rng.choice(["", "docs/", "data/", "misc/", "old/2022/"])
        out.append((f"{prefix}{sub}{name_for(rng, ext, i)}", data))
        total += len(data)
    return out


def tar_gz(members, level=6):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = EPOCH
            ti.mode = 0o644
            ti.uname = ti.gname = "user"
            t.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0, filename="") as g:
        g.write(raw.getvalue())
    return out.getvalue()


def tar_plain(members):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = EPOCH
            ti.mode = 0o644
            ti.uname = ti.gname = "user"
            t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()


def seven_zip(members, tmpbase):
    d = tempfile.mkdtemp(dir=tmpbase)
    try:
        src = os.path.join(d, "src")
        for name, data in members:
            p = os.path.join(src, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        for dp, dn, fn in os.walk(src):
            for x in dn + fn:
                os.utime(os.path.join(dp, x), (EPOCH, EPOCH))
        out = os.path.join(d, "a.7z")
        names = sorted(os.listdir(src))
        subprocess.run(["7z", "a", "-t7z", "-mx=5", "-mmt=1", "-bd", "-bso0", "-bsp0", out] + names,
                       cwd=src, check=True)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=4242)
    a = ap.parse_args()
    S = a.size_mb * MB
    scale = a.size_mb / 1024.0
    tree_dir = os.path.join(a.out, "tree")
    if os.path.exists(tree_dir):
        shutil.rmtree(tree_dir)
    os.makedirs(tree_dir)
    tmpbase = tempfile.mkdtemp(dir=a.out, prefix=".gen-")
    T = Tree(tree_dir)

    def R(tag):      # an independent, fixed-seed generator per section
        return random.Random(f"{a.seed}:{tag}")

    elf = ElfPool(R("elfpool"))

    # --- Small: thousands of 1-20 KB files in nested folders
    rng = R("small")
    n_small = max(50, round(5000 * scale))
    for i in range(n_small):
        c = i // 23                     # ~23 files per leaf folder
        d = f"Small/{DEPTS[c % len(DEPTS)]}/{2019 + (c // len(DEPTS)) % 6}/case-{c:04d}"
        sz = log_uniform(rng, 1024, 20 * 1024)
        r = rng.random()
        if r < 0.60:
            ext, data = gen_text(rng, sz)
        elif r < 0.70:
            ext, data = "png", png_blob(rng, sz)
        elif r < 0.80:
            ext, data = "pdf", pdf_blob(rng, sz)
        elif r < 0.90:
            ext, data = "bin", random_ish(rng, sz)
        else:
            ext, data = "log", log_blob(rng, sz)
        T.put(f"{d}/{name_for(rng, ext, i)}", data, "small")

    # --- Documents
    rng = R("docs")
    budget, used, i = 0.15 * S, 0, 0
    while used < budget:
        i += 1
        sz = log_uniform(rng, 30_000, min(4 * MB, max(60_000, int(budget / 20))))
        ext, data = gen_doc(rng, sz)
        used += T.put(f"Documents/{rng.choice(DEPTS)}/{2020 + rng.randrange(5)}/{name_for(rng, ext, i)}",
                      data, "documents")

    # --- Text
    rng = R("text")
    budget, used, i = 0.05 * S, 0, 0
    while used < budget:
        i += 1
        sz = log_uniform(rng, 50_000, min(5 * MB, max(100_000, int(budget / 10))))
        ext, data = gen_text(rng, sz)
        used += T.put(f"Text/{rng.choice(DEPTS)}/{name_for(rng, ext, i)}", data, "text")

    # --- Programs: ELF copies, synthetic PE
    rng = R("elf")
    budget, used = 0.09 * S, 0
    while used < budget:
        name, data = elf.take()
        if data is None:
            break
        used += T.put(f"Programs/linux/{name[0].lower()}/{name}", data, "elf")
    rng = R("pe")
    budget, used, i = 0.05 * S, 0, 0
    while used < budget:
        i += 1
        dll = rng.random() < 0.35
        sz = log_uniform(rng, 20_000, min(8 * MB, max(40_000, int(budget / 6))))
        vendor = rng.choice(["acme-imaging", "medisoft", "labtrack", "pacsview", "tools"])
        nm = f"{rng.choice(['setup', 'viewer', 'agent', 'update', 'driver', 'util', 'svc'])}{i:03d}"
        used += T.put(f"Programs/windows/{vendor}/{nm}.{'dll' if dll else 'exe'}",
                      pe_blob(rng, sz, dll), "pe")

    # --- Data: random-ish binaries
    rng = R("data")
    budget, used, i = 0.04 * S, 0, 0
    while used < budget:
        i += 1
        sz = log_uniform(rng, 100_000, min(16 * MB, max(200_000, int(budget / 4))))
        used += T.put(f"Data/{rng.choice(['dumps', 'raw', 'cache'])}/blob-{i:04d}.{rng.choice(['dat', 'bin'])}",
                      random_ish(rng, sz), "data")

    # --- Archives
    rng = R("archives")
    infected = []
    # nested: the one EICAR, two levels down in zips
    inner = make_zip(members_for(rng, elf, 200_000, "attachments/") + [("attachments/eicar.com", EICAR)])
    outer_members = members_for(rng, elf, 1 * MB, "reports/") + [("reports/attachments.zip", inner)]
    rel = "Archives/nested/handover-2024-03.zip"
    T.put(rel, make_zip(outer_members), "archives")
    infected.append({"path": rel, "member": "reports/attachments.zip!attachments/eicar.com",
                     "signature": "Qkiosk.Test.EICAR"})
    # more nesting: tar.gz in zip in 7z, zip in tar.gz in zip
    budget, used, i = 0.2 * S, 0, 0
    while used < budget:
        i += 1
        tgt = log_uniform(rng, 300_000, min(24 * MB, max(600_000, int(budget / 8))))
        kind = ["zip", "zip", "tar.gz", "7z", "nested"][i % 5]
        mem = members_for(rng, elf, tgt, f"{name_for(rng, 'd', i)[:-2]}/")
        if kind == "zip":
            data = make_zip(mem)
        elif kind == "tar.gz":
            data = tar_gz(mem)
        elif kind == "7z":
            data = seven_zip(mem, tmpbase)
        else:
            half = len(mem) // 2
            lvl2 = make_zip([("inner/" + n.split("/", 1)[-1], d) for n, d in mem[:half]])
            lvl3 = tar_gz([("deep/more.zip", make_zip([("deep/readme.txt", text_blob(rng, 5000))])),
                           ("deep/notes.txt", text_blob(rng, 20_000))])
            data = make_zip(mem[half:] + [("inner/bundle.zip", lvl2), ("inner/deep.tar.gz", lvl3)])
            if rng.random() < 0.5:
                kind = "7z"
                data = seven_zip([("bundle.zip", data), ("readme.txt", text_blob(rng, 3000))], tmpbase)
            else:
                kind = "zip"
        used += T.put(f"Archives/{rng.choice(DEPTS)}/archive-{i:04d}.{kind}", data, "archives")

    # --- Large files
    rng = R("large")
    sz = int(0.18 * S)
    mem = []
    tot = 0
    j = 0
    while tot < sz:
        j += 1
        m_sz = log_uniform(rng, 50_000, 8 * MB)
        ext, data = gen_member(rng, elf, m_sz)
        mem.append((f"backup/{rng.choice(DEPTS)}/{name_for(rng, ext, j)}", data))
        tot += len(data) + 512
    T.put("Large/backup-2024-03.tar", tar_plain(mem), "large")
    T.put("Large/pacs-audit-2024.log", log_blob(rng, int(0.11 * S)), "large")
    T.put("Large/scanner-export.dat", random_ish(rng, int(0.06 * S)), "large")

    shutil.rmtree(tmpbase)
    # fixed mtimes everywhere (mcopy -m copies them into the FAT image)
    for dp, dn, fn in os.walk(tree_dir, topdown=False):
        for x in fn + dn:
            os.utime(os.path.join(dp, x), (EPOCH, EPOCH))
    os.utime(tree_dir, (EPOCH, EPOCH))

    ndirs = sum(len(dn) for _, dn, _ in os.walk(tree_dir))
    biggest = max((os.path.getsize(os.path.join(dp, f)), os.path.join(dp, f))
                  for dp, _, fn in os.walk(tree_dir) for f in fn)
    meta = {"size_mb": a.size_mb, "seed": a.seed, "files": T.files, "dirs": ndirs,
            "bytes": T.bytes, "largest_file_bytes": biggest[0],
            "largest_file": os.path.relpath(biggest[1], tree_dir),
            "by_category": {k: {"files": v[0], "bytes": v[1]} for k, v in sorted(T.by_cat.items())},
            "infected": infected, "elf_source": "this machine's /usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu"}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("files", "dirs", "bytes", "largest_file_bytes")}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
