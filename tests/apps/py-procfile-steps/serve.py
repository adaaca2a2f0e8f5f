"""Serves what the steps before it wrote, on $PORT."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with open("steps.txt") as notes:
            body = ("steps: " + " ".join(notes.read().split()) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
