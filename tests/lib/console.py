#!/usr/bin/env python3
"""Timestamps on a guest's serial console, for the VM tests' timings.

    console.py stamp T0 RAW STAMPED     copies stdin to RAW as it comes, and to STAMPED line by line,
                                        each line prefixed with the seconds between T0 (a Unix time)
                                        and its first byte ("%8.3f ", carriage returns dropped)
    console.py first-stamp REGEX STAMPED
                                        the seconds of the first line of STAMPED matching REGEX
                                        (nothing when none does)
"""
import os
import re
import sys
import time


def stamp(t0, raw_path, stamped_path):
    raw, stamped = open(raw_path, "ab", 0), open(stamped_path, "a", buffering=1)
    at_start, line = True, ""
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        raw.write(data)
        for ch in data.decode("utf-8", "replace"):
            if at_start:
                line, at_start = "%8.3f " % (time.time() - t0), False
            if ch == "\n":
                stamped.write(line + "\n")
                at_start = True
            elif ch != "\r":
                line += ch
    if not at_start:
        stamped.write(line + "\n")


def first_stamp(pattern, stamped_path):
    pat = re.compile(pattern)
    for line in open(stamped_path, errors="replace"):
        when, text = line[:8].strip(), line[9:].rstrip("\n")
        if pat.search(text):
            print(when)
            break


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "stamp":
        stamp(float(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "first-stamp":
        first_stamp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
