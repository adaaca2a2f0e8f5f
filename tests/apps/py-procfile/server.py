"""A server with no dependency file, started by its Procfile with the port and workers it is given."""

import argparse
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--workers", required=True)
options = parser.parse_args()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"port={options.port} workers={options.workers}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    print(f"serving on {options.port}", flush=True)
    HTTPServer(("0.0.0.0", options.port), Handler).serve_forever()
