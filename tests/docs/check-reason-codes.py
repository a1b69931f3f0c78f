#!/usr/bin/env python3
"""Every reason code the code defines (scanner/protocol/src/Messages.cpp) is
named in the contract (docs/design.md) and explained in
docs/report-format.md, so that neither can drift from the code unseen.

    tests/docs/check-reason-codes.py SOURCE_DIR
"""
import re
import sys


def main(root):
    with open(f"{root}/scanner/protocol/src/Messages.cpp", encoding="utf-8") as f:
        codes = re.findall(r"\{ReasonCode::\w+,\s*\"([a-z-]+)\"\}", f.read())
    if not codes:
        print("no reason codes found in scanner/protocol/src/Messages.cpp")
        return 1
    missing = []
    for doc in ("docs/design.md", "docs/report-format.md"):
        with open(f"{root}/{doc}", encoding="utf-8") as f:
            text = f.read()
        missing += [f"{doc}: reason code `{c}` is not documented" for c in codes if f"`{c}`" not in text]
    for m in missing:
        print(m)
    return 1 if missing else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
