# SPDX-License-Identifier: BSD-2-Clause
# ecs_check.py: check ECS documents (one JSON object per line) against ECS's published field list
# (tests/data/ecs/fields.csv): every leaf outside the producer's own netglobe.* set must be an ECS field, with a
# JSON value of that field's type (keyword, ip, date ... a string; long a whole number; geo_point {lat, lon}).
# Usage: ecs_check.py FIELDS.csv FILE... ; prints the fields used and exits 1 on the first 20 problems.
import csv
import json
import sys

STRING = {'keyword', 'constant_keyword', 'wildcard', 'text', 'match_only_text', 'ip', 'date', 'version'}
INTEGER = {'long', 'integer', 'short', 'byte', 'unsigned_long'}
FLOAT = {'float', 'half_float', 'scaled_float', 'double'}

types = {}
with open(sys.argv[1], newline='') as f:
    for row in csv.DictReader(f):
        types[row['Field']] = row['Type']


def ok(value, t):
    """True when a JSON value fits an ECS type."""
    if t in STRING:
        return isinstance(value, str)
    if t in INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if t in FLOAT:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == 'boolean':
        return isinstance(value, bool)
    if t == 'geo_point':
        return isinstance(value, dict) and set(value) == {'lat', 'lon'} and all(
            isinstance(value[k], (int, float)) for k in ('lat', 'lon'))
    if t in ('object', 'flattened', 'nested'):
        return isinstance(value, dict)
    return False


bad, used, docs = [], {}, 0


def walk(where, path, value):
    if path.startswith('netglobe.') or path == 'netglobe':
        return
    t = types.get(path)
    if t is None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(where, path + '.' + k if path else k, v)
            return
        bad.append('%s: %s is not an ECS field' % (where, path))
        return
    values = value if isinstance(value, list) else [value]
    for v in values:
        if not ok(v, t):
            bad.append('%s: %s is %r, not an ECS %s' % (where, path, v, t))
    used[path] = t


for name in sys.argv[2:]:
    for n, line in enumerate(open(name), 1):
        doc = json.loads(line)
        docs += 1
        for k in ('@timestamp', 'ecs', 'event', 'network'):
            if k not in doc:
                bad.append('%s:%d: no %s' % (name, n, k))
        walk('%s:%d' % (name, n), '', doc)
for b in bad[:20]:
    print('ECS', b)
print('%d documents; %d ECS fields used: %s' % (docs, len(used), ', '.join(sorted(used))))
sys.exit(1 if bad or not docs else 0)
