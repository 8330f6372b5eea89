# SPDX-License-Identifier: Apache-2.0
# Scrape every ../cases/*.prom (text format) and *.om (OpenMetrics) once
# with a local Prometheus (2.42 here) and print, per case, the target's
# health and last error, its stored series (first sample) and metadata, as
# JSON for compare.py. Ports 29121 (file server) and 29122 (Prometheus) on
# 127.0.0.1; everything else lives in a temporary directory.
#   python3 run.py > prometheus.json
import json, os, subprocess, sys, tempfile, time, urllib.request, urllib.parse, shutil, signal
here = os.path.dirname(os.path.abspath(__file__))
cases = sorted(c for c in os.listdir(os.path.join(here, '..', 'cases')) if c.endswith(('.prom', '.om')))
tmp = tempfile.mkdtemp(prefix='expo-oracle-')
jobs = []
for c in cases:
    kind = 'om' if c.endswith('.om') else 'prom'
    jobs.append((c.replace('.', '_').replace('-', '_'), kind, c))
cfg = 'global:\n  scrape_interval: 3s\n  scrape_timeout: 3s\nscrape_configs:\n'
for j, kind, c in jobs:
    cfg += f'  - job_name: {j}\n    metrics_path: /{kind}/{c}\n    static_configs:\n      - targets: ["127.0.0.1:29121"]\n'
open(os.path.join(tmp, 'prometheus.yml'), 'w').write(cfg)
srv = subprocess.Popen([sys.executable, os.path.join(here, 'server.py')])
prom = subprocess.Popen(['prometheus', '--config.file=' + os.path.join(tmp, 'prometheus.yml'),
                         '--storage.tsdb.path=' + os.path.join(tmp, 'data'),
                         '--web.listen-address=127.0.0.1:29122', '--log.level=error'],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def get(path, **q):
    url = 'http://127.0.0.1:29122' + path + ('?' + urllib.parse.urlencode(q) if q else '')
    return json.load(urllib.request.urlopen(url, timeout=5))
try:
    for _ in range(60):
        time.sleep(1)
        try:
            t = get('/api/v1/targets')
        except Exception:
            continue
        act = t['data']['activeTargets']
        if len(act) == len(jobs) and all(a['lastScrape'] != '0001-01-01T00:00:00Z' for a in act):
            break
    time.sleep(2.5)
    t = get('/api/v1/targets')
    res = {}
    for a in t['data']['activeTargets']:
        j = a['labels']['job']
        r = {'health': a['health'], 'err': a['lastError']}
        q = get('/api/v1/query', query='{job="%s",__name__!~"up|scrape_.*"}[1h]' % j)
        ser = []
        for m in q['data']['result']:
            lab = dict(m['metric']); lab.pop('job', None); lab.pop('instance', None)
            ser.append([lab, m['values'][:1]])
        r['series'] = sorted(ser, key=lambda x: json.dumps(x))
        md = get('/api/v1/targets/metadata', match_target='{job="%s"}' % j)
        r['meta'] = sorted([[x['metric'], x['type'], x['help'], x.get('unit', '')] for x in md['data']])
        res[j] = r
    json.dump(res, sys.stdout, indent=1, sort_keys=True)
finally:
    prom.send_signal(signal.SIGTERM); srv.send_signal(signal.SIGTERM)
    prom.wait(); srv.wait()
    shutil.rmtree(tmp, ignore_errors=True)
