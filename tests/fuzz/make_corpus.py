#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_corpus.py OUTDIR [PCAP...]: seed the decode and engine fuzzers from classic pcap files.

decode/: one file per frame (first byte: link-type selector). engine/: one file per capture,
its first 64 frames as length-prefixed records. Only the non-malware captures are used: without
PCAP arguments, the SEEDS below from the test data ($NG_TESTDATA, else this checkout's tests/data),
pcapng ones converted to classic pcap with editcap (tshark's package) first.
`make_corpus.py tests/fuzz/corpus` rewrites the committed seeds exactly."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

# The non-malware test captures the committed corpus was made from.
SEEDS = ['cs-http_espn.pcapng', 'ndpi-sites.pcapng', 'ndpi-6in4tunnel.pcap', 'ndpi-KakaoTalk_chat.pcap',
         'ndpi-dns_fragmented.pcap', 'ndpi-gaijin_mobile_mixed.pcap', 'ndpi-http_ipv6.pcap', 'ndpi-iphone.pcap']

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


def default_pcaps(tmp):
    """The SEEDS in the test data folder, as classic pcap files (pcapng converted into tmp)."""
    here = os.path.dirname(os.path.abspath(__file__))
    pcaps = os.path.join(os.environ.get('NG_TESTDATA') or os.path.join(here, '..', 'data'), 'pcaps')
    paths = []
    for seed in SEEDS:
        src = os.path.join(pcaps, seed)
        if not os.path.isfile(src):
            sys.exit('make_corpus: %s is missing (set NG_TESTDATA to the test data folder)' % src)
        if seed.endswith('.pcapng'):
            if shutil.which('editcap') is None:
                sys.exit('make_corpus: needs editcap (apt-get install tshark) to convert %s' % seed)
            dst = os.path.join(tmp, seed[:-len('.pcapng')] + '.pcap')
            subprocess.run(['editcap', '-F', 'pcap', src, dst], check=True)
            src = dst
        paths.append(src)
    return paths


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: make_corpus.py OUTDIR [PCAP...]')
    out = sys.argv[1]
    os.makedirs(os.path.join(out, 'decode'), exist_ok=True)
    os.makedirs(os.path.join(out, 'engine'), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path in sys.argv[2:] or default_pcaps(tmp):
            seed(out, path)


def seed(out, path):
    """Write the decode and engine seeds of one classic pcap file into out."""
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
