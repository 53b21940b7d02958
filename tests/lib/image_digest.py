#!/usr/bin/env python3
"""image_digest.py IMG: SHA-256 over IMG's size and each data extent (offset, length, bytes).

The extents are found with SEEK_DATA/SEEK_HOLE. Holes read as zeros, so an equal digest means equal
bytes; and any write (even of zeros into a hole) changes it. It reads only what is allocated: ~40 MiB
of the VM tests' 2 GiB sparse host disk, where sha256sum reads all 2 GiB.
"""
import errno, hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h, pos = hashlib.sha256(b"size %d\n" % size), 0
while pos < size:
    try:
        start = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        break  # a hole from pos to the end
    end = os.lseek(fd, start, os.SEEK_HOLE)
    h.update(b"data %d %d\n" % (start, end - start))
    os.lseek(fd, start, os.SEEK_SET)
    left = end - start
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            sys.exit("image_digest: %s shrank while being read" % sys.argv[1])
        h.update(chunk)
        left -= len(chunk)
    pos = end
print(h.hexdigest())
