#!/usr/bin/env python
"""aws_throttling.py PORT: an endpoint that answers every Secrets Manager call as AWS does when its request rate
is exceeded (HTTP 400, ThrottlingException in the JSON protocol's __type), on 127.0.0.1:PORT, until it is killed.

moto's server does not throttle; the credential_rotation_aws target points AWS_ENDPOINT_URL here to see that a
store that keeps throttling after botocore's own retries stops the run before Auth0 learns of a new key.
"""

import http.server
import sys


class Throttling(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # pylint: disable=invalid-name
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        self.send_response(400)
        self.send_header('Content-Type', 'application/x-amz-json-1.1')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST  # pylint: disable=invalid-name


if __name__ == '__main__':
    http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Throttling).serve_forever()
