"""`streamlit run SCRIPT --server.address A --server.port P ...`: serves what SCRIPT printed and the options it got."""

import contextlib
import io
import runpy
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    command, script, *rest = sys.argv[1:]
    options = dict(zip(rest[::2], rest[1::2]))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        runpy.run_path(script)
    body = f"{command} {script} headless={options['--server.headless']}: {printed.getvalue()}".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    HTTPServer((options["--server.address"], int(options["--server.port"])), Handler).serve_forever()
