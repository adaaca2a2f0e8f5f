"""Serves on $PORT what the build commands wrote beside it."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{(HERE / 'generated.txt').read_text().strip()} {(HERE / 'shell.txt').read_text().strip()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
