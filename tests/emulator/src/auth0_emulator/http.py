# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Starlette application: Auth0's Management API subset and /oauth/token over the model.

Handlers parse requests, check the bearer token and the scope of each route, call the
:class:`~auth0_emulator.model.Tenant` and render Auth0-shaped answers.  Injected latency, fault
injection, rate limiting, statistics and the request log are one pure ASGI middleware
(:class:`EmulatorMiddleware`) wrapped around the whole application, so it sees the server's own
``send`` (needed to drop a connection).
"""

import asyncio
import base64
import binascii
import email.utils
import json
import logging
import re
import time
import urllib.parse

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from auth0_emulator import admin
from auth0_emulator.controls import Controls
from auth0_emulator.model import REASONS, ApiError, OAuthError, iso_ms, invalid_query

LOG = logging.getLogger('auth0_emulator')
TOKEN_PATH = '/oauth/token'
ADMIN_PREFIX = '/__emulator__/'


# ---------------------------------------------------------------------------------------------
# middleware


async def drop_connection(send):
    """Close the client connection without any response.

    uvicorn passes its request cycle's bound ``send``; its transport is closed directly.  Under
    other servers (e.g. Starlette's TestClient) a ConnectionAbortedError is raised instead.
    """
    transport = getattr(getattr(send, '__self__', None), 'transport', None)
    if transport is None:
        raise ConnectionAbortedError('fault injection: connection dropped')
    transport.abort() if hasattr(transport, 'abort') else transport.close()  # pylint: disable=expression-not-assigned
    # let the server notice the disconnection before the app returns (no 500 is then sent)
    for dummy in range(3):
        await asyncio.sleep(0)


def _json_bytes(body):
    return json.dumps(body, separators=(',', ':')).encode()


class EmulatorMiddleware:
    """Latency, faults, rate limiting, stats and request log around the Starlette application."""

    def __init__(self, app, tenant, controls):
        self.app = app
        self.tenant = tenant
        self.controls = controls

    def route_template(self, scope):
        """The route path template matching a request ('(unmatched)' if none)."""
        for route in self.app.routes:
            match, dummy = route.matches(scope)
            if match != Match.NONE:
                return route.path
        return '(unmatched)'

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http' or scope['path'].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        scope.setdefault('state', {})
        method, path = scope['method'], scope['path']
        is_token = path == TOKEN_PATH
        status_box = {'status': None}
        extra_headers = {}
        fault = None

        async def send_wrapper(message):
            if message['type'] == 'http.response.start':
                status_box['status'] = message['status']
                headers = [h for h in message.get('headers', []) if h[0].lower() != b'date']
                # Auth0 answers carry its clock in Date; here the tenant's (real time + clock_offset), which is
                # how a test moves the time a rotation's overlap window is measured by
                headers.append((b'date', email.utils.formatdate(self.tenant.now(), usegmt=True).encode('latin-1')))
                headers.extend((k.lower().encode('latin-1'), str(v).encode('latin-1')) for k, v in extra_headers.items())
                message = dict(message, headers=headers)
            await send(message)

        try:
            if self.controls.latency_ms:
                await asyncio.sleep(self.controls.latency_ms / 1000.0)
            fault = self.controls.take_fault(method, path)
            if fault is not None:
                await self.controls.wait_at_gate(fault)
                if fault['delay_ms']:
                    await asyncio.sleep(fault['delay_ms'] / 1000.0)
                if fault['drop']:
                    status_box['status'] = 'dropped'
                    await drop_connection(send)
                    return
                if fault['lose_answer']:
                    # applied, answer lost: the request is served in full, then the connection is closed
                    # before a byte of the answer is sent
                    lost = {}

                    async def swallow(message):
                        if message['type'] == 'http.response.start':
                            lost['status'] = message['status']

                    await self.app(scope, receive, swallow)
                    status_box['status'] = 'dropped'
                    status_box['lost_status'] = lost.get('status')
                    await drop_connection(send)
                    return
                if fault['status'] is not None:
                    extra_headers.update(fault['headers'])
                    body = fault['body'] if fault['body'] is not None else self.fault_body(fault['status'], is_token)
                    await self.respond(send_wrapper, fault['status'], body)
                    return
            bucket = self.controls.bucket('token' if is_token else 'management')
            if bucket is not None:
                allowed, headers, retry = bucket.take()
                extra_headers.update(headers)
                if not allowed:
                    if self.controls.retry_after:
                        extra_headers['Retry-After'] = str(retry)
                    if is_token:
                        body = {'error': 'too_many_requests', 'error_description': 'Global limit has been reached'}
                    else:
                        body = ApiError(429, 'Global limit has been reached', 'too_many_requests').body()
                    await self.respond(send_wrapper, 429, body)
                    return
            await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            # the client went away before its body was read (it timed out during a delay fault): nothing was
            # applied, and there is no one to answer
            status_box['status'] = 'client gone'
        finally:
            state = scope['state']
            entry = {
                'method': method, 'path': path, 'route': self.route_template(scope),
                'status': status_box['status'], 'time': iso_ms(time.time()),
                'duration_ms': round((time.monotonic() - started) * 1000, 1),
                'client_id': state.get('log_client_id'), 'kid': state.get('log_kid'), 'fault': fault is not None,
            }
            if 'lost_status' in status_box:
                entry['lost_status'] = status_box['lost_status']
            self.tenant.stats.record_request(entry)

    # errorCode of a default injected Management API error.  429 too_many_requests is what Auth0
    # answers (same body as the rate limiter above); the 5xx codes are UNVERIFIED guesses: a caller
    # should key on the status, not on these strings.  Other statuses: the snake-cased reason.
    FAULT_ERROR_CODES = {429: 'too_many_requests', 500: 'internal_error', 502: 'bad_gateway',
                         503: 'service_unavailable', 504: 'gateway_timeout'}

    @classmethod
    def fault_body(cls, status, is_token):
        """The default body of an injected error: OAuth-shaped on /oauth/token, else Auth0 Management API shaped (with errorCode)."""
        reason = REASONS.get(status, 'Error')
        snake = re.sub(r'\W+', '_', reason.lower()).strip('_')
        message = 'Global limit has been reached' if status == 429 else reason
        if is_token:
            error = 'too_many_requests' if status == 429 else 'server_error' if status >= 500 else snake
            return {'error': error, 'error_description': message}
        return {'statusCode': status, 'error': reason, 'message': message,
                'errorCode': cls.FAULT_ERROR_CODES.get(status, snake)}

    @staticmethod
    async def respond(send, status, body):
        """Send a complete JSON response."""
        data = _json_bytes(body)
        await send({'type': 'http.response.start', 'status': status,
                    'headers': [(b'content-type', b'application/json; charset=utf-8'), (b'content-length', str(len(data)).encode())]})
        await send({'type': 'http.response.body', 'body': data})


# ---------------------------------------------------------------------------------------------
# request helpers


def authorize(request, *scopes):
    """Check the bearer token and that it carries every scope in ``scopes``; return its claims."""
    tenant = request.app.state.tenant
    claims = tenant.verify_management_token(request.headers.get('authorization'))
    request.state.log_client_id = claims.get('azp')
    granted = set(str(claims.get('scope', '')).split())
    for scope in scopes:
        if scope not in granted:
            raise ApiError(403, 'Insufficient scope, expected any of: %s' % scope, 'insufficient_scope')
    return claims


def query_params(request, allowed):
    """The query string as a dict; unknown or repeated parameters are refused."""
    out = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise invalid_query('Additional properties not allowed: %s' % key)
        if key in out:
            raise invalid_query('Expected a single value', key)
        out[key] = value
    return out


def query_bool(params, key, default):
    """A boolean query parameter ('true'/'false')."""
    if key not in params:
        return default
    if params[key] not in ('true', 'false'):
        raise invalid_query('Expected type boolean but found type string', key)
    return params[key] == 'true'


def query_int(params, key, default, low, high):
    """An integer query parameter within [low, high]."""
    if key not in params:
        return default
    if not re.fullmatch(r'\d+', params[key]):
        raise invalid_query('Expected type integer but found type string', key)
    value = int(params[key])
    if value < low:
        raise invalid_query('Value %d is less than minimum %d' % (value, low), key)
    if value > high:
        raise invalid_query('Value %d is greater than maximum %d' % (value, high), key)
    return value


async def json_body(request):
    """The JSON body of a POST/PATCH; Auth0 takes application/json only."""
    ctype = request.headers.get('content-type', '').split(';')[0].strip().lower()
    if ctype != 'application/json':
        raise ApiError(415, 'Unsupported Media Type: application/json is required', 'unsupported_media_type')
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, 'Invalid request payload JSON format', 'invalid_body') from exc


def select_fields(obj, params):
    """Apply ``fields``/``include_fields`` to one rendered object."""
    if not params.get('fields'):
        query_bool(params, 'include_fields', True)
        return obj
    fields = [f.strip() for f in params['fields'].split(',') if f.strip()]
    if query_bool(params, 'include_fields', True):
        return {k: v for k, v in obj.items() if k in fields}
    return {k: v for k, v in obj.items() if k not in fields}


def show_secret(claims):
    """Whether a GET may reveal client_secret (Auth0 needs read:client_keys for it)."""
    return 'read:client_keys' in str(claims.get('scope', '')).split()


# ---------------------------------------------------------------------------------------------
# Management API handlers


CLIENT_QUERY = ('fields', 'include_fields', 'page', 'per_page', 'include_totals', 'app_type', 'is_global', 'is_first_party')


async def list_clients(request):
    """GET /api/v2/clients."""
    claims = authorize(request, 'read:clients')
    params = query_params(request, CLIENT_QUERY)
    page = query_int(params, 'page', 0, 0, 100000)
    per_page = query_int(params, 'per_page', 50, 1, 100)
    totals = query_bool(params, 'include_totals', False)
    query_bool(params, 'is_global', False)
    query_bool(params, 'is_first_party', False)
    app_type = params['app_type'].split(',') if params.get('app_type') else None
    tenant = request.app.state.tenant
    records, total = tenant.list_clients(page, per_page, app_type)
    clients = [select_fields(tenant.render_client(c, show_secret(claims)), params) for c in records]
    if totals:
        return JSONResponse({'start': page * per_page, 'limit': per_page, 'length': len(clients), 'total': total, 'clients': clients})
    return JSONResponse(clients)


async def create_client(request):
    """POST /api/v2/clients."""
    body = await json_body(request)
    scopes = ['create:clients']
    if isinstance(body, dict) and body.get('client_authentication_methods') is not None:
        # UNVERIFIED (stricter): inline credentials also need create:client_credentials
        scopes.append('create:client_credentials')
    authorize(request, *scopes)
    tenant = request.app.state.tenant
    return JSONResponse(tenant.render_client(tenant.create_client(body), inline_credentials=True), status_code=201)


async def get_client(request):
    """GET /api/v2/clients/{id}."""
    claims = authorize(request, 'read:clients')
    params = query_params(request, ('fields', 'include_fields'))
    tenant = request.app.state.tenant
    client = tenant.get_client(request.path_params['id'])
    return JSONResponse(select_fields(tenant.render_client(client, show_secret(claims)), params))


async def update_client(request):
    """PATCH /api/v2/clients/{id}: needs update:client_credentials too for client_authentication_methods."""
    body = await json_body(request)
    scopes = ['update:clients']
    if isinstance(body, dict) and 'client_authentication_methods' in body:
        scopes.append('update:client_credentials')
    authorize(request, *scopes)
    tenant = request.app.state.tenant
    return JSONResponse(tenant.render_client(tenant.update_client(request.path_params['id'], body)))


async def delete_client(request):
    """DELETE /api/v2/clients/{id}."""
    authorize(request, 'delete:clients')
    request.app.state.tenant.delete_client(request.path_params['id'])
    return Response(status_code=204)


async def list_credentials(request):
    """GET .../credentials: a bare array, paging parameters are accepted and ignored."""
    authorize(request, 'read:client_credentials')
    query_params(request, ('page', 'per_page', 'include_totals'))
    tenant = request.app.state.tenant
    return JSONResponse([tenant.render_credential(c) for c in tenant.list_credentials(request.path_params['id'])])


async def create_credential(request):
    """POST .../credentials: 201; the answer omits an unset name or expires_at."""
    authorize(request, 'create:client_credentials')
    body = await json_body(request)
    tenant = request.app.state.tenant
    cred = tenant.create_credential(request.path_params['id'], body)
    return JSONResponse(tenant.render_credential(cred), status_code=201)


async def get_credential(request):
    """GET .../credentials/{credential_id}: an unset name or expires_at is omitted (newer Auth0 answers)."""
    authorize(request, 'read:client_credentials')
    tenant = request.app.state.tenant
    return JSONResponse(tenant.render_credential(tenant.get_credential(request.path_params['id'], request.path_params['credential_id'])))


async def update_credential(request):
    """PATCH .../credentials/{credential_id}: 200 as recorded from real tenants (the spec says 201)."""
    authorize(request, 'update:client_credentials')
    body = await json_body(request)
    tenant = request.app.state.tenant
    cred = tenant.update_credential(request.path_params['id'], request.path_params['credential_id'], body)
    return JSONResponse(tenant.render_credential(cred))


async def delete_credential(request):
    """DELETE .../credentials/{credential_id}: 204, again for an already-deleted id."""
    authorize(request, 'delete:client_credentials')
    request.app.state.tenant.delete_credential(request.path_params['id'], request.path_params['credential_id'])
    return Response(status_code=204)


async def list_grants(request):
    """GET /api/v2/client-grants with client_id/audience filters and optional paging."""
    authorize(request, 'read:client_grants')
    params = query_params(request, ('client_id', 'audience', 'page', 'per_page', 'include_totals'))
    page = query_int(params, 'page', 0, 0, 100000)
    per_page = query_int(params, 'per_page', 50, 1, 100)
    totals = query_bool(params, 'include_totals', False)
    grants = request.app.state.tenant.list_grants(params.get('client_id'), params.get('audience'))
    chunk = grants[page * per_page:(page + 1) * per_page]
    if totals:
        return JSONResponse({'start': page * per_page, 'limit': per_page, 'length': len(chunk), 'total': len(grants), 'client_grants': chunk})
    return JSONResponse(chunk)


async def create_grant(request):
    """POST /api/v2/client-grants."""
    authorize(request, 'create:client_grants')
    body = await json_body(request)
    return JSONResponse(request.app.state.tenant.create_grant(body), status_code=201)


async def delete_grant(request):
    """DELETE /api/v2/client-grants/{id}."""
    authorize(request, 'delete:client_grants')
    request.app.state.tenant.delete_grant(request.path_params['id'])
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------
# /oauth/token


def basic_credentials(request):
    """(client_id, secret) from an Authorization: Basic header, or None."""
    header = request.headers.get('authorization', '')
    if not header.lower().startswith('basic '):
        return None
    try:
        user, dummy, password = base64.b64decode(header[6:].strip(), validate=True).decode('utf-8').partition(':')
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError(400, 'invalid_request', 'Malformed Authorization header') from exc
    return urllib.parse.unquote(user), urllib.parse.unquote(password)


async def token(request):
    """POST /oauth/token (form encoded, or JSON as Auth0 also accepts)."""
    ctype = request.headers.get('content-type', '').split(';')[0].strip().lower()
    if ctype == 'application/x-www-form-urlencoded':
        pairs = urllib.parse.parse_qsl((await request.body()).decode('utf-8', 'replace'), keep_blank_values=True)
        params = {}
        for key, value in pairs:
            if key in params:
                raise OAuthError(400, 'invalid_request', 'Parameter %s was given more than once' % key)
            params[key] = value
    elif ctype == 'application/json':
        try:
            params = json.loads(await request.body())
        except ValueError as exc:
            raise OAuthError(400, 'invalid_request', 'Invalid JSON body') from exc
        if not isinstance(params, dict):
            raise OAuthError(400, 'invalid_request', 'The body must be a JSON object')
    else:
        raise OAuthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded or application/json')
    body, info = request.app.state.tenant.issue_token(params, basic_credentials(request))
    request.state.log_client_id = info['client_id']
    request.state.log_kid = info['kid']
    return JSONResponse(body, headers={'Cache-Control': 'no-store', 'Pragma': 'no-cache'})


# ---------------------------------------------------------------------------------------------
# errors and the application


async def api_error(_request, exc):
    """Render an ApiError."""
    return JSONResponse(exc.body(), status_code=exc.status)


async def oauth_error(request, exc):
    """Render an OAuthError (and remember who was refused for the log)."""
    request.state.log_client_id = getattr(exc, 'client_id', None)
    request.state.log_kid = getattr(exc, 'kid', None)
    return JSONResponse(exc.body(), status_code=exc.status, headers={'Cache-Control': 'no-store', 'Pragma': 'no-cache'})


async def http_error(_request, exc):
    """Auth0-shaped 404/405 for unknown routes and methods."""
    reason = REASONS.get(exc.status_code, 'Error')
    if exc.status_code == 405:
        reason = 'Method Not Allowed'
    return JSONResponse({'statusCode': exc.status_code, 'error': reason, 'message': reason}, status_code=exc.status_code)


def routes():
    """The Management API and token endpoint routes."""
    base = '/api/v2/clients'
    return [
        Route(base, list_clients, methods=['GET']),
        Route(base, create_client, methods=['POST']),
        Route(base + '/{id}', get_client, methods=['GET']),
        Route(base + '/{id}', update_client, methods=['PATCH']),
        Route(base + '/{id}', delete_client, methods=['DELETE']),
        Route(base + '/{id}/credentials', list_credentials, methods=['GET']),
        Route(base + '/{id}/credentials', create_credential, methods=['POST']),
        Route(base + '/{id}/credentials/{credential_id}', get_credential, methods=['GET']),
        Route(base + '/{id}/credentials/{credential_id}', update_credential, methods=['PATCH']),
        Route(base + '/{id}/credentials/{credential_id}', delete_credential, methods=['DELETE']),
        Route('/api/v2/client-grants', list_grants, methods=['GET']),
        Route('/api/v2/client-grants', create_grant, methods=['POST']),
        Route('/api/v2/client-grants/{id}', delete_grant, methods=['DELETE']),
        Route(TOKEN_PATH, token, methods=['POST']),
    ]


def create_app(tenant, controls=None):
    """The full ASGI application (Management API, /oauth/token, /__emulator__/) with its middleware."""
    controls = controls or Controls()
    app = Starlette(routes=routes() + admin.routes(),
                    exception_handlers={ApiError: api_error, OAuthError: oauth_error, HTTPException: http_error})
    app.state.tenant = tenant
    app.state.controls = controls
    return EmulatorMiddleware(app, tenant, controls)
