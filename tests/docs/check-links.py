#!/usr/bin/env python3
"""Checks the relative links of Markdown files: every linked file exists, and
every #anchor names a heading of its target (GitHub's rule: lower case,
punctuation dropped except - and _, spaces to -, a -1, -2 … suffix for a
repeated heading). Links to other sites are not followed.

    tests/docs/check-links.py FILE.md...

Prints one line per broken link (file:line: what) and exits 1 if there is any.
"""
import os
import re
import sys

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def lines_outside_code(path):
    fenced = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if not fenced:
                yield number, line


def slug(heading):
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in "-_ " or ord(c) > 0x2FFF and c.isalpha())
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        for _, line in lines_outside_code(path):
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            n = seen.get(s, 0)
            seen[s] = n + 1
            found.add(s if n == 0 else f"{s}-{n}")
        cache[path] = found
    return cache[path]


def check(path):
    broken = []
    for number, line in lines_outside_code(path):
        line = re.sub(r"`[^`]*`", "", line)
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue   # https:, mailto: …
            file_part, _, anchor = target.partition("#")
            where = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(where):
                broken.append(f"{path}:{number}: {target}: no file {where}")
                continue
            if anchor and where.endswith(".md") and anchor not in anchors(where):
                broken.append(f"{path}:{number}: {target}: no heading #{anchor} in {where}")
    return broken


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    broken = [b for p in paths for b in check(p)]
    for b in broken:
        print(b)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
