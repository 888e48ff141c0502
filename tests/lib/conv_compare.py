#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""conv_compare.py DUMP.jsonl TSHARK_CONV.txt: check netglobe's --dump against tshark's
conversation tables (-q -z conv,tcp -z conv,udp), the independent oracle for flows.

Both sides are grouped by conversation (protocol and the two endpoints, unordered) and
their packet counts summed, so a conversation that one side splits in two (netglobe's
idle timeout, or tshark's per-stream rows on port reuse) still compares by its total; the
splits are listed with the reason. IP fragments after the first are subtracted from
netglobe's count: tshark counts a reassembled datagram once. Exit 0 when the sets and the
counts agree, 1 otherwise (with every difference listed)."""
import json
import re
import sys

ROW = re.compile(r'^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\d+\s+\S+\s+(\d+)\s+\d+\s+\S+\s+(\d+)\s+')


def endpoint(text):
    """'2001:db8::1:443' or '1.2.3.4:80' -> ('addr', port)."""
    addr, _, port = text.rpartition(':')
    return addr, int(port)


def tshark_convs(path):
    convs, section = {}, None
    for line in open(path, encoding='utf-8', errors='replace'):
        if line.startswith('TCP Conversations'):
            section = 'tcp'
        elif line.startswith('UDP Conversations'):
            section = 'udp'
        m = ROW.match(line)
        if not m or not section:
            continue
        a, b = endpoint(m.group(1)), endpoint(m.group(2))
        key = (section,) + tuple(sorted([a, b]))
        convs[key] = convs.get(key, [0, 0])
        convs[key][0] += int(m.group(5))
        convs[key][1] += 1
    return convs


def netglobe_convs(path):
    convs = {}
    for line in open(path, encoding='utf-8'):
        obj = json.loads(line)
        if 'summary' in obj:
            continue
        if obj['proto'] not in ('tcp', 'udp'):
            continue
        a = (obj['local_ip'], obj['local_port'])
        b = (obj['remote_ip'], obj['remote_port'])
        key = (obj['proto'],) + tuple(sorted([a, b]))
        pk = obj['packets_sent'] + obj['packets_received'] - obj['fragments']
        entry = convs.setdefault(key, [0, 0, []])
        entry[0] += pk
        entry[1] += 1
        entry[2].append(obj.get('end_reason'))
    return convs


def main():
    ours, theirs = netglobe_convs(sys.argv[1]), tshark_convs(sys.argv[2])
    bad = 0
    for key in sorted(set(ours) | set(theirs), key=str):
        o, t = ours.get(key), theirs.get(key)
        name = '%s %s:%d <-> %s:%d' % (key[0], key[1][0], key[1][1], key[2][0], key[2][1])
        if o is None:
            print('MISSING in netglobe: %s (%d packets in tshark)' % (name, t[0]))
            bad += 1
        elif t is None:
            print('EXTRA in netglobe: %s (%d packets)' % (name, o[0]))
            bad += 1
        elif o[0] != t[0]:
            print('COUNT differs: %s netglobe %d, tshark %d' % (name, o[0], t[0]))
            bad += 1
        elif o[1] != t[1]:
            why = 'idle-timeout split' if 'idle' in o[2] else 'port reuse split'
            print('note: %s is %d flows in netglobe, %d rows in tshark (%s); totals agree' % (name, o[1], t[1], why))
    print('%d conversations compared, %d differences' % (len(set(ours) | set(theirs)), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
