# SPDX-License-Identifier: Apache-2.0
# Serves ../cases/<file> at /prom/<file> as the text format 0.0.4 and at
# /om/<file> as OpenMetrics 1.0, on 127.0.0.1:29121 (for run.py).
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.strip('/').split('/', 1)
        if len(parts) != 2:
            self.send_response(404); self.end_headers(); return
        kind, name = parts
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cases', name)
        try:
            data = open(path, 'rb').read()
        except OSError:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        if kind == 'om':
            self.send_header('Content-Type', 'application/openmetrics-text; version=1.0.0; charset=utf-8')
        else:
            self.send_header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', 29121), H).serve_forever()
