#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_corpus.py OUTDIR PCAP...: seed the decode and engine fuzzers from classic pcap files.

decode/: one file per frame (first byte: link-type selector). engine/: one file per capture,
its first 64 frames as length-prefixed records. Only the non-malware captures are used."""
import os
import struct
import sys

SELECT = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 12: 5}
ENGINE_SELECT = {1: 0, 113: 1, 101: 2, 12: 2, 0: 3}


def frames(path):
    data = open(path, 'rb').read()
    magic = struct.unpack_from('<I', data, 0)[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack_from(endian + 'I', data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + 'I', data, off + 8)[0]
        yield linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, 'decode'), exist_ok=True)
    os.makedirs(os.path.join(out, 'engine'), exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.basename(path).split('.')[0]
        records = []
        for i, (lt, frame) in enumerate(frames(path)):
            if lt not in SELECT:
                break
            if i % 7 == 0:
                with open(os.path.join(out, 'decode', '%s-%d' % (name, i)), 'wb') as f:
                    f.write(bytes([SELECT[lt]]) + frame)
            if len(records) < 64:
                records.append(struct.pack('>H', len(frame)) + frame)
        if records and lt in ENGINE_SELECT:
            with open(os.path.join(out, 'engine', name), 'wb') as f:
                f.write(bytes([ENGINE_SELECT[lt]]) + b''.join(records))


if __name__ == '__main__':
    main()
