# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``auth0-emulator serve --port P [options]``.

Once the server accepts connections one JSON line is printed on stdout (and flushed)::

    {"url": "https://127.0.0.1:PORT", "domain": "127.0.0.1:PORT", "ca_path": "/tmp/.../ca.pem" or null,
     "management_client_id": "...", "management_client_secret": "..."}

Everything else (logs) goes to stderr.  SIGTERM and SIGINT stop the server cleanly (exit code 0).
"""

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile

import uvicorn

from auth0_emulator import tls
from auth0_emulator.controls import Controls, parse_rate_limit
from auth0_emulator.http import create_app
from auth0_emulator.model import Tenant

LOG = logging.getLogger('auth0_emulator')


def build_parser():
    """The argument parser."""
    parser = argparse.ArgumentParser(prog='auth0-emulator', description='A stateful emulator of an Auth0 tenant for tests.')
    sub = parser.add_subparsers(dest='command', required=True)
    serve_cmd = sub.add_parser('serve', help='serve the Management API, /oauth/token and /__emulator__/')
    serve_cmd.add_argument('--port', type=int, required=True, help='TCP port; 0 picks a free one (reported on the ready line)')
    serve_cmd.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    serve_cmd.add_argument('--tls', action='store_true', help='serve HTTPS with a generated CA and server certificate')
    serve_cmd.add_argument('--latency-ms', type=int, default=0, help='added latency of every API call, in milliseconds')
    serve_cmd.add_argument('--rate-limit', default=None, metavar='RPS:BURST', help='token bucket rate limit (off by default)')
    serve_cmd.add_argument('--retry-after', action='store_true',
                           help='a rate-limited 429 also carries Retry-After (off by default: Auth0 does not always send it)')
    serve_cmd.add_argument('--custom-domain', action='append', default=[], metavar='HOST',
                           help='a custom domain of the tenant, a host name that reaches this server (for example localhost); '
                                'its port is added. Assertions may name it as aud; the Management API identifier stays the '
                                'canonical domain\'s. Repeatable')
    serve_cmd.add_argument('--token-ttl', type=int, default=86400, help='lifetime of issued access tokens in seconds')
    serve_cmd.add_argument('--state-file', default=None, help='persist state here (atomically, after each change) and reload it')
    serve_cmd.add_argument('--management-client-id', default=None, help='id of the management client (generated if not given)')
    serve_cmd.add_argument('--management-client-secret', default=None, help='secret of the management client (generated if not given)')
    serve_cmd.add_argument('--log-level', default='warning', choices=('debug', 'info', 'warning', 'error'), help='stderr log level')
    return parser


def bind(host, port):
    """A listening socket on (host, port)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit TCP_NODELAY: without it a keep-alive connection waits for the
    # peer's delayed ACK (~40 ms) between the header and body writes of each response
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def run(server, sock, ready):
    """Serve until told to stop; print the ready line once the server accepts connections."""
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError('the server stopped before it was ready')
        await asyncio.sleep(0.01)
    sys.stdout.write(json.dumps(ready) + '\n')
    sys.stdout.flush()
    await task


def serve(args):
    """The serve command."""
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format='%(asctime)s %(name)s %(levelname)s %(message)s')
    try:
        rate_limit = parse_rate_limit(args.rate_limit)
    except ValueError as exc:
        sys.exit('auth0-emulator: %s' % exc)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    domain = '%s:%d' % ('[%s]' % args.host if ':' in args.host else args.host, port)
    url = '%s://%s' % ('https' if args.tls else 'http', domain)
    state_file = os.path.abspath(args.state_file) if args.state_file else None
    try:
        custom = ['%s:%d' % (name, port) for name in args.custom_domain]
        tenant = Tenant(url, args.management_client_id, args.management_client_secret, token_ttl=args.token_ttl, state_path=state_file,
                        custom_domains=custom)
    except (ValueError, KeyError, OSError) as exc:
        sys.exit('auth0-emulator: cannot load state file %s: %s' % (state_file, exc))
    temp_dir = None
    ssl_options = {}
    ca_path = None
    if args.tls:
        if state_file:
            folder = state_file + '.tls'
        else:
            folder = temp_dir = tempfile.mkdtemp(prefix='auth0-emulator-')
        ca_path, cert_path, key_path = tls.prepare(folder)
        ssl_options = {'ssl_certfile': cert_path, 'ssl_keyfile': key_path}
    app = create_app(tenant, Controls(args.latency_ms, rate_limit, retry_after=args.retry_after))
    # date_header off: the Date of every answer is the tenant's clock (clock_offset included), set by the app
    config = uvicorn.Config(app, lifespan='off', access_log=False, log_config=None, log_level=args.log_level,
                            timeout_graceful_shutdown=1, date_header=False, **ssl_options)
    # a short graceful shutdown: an idle keep-alive TLS connection whose client does not answer
    # the TLS close would otherwise hold the stop for the whole timeout
    server = uvicorn.Server(config)

    def stop(_signum, _frame):
        server.should_exit = True

    # uvicorn takes these signals while it serves and re-raises them afterwards: this keeps that
    # second delivery harmless, so a SIGTERM ends the process with code 0.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready = {'url': url, 'domain': domain, 'ca_path': ca_path, 'custom_domains': list(tenant.custom_domains),
             'management_audience': tenant.management_audience,
             'management_client_id': tenant.management_client_id, 'management_client_secret': tenant.management_client_secret}
    try:
        asyncio.run(run(server, sock, ready))
    finally:
        tenant.flush()
        sock.close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


def main(argv=None):
    """Entry point of the auth0-emulator console script."""
    args = build_parser().parse_args(argv)
    if args.command == 'serve':
        return serve(args)
    return 2


if __name__ == '__main__':
    sys.exit(main())
