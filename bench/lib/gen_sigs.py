#!/usr/bin/env python3
"""Deterministic synthetic ClamAV signature sets for the qkiosk benchmark.

small/  two real test signatures (EICAR and ClamAV's clam.exe) as MD5 hash sigs.
large/  ~1,000,000 MD5 hash signatures (.hdb) + ~50,000 body signatures (.ndb)
        + the two test signatures, so that engine load time, memory and
        matching cost are in the range of the official databases.

Everything comes from fixed seeds: two runs give byte-identical files.
"""
import argparse
import math
import os
import random
import sys

TEST_SIGS = (
    "44d88612fea8a8f36de82e1278abb02f:68:Qkiosk.Test.EICAR\n"
    "aa15bcf478d165efd2065190eb473bcb:544:Qkiosk.Test.ClamExe\n"
)

# Bytes that are over-represented in real executables and documents
# (padding, x86 prologues/calls/movs, ASCII letters and spaces).  Real body
# signatures contain them often, which makes Aho-Corasick prefixes hit more
# often than uniformly random patterns would; we mix some in.
COMMON = bytes([0x00, 0xFF, 0x8B, 0x55, 0x89, 0xE8, 0x48, 0x83, 0xC4, 0x20,
                0x65, 0x74, 0x61, 0x6F, 0x2E, 0x0D, 0x0A, 0x6A, 0x50, 0x51])


def real_like_size(rng):
    """File sizes of malware samples: log-normal around ~90 KB, 64 B .. 64 MB."""
    s = int(math.exp(rng.gauss(math.log(90_000), 1.9)))
    return max(64, min(s, 64 * 1024 * 1024))


def write_hdb(path, count, seed):
    rng = random.Random(seed)
    seen = set()
    with open(path, "w", encoding="ascii", newline="\n") as f:
        buf = []
        i = 0
        while i < count:
            h = rng.getrandbits(128)
            if h in seen:
                continue
            seen.add(h)
            i += 1
            buf.append(f"{h:032x}:{real_like_size(rng)}:Qkiosk.Synth.Hdb-{i:07d}\n")
            if len(buf) >= 50_000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def pattern_bytes(rng, n):
    out = bytearray()
    for _ in range(n):
        if rng.random() < 0.25:
            out.append(COMMON[rng.randrange(len(COMMON))])
        else:
            out.append(rng.randrange(256))
    return bytes(out)


def with_qmarks(rng, part):
    """Hex of part with 0-2 single-byte '??' wildcards away from both ends
    (ClamAV's Aho-Corasick trie anchors on the first bytes)."""
    hx = [f"{b:02x}" for b in part]
    if len(part) >= 12 and rng.random() < 0.30:
        for _ in range(rng.randint(1, 2)):
            hx[rng.randrange(4, len(part) - 4)] = "??"
    return "".join(hx)


def write_ndb(path, count, seed):
    rng = random.Random(seed)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        buf = []
        for i in range(1, count + 1):
            target = 0 if rng.random() < 0.5 else 1          # 0 any file, 1 PE
            if rng.random() < 0.85:
                offset = "*"
            else:
                offset = "0" if target == 0 else "EP+0"
            total = rng.randint(16, 40)
            if total >= 20 and rng.random() < 0.15:
                # two fixed parts joined by '*' (any distance, same order)
                a = rng.randint(8, total - 8)
                body = with_qmarks(rng, pattern_bytes(rng, a)) + "*" + \
                    with_qmarks(rng, pattern_bytes(rng, total - a))
                if offset != "*":
                    offset = "*"
            else:
                body = with_qmarks(rng, pattern_bytes(rng, total))
            buf.append(f"Qkiosk.Synth.Ndb-{i:06d}:{target}:{offset}:{body}\n")
        f.write("".join(buf))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hdb", type=int, default=1_000_000)
    ap.add_argument("--ndb", type=int, default=50_000)
    a = ap.parse_args()
    small = os.path.join(a.out, "small")
    large = os.path.join(a.out, "large")
    os.makedirs(small, exist_ok=True)
    os.makedirs(large, exist_ok=True)
    for d in (small, large):
        with open(os.path.join(d, "qkiosk-test.hdb"), "w", newline="\n") as f:
            f.write(TEST_SIGS)
    write_hdb(os.path.join(large, "qkiosk-synth.hdb"), a.hdb, seed=20240401)
    write_ndb(os.path.join(large, "qkiosk-synth.ndb"), a.ndb, seed=20240402)
    return 0


if __name__ == "__main__":
    sys.exit(main())
