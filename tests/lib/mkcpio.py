#!/usr/bin/env python3
"""mkcpio.py DIR OUT [DEV...]: a gzip'd newc archive of DIR for the VM fixtures' initramfses.

Entries are sorted, owned by 0:0 with mtime 0, so the bytes depend only on the content. DEV =
PATH:c|b:MAJOR:MINOR adds a device node without mknod (no root needed). Environment: PAD=N pads the
gzip member with zeros to a multiple of N bytes; GZIP=0 leaves the archive uncompressed.
"""
import gzip, os, stat, sys
src, out, devs = sys.argv[1], sys.argv[2], sys.argv[3:]
pad, compress = int(os.environ.get("PAD", "0")), os.environ.get("GZIP", "1") != "0"
chunks, ino = [], [1000]

def add(name, mode, data=b"", rdev=(0, 0), nlink=1):
    ino[0] += 1
    fields = [ino[0], mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"
    chunks.append(hdr + b"\0" * (-len(hdr) % 4))
    chunks.append(data + b"\0" * (-len(data) % 4))

entries = []
for root, dirs, files in os.walk(src):
    for n in dirs + files:
        p = os.path.join(root, n)
        entries.append(os.path.relpath(p, src))
dev_entries = {}
for d in devs:
    path, kind, major, minor = d.split(":")
    dev_entries[path.lstrip("/")] = (kind, int(major), int(minor))
for rel in sorted(set(entries) | set(dev_entries)):
    if rel in dev_entries:
        kind, major, minor = dev_entries[rel]
        add(rel, (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o600, rdev=(major, minor))
        continue
    p = os.path.join(src, rel)
    st = os.lstat(p)
    perm = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        add(rel, stat.S_IFLNK | 0o777, os.readlink(p).encode())
    elif stat.S_ISDIR(st.st_mode):
        add(rel, stat.S_IFDIR | perm, nlink=2)
    elif stat.S_ISREG(st.st_mode):
        add(rel, stat.S_IFREG | perm, open(p, "rb").read())
    else:
        sys.exit("mkcpio: unsupported file type: " + p)
add("TRAILER!!!", 0)
raw = b"".join(chunks)
data = gzip.compress(raw, compresslevel=9, mtime=0) if compress else raw
if pad:
    data += b"\0" * (-len(data) % pad)
open(out, "wb").write(data)
