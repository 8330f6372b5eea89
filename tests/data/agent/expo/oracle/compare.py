# SPDX-License-Identifier: Apache-2.0
# Compare the golden renderings ../cases/*.want (what expo_parse produces,
# checked by test_agent_expo_parse) with what Prometheus 2.42 made of the
# same inputs (run.py's JSON): verdict, error message, every stored series
# and its value, and the metadata (type, help) of every family.
#   python3 compare.py prometheus.json
import json, math, os, re, sys

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cases')
Q = r'"(?:[^"\\]|\\.)*"'


def unq(s):
    body, out, i = s[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == '\\':
            e = body[i + 1]
            if e == 'x':
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            out += {'n': b'\n', '"': b'"', '\\': b'\\'}[e]
            i += 2
            continue
        out += c.encode()
        i += 1
    return out.decode('utf-8', 'replace')


def load_want(path):
    err, fams, series = None, {}, []
    for line in open(path, encoding='utf-8', errors='replace').read().splitlines():
        if line.startswith('E '):
            err = line.split(' ', 2)[2]
        elif line.startswith('F '):
            m = re.match(r'F (\S+) (\S+)(?: (' + Q + '))?$', line)
            fams[m.group(1)] = (m.group(2), unq(m.group(3)) if m.group(3) else '')
        elif line.startswith('S '):
            m = re.match(r'S \S+ (\S+?)\{(.*)\} (\S+)( @\S+)?$', line)
            labs = {'__name__': m.group(1)}
            for lm in re.finditer(r'(\w+)=(' + Q + ')', m.group(2)):
                labs[lm.group(1)] = unq(lm.group(2))
            series.append((json.dumps(labs, sort_keys=True), float(m.group(3)), bool(m.group(4))))
    return err, fams, series


def main():
    oracle = json.load(open(sys.argv[1]))
    bad = 0
    names = sorted(n for n in os.listdir(CASES) if n.endswith(('.prom', '.om')))
    for name in names:
        o = oracle[name.replace('.', '_').replace('-', '_')]
        err, fams, series = load_want(os.path.join(CASES, name.rsplit('.', 1)[0] + '.want'))
        msgs, up = [], o['health'] == 'up'
        if up != (err is None):
            msgs.append('verdict: prometheus %s %r, ours %r' % (o['health'], o['err'], err))
        elif not up and err != re.sub(r', instance="[^"]*", job="[^"]*"\}$', '}', o['err']):
            msgs.append('message: prometheus %r, ours %r' % (o['err'], err))
        if up:
            prom = {json.dumps(l, sort_keys=True): float(v[0][1]) for l, v in o['series']}
            ours = {}
            for k, v, has_ts in series:
                ours.setdefault(k, (v, has_ts))  # Prometheus keeps the first of duplicates
            for k in set(prom) | set(ours):
                a, b = prom.get(k), ours.get(k)
                if a is None and b is not None and b[1]:
                    continue  # explicit timestamp out of the storage's bounds: dropped
                if a is None or b is None or not (a == b[0] or (math.isnan(a) and math.isnan(b[0]))):
                    msgs.append('series %s: prometheus %s, ours %s' % (k, a, b and b[0]))
            for fam, typ, help_, unit in o['meta']:
                want = ('untyped' if typ == 'unknown' else typ, help_)
                if fams.get(fam) != want:
                    msgs.append('metadata %s: prometheus %s, ours %s' % (fam, want, fams.get(fam)))
        if msgs:
            bad += 1
            print('==', name)
            for m in msgs:
                print('  ', m[:300])
    print('%d of %d cases differ' % (bad, len(names)))


main()
