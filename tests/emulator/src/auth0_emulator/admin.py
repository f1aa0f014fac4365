# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin API under /__emulator__/: test controls, not part of Auth0's Management API.

No management token is needed, and none is accepted: a request to it that carries an
``Authorization`` header is refused (400) so that tokens never travel there by mistake, and only
loopback clients are served.  Every answer is JSON.

- ``GET /__emulator__/info``: url, domain, management client id, audiences.
- ``GET /__emulator__/stats``, ``POST /__emulator__/stats/reset``.
- ``GET /__emulator__/log[?since=SEQ]``: the request log (no secrets, assertions or tokens).
- ``GET|POST|DELETE /__emulator__/faults``.
- ``POST /__emulator__/reset``: the initial tenant (same management client), no faults, fresh stats.
- ``POST /__emulator__/seed``: clients, credentials and grants created directly.
- ``GET /__emulator__/state``: the full state; CONTAINS CLIENT SECRETS (test tool only).
- ``GET|POST /__emulator__/config``: latency_ms, rate_limit ("RPS:BURST" or null), retry_after (bool: a
  rate-limited 429 carries Retry-After), token_ttl, clock_offset (seconds added to the emulator's clock,
  to age credentials and tokens without sleeping).
"""

import ipaddress
import json

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth0_emulator.controls import parse_rate_limit
from auth0_emulator.model import ApiError, invalid_body

PREFIX = '/__emulator__'


def _guard(request):
    """Refuse non-loopback clients and requests that carry credentials."""
    host = request.client.host if request.client else None
    try:
        loopback = host in ('testclient', 'localhost') or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ApiError(403, 'The emulator admin API only serves loopback clients', 'forbidden')
    if 'authorization' in request.headers:
        raise ApiError(400, 'The emulator admin API takes no Authorization header', 'invalid_headers')


async def _body(request):
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, 'Invalid request payload JSON format', 'invalid_body') from exc


def _tenant(request):
    return request.app.state.tenant


def _controls(request):
    return request.app.state.controls


async def info(request):
    """GET /__emulator__/info."""
    _guard(request)
    tenant = _tenant(request)
    return JSONResponse({'url': tenant.base_url, 'domain': tenant.base_url.split('://', 1)[1],
                         'management_client_id': tenant.management_client_id,
                         'management_audience': tenant.management_audience, 'assertion_audience': tenant.assertion_audience,
                         'custom_domains': list(tenant.custom_domains)})


async def stats(request):
    """GET /__emulator__/stats."""
    _guard(request)
    return JSONResponse(_tenant(request).stats.snapshot())


async def stats_reset(request):
    """POST /__emulator__/stats/reset."""
    _guard(request)
    _tenant(request).stats.reset()
    return JSONResponse(_tenant(request).stats.snapshot())


async def log(request):
    """GET /__emulator__/log?since=SEQ."""
    _guard(request)
    since = request.query_params.get('since', '0')
    if not since.isdigit():
        raise invalid_body('since must be a non-negative integer', 'since')
    return JSONResponse(_tenant(request).stats.entries(int(since)))


async def faults(request):
    """GET lists, POST adds (one object or a list), DELETE clears the injected faults."""
    _guard(request)
    controls = _controls(request)
    if request.method == 'POST':
        body = await _body(request)
        added = [controls.add_fault(f) for f in (body if isinstance(body, list) else [body])]
        return JSONResponse(added if isinstance(body, list) else added[0], status_code=201)
    if request.method == 'DELETE':
        controls.clear_faults()
        return Response(status_code=204)
    return JSONResponse(controls.list_faults())


async def reset(request):
    """POST /__emulator__/reset."""
    _guard(request)
    _tenant(request).reset()
    _tenant(request).stats.reset()
    _controls(request).clear_faults()
    return JSONResponse({'management_client_id': _tenant(request).management_client_id})


async def seed(request):
    """POST /__emulator__/seed."""
    _guard(request)
    return JSONResponse(_tenant(request).seed(await _body(request)), status_code=201)


async def state(request):
    """GET /__emulator__/state: the full dump, client secrets included."""
    _guard(request)
    dump = _tenant(request).to_json()
    dump.pop('signing_key')
    dump['warning'] = 'contains client secrets: test tool only'
    return JSONResponse(dump)


async def config(request):
    """GET or POST /__emulator__/config."""
    _guard(request)
    tenant, controls = _tenant(request), _controls(request)
    if request.method == 'POST':
        body = await _body(request)
        if not isinstance(body, dict):
            raise invalid_body('Expected type object')
        extra = [k for k in body if k not in ('latency_ms', 'rate_limit', 'retry_after', 'token_ttl', 'clock_offset')]
        if extra:
            raise invalid_body('Additional properties not allowed: %s' % ','.join(extra))
        if 'rate_limit' in body:
            try:
                controls.set_rate_limit(parse_rate_limit(body['rate_limit']))
            except ValueError as exc:
                raise invalid_body(str(exc), 'rate_limit') from exc
        if 'retry_after' in body:
            if not isinstance(body['retry_after'], bool):
                raise invalid_body('Expected a boolean', 'retry_after')
            controls.retry_after = body['retry_after']
        for key in ('latency_ms', 'token_ttl', 'clock_offset'):
            if key in body and (not isinstance(body[key], (int, float)) or isinstance(body[key], bool)):
                raise invalid_body('Expected a number', key)
        if 'latency_ms' in body:
            controls.latency_ms = max(0, int(body['latency_ms']))
        if 'token_ttl' in body:
            tenant.token_ttl = max(1, int(body['token_ttl']))
        if 'clock_offset' in body:
            tenant.clock_offset = float(body['clock_offset'])
    limit = controls.rate_limit
    return JSONResponse({'latency_ms': controls.latency_ms, 'rate_limit': None if limit is None else '%g:%d' % limit,
                         'retry_after': controls.retry_after, 'token_ttl': tenant.token_ttl, 'clock_offset': tenant.clock_offset})


def routes():
    """The admin routes."""
    return [
        Route(PREFIX + '/info', info, methods=['GET']),
        Route(PREFIX + '/stats', stats, methods=['GET']),
        Route(PREFIX + '/stats/reset', stats_reset, methods=['POST']),
        Route(PREFIX + '/log', log, methods=['GET']),
        Route(PREFIX + '/faults', faults, methods=['GET', 'POST', 'DELETE']),
        Route(PREFIX + '/reset', reset, methods=['POST']),
        Route(PREFIX + '/seed', seed, methods=['POST']),
        Route(PREFIX + '/state', state, methods=['GET']),
        Route(PREFIX + '/config', config, methods=['GET', 'POST']),
    ]
