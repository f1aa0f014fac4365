# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay of real Auth0 traffic (the go-auth0 cassettes in ../recordings/go-auth0) against the emulator.

Every recorded request is sent to a freshly reset emulator, ids in paths and bodies remapped from the
recorded ones to those the emulator answered with.  Each answer is compared with the recorded one: the
status code, the key sets of the JSON answer (recursively), and the values that follow from the request
alone (a public key's ``kid``, a certificate's ``thumbprint_sha256`` and ``subject_dn``, ``alg`` and
``credential_type``).  The interactions that do not match must be exactly those listed, each with its
reason, in the section "Replay: known differences" of the emulator's README.

How the recordings were made matters for the comparison (go-auth0's test recorder, ``management_test.go``
at the recorded commit): a client answer (POST, GET or PATCH of ``/api/v2/clients[/{id}]``) was decoded
into go-auth0's ``Client`` type and encoded again, with ``client_secret`` and ``signing_keys`` set to
``[REDACTED]`` whatever Auth0 had sent.  So such an answer shows only fields that type knows, without
nulls, and its ``client_secret``/``signing_keys`` say nothing about Auth0.  The comparison does the same
to the emulator's answer (keeps the fields of ``Client``, drops nulls) and leaves out those two fields
on both sides.  Credential answers were recorded as Auth0 sent them.
"""

import json
import pathlib
import re
import urllib.parse
import warnings

import pytest
import yaml  # PyYAML: installed with ansible-core (requirements-dev.txt)

from auth0_emulator import model
from auth0_emulator.http import create_app

HERE = pathlib.Path(__file__).resolve().parent
RECORDINGS = HERE.parent / 'recordings' / 'go-auth0'
README = HERE.parent / 'README.md'
MIN_MATCH = 0.95

# JSON field names of go-auth0's Credential and Client types (management/client.go, release v1.27.0):
# a nested dict is a nested type, a list holds the type of its items, None is a value kept whole.
GO_CREDENTIAL = dict.fromkeys(('id', 'name', 'kid', 'credential_type', 'pem', 'alg', 'parse_expiry_from_cert', 'created_at',
                               'updated_at', 'expires_at', 'subject_dn', 'thumbprint_sha256'))
GO_CLIENT = dict.fromkeys((
    'name', 'description', 'client_id', 'client_secret', 'app_type', 'logo_uri', 'is_first_party',
    'is_token_endpoint_ip_header_trusted', 'oidc_conformant', 'callbacks', 'allowed_origins', 'web_origins', 'client_aliases',
    'allowed_clients', 'allowed_logout_urls', 'signing_keys', 'encryption_key', 'sso', 'sso_disabled', 'cross_origin_authentication',
    'grant_types', 'cross_origin_loc', 'custom_login_page_on', 'custom_login_page', 'custom_login_page_preview', 'form_template',
    'addons', 'token_endpoint_auth_method', 'client_metadata', 'mobile', 'initiate_login_uri', 'native_social_login',
    'organization_usage', 'organization_require_behavior', 'require_pushed_authorization_requests', 'oidc_backchannel_logout',
    'oidc_logout', 'compliance_level', 'require_proof_of_possession', 'default_organization', 'token_exchange', 'token_quota',
    'session_transfer'))
GO_CLIENT.update({
    'jwt_configuration': dict.fromkeys(('lifetime_in_seconds', 'secret_encoded', 'scopes', 'alg')),
    'refresh_token': dict.fromkeys(('rotation_type', 'expiration_type', 'leeway', 'token_lifetime', 'infinite_token_lifetime',
                                    'infinite_idle_token_lifetime', 'idle_token_lifetime', 'policies')),
    'client_authentication_methods': {method: {'credentials': [GO_CREDENTIAL]}
                                      for method in ('private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth')},
    'signed_request_object': {'required': None, 'credentials': [GO_CREDENTIAL]},
})
# fields the recorder overwrote with "[REDACTED]" in every client answer
RECORDER_SET = ('client_secret', 'signing_keys')
# values that follow from the request alone, compared wherever both answers carry them
VALUE_KEYS = ('kid', 'thumbprint_sha256', 'subject_dn', 'alg', 'credential_type')
ID_KEYS = ('id', 'client_id')


# ---------------------------------------------------------------------------------------------
# cassettes


def cassettes():
    """The cassette files, by name."""
    return sorted(RECORDINGS.glob('*.yaml'))


def interactions(path):
    """The interactions of one cassette."""
    return yaml.safe_load(path.read_text(encoding='utf-8'))['interactions']


def is_placeholder(interaction):
    """A token request with go-auth0's placeholder form values: not an exchange an emulator can verify."""
    form = interaction['request'].get('form') or {}
    return urllib.parse.urlsplit(interaction['request']['url']).path == '/oauth/token' and \
        form.get('client_assertion') == ['test-client_assertion']


def rewritten_by_recorder(method, path, query):
    """Whether go-auth0's recorder re-encoded this answer through its Client type (see the module docstring)."""
    return (path.startswith('/api/v2/clients') and method in ('POST', 'GET', 'PATCH') and '/credentials' not in path
            and 'include_totals' not in query)


def known_differences():
    """The interactions listed in the README's "Replay: known differences" section: {"cassette#id": reason}."""
    text = README.read_text(encoding='utf-8')
    section = text.split('## Replay: known differences', 1)[1].split('\n## ', 1)[0]
    found = {}
    for match in re.finditer(r'^- `([^`]+)` #(\d+)[^:]*: (.+)$', section, re.M):
        found['%s#%s' % (match.group(1), match.group(2))] = match.group(3)
    return found


# ---------------------------------------------------------------------------------------------
# comparison


def project(value, shape):
    """``value`` as go-auth0 would re-encode it as ``shape`` (unknown fields and nulls dropped)."""
    if isinstance(shape, dict) and isinstance(value, dict):
        return {k: project(v, shape[k]) for k, v in value.items() if k in shape and v is not None}
    if isinstance(shape, list) and isinstance(value, list):
        return [project(v, shape[0]) for v in value]
    return value


def key_differences(recorded, actual, path='$'):
    """Differences of the key sets of two JSON values, recursively, as readable strings."""
    out = []
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in sorted(set(recorded) - set(actual)):
            out.append('%s.%s missing' % (path, key))
        for key in sorted(set(actual) - set(recorded)):
            out.append('%s.%s extra' % (path, key))
        for key in sorted(set(recorded) & set(actual)):
            out.extend(key_differences(recorded[key], actual[key], '%s.%s' % (path, key)))
            if key in VALUE_KEYS and not isinstance(recorded[key], (dict, list)) and recorded[key] != actual[key]:
                out.append('%s.%s is %r, recorded %r' % (path, key, actual[key], recorded[key]))
    elif isinstance(recorded, list) and isinstance(actual, list):
        if len(recorded) != len(actual):
            out.append('%s has %d items, recorded %d' % (path, len(actual), len(recorded)))
        for index, (rec, act) in enumerate(zip(recorded, actual)):
            out.extend(key_differences(rec, act, '%s[%d]' % (path, index)))
    elif isinstance(recorded, (dict, list)) or isinstance(actual, (dict, list)):
        out.append('%s is %s, recorded %s' % (path, type(actual).__name__, type(recorded).__name__))
    return out


def compare(method, path, query, recorded_status, recorded_body, status, body):
    """The differences of one answer from the recorded one (empty when they match)."""
    out = []
    if status != recorded_status:
        out.append('status %s, recorded %s' % (status, recorded_status))
    if recorded_body is None or body is None:
        if (recorded_body is None) != (body is None):
            out.append('body %s, recorded %s' % ('JSON' if body is not None else 'empty', 'JSON' if recorded_body is not None else 'empty'))
        return out
    if rewritten_by_recorder(method, path, query):
        recorded_body = {k: v for k, v in recorded_body.items() if k not in RECORDER_SET or '[REDACTED]' not in json.dumps(v)}
        body = {k: v for k, v in project(body, GO_CLIENT).items() if k not in RECORDER_SET}
    return out + key_differences(recorded_body, body)


def learn_ids(recorded, actual, ids):
    """Map recorded ids to the emulator's, walking both answers side by side."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in set(recorded) & set(actual):
            if key in ID_KEYS and isinstance(recorded[key], str) and isinstance(actual[key], str):
                ids.setdefault(recorded[key], actual[key])
            else:
                learn_ids(recorded[key], actual[key], ids)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for rec, act in zip(recorded, actual):
            learn_ids(rec, act, ids)


def remap(text, ids):
    """``text`` with every recorded id replaced by the emulator's."""
    for old in sorted(ids, key=len, reverse=True):
        text = text.replace(old, ids[old])
    return text


def json_or_none(text):
    """The JSON value of a body, None for an empty one."""
    return json.loads(text) if text and text.strip() else None


# ---------------------------------------------------------------------------------------------
# targets: the emulator subprocess, or the application in this process (for the negative control)


class Target:
    """Where requests go: ``send(method, path_and_query, body, headers)`` -> (status, text)."""

    def __init__(self, http, reset, token):
        self.http, self.reset, self.token = http, reset, token

    def send(self, method, url, body, headers):
        """One request with the management token."""
        headers = dict(headers, Authorization='Bearer %s' % self.token())
        response = self.http.request(method, url, content=body.encode() if body else None, headers=headers)
        return response.status_code, response.text


def subprocess_target(server):
    """The session's emulator subprocess (conftest), reset before each cassette."""
    def reset():
        assert server.admin('POST', 'reset').status_code == 200
        server.token(refresh=True)
    return Target(server.http, reset, server.token)


def in_process_target():
    """A fresh tenant served in this process (so that a test can monkeypatch the model)."""
    state = {}
    with warnings.catch_warnings():
        # Starlette's test client asks for a newer httpx than the pinned one; it works with both
        warnings.simplefilter('ignore')
        from starlette.testclient import TestClient  # pylint: disable=import-outside-toplevel

    def reset():
        tenant = model.Tenant('http://testserver')
        state['client'] = TestClient(create_app(tenant))
        answer = state['client'].post('/oauth/token', data={
            'grant_type': 'client_credentials', 'client_id': tenant.management_client_id,
            'client_secret': tenant.management_client_secret, 'audience': tenant.management_audience})
        state['token'] = answer.json()['access_token']
        target.http = state['client']

    target = Target(None, reset, lambda: state['token'])
    return target


def replay(target, cassette):
    """Replay one cassette on a freshly reset target; [(key, differences, is_placeholder)] per interaction."""
    target.reset()
    ids = {}
    results = []
    for interaction in interactions(cassette):
        key = '%s#%d' % (cassette.stem, interaction['id'])
        request, recorded = interaction['request'], interaction['response']
        url = urllib.parse.urlsplit(request['url'])
        if is_placeholder(interaction):
            results.append((key, [], True))
            continue
        method = request['method']
        path_and_query = remap(url.path + ('?' + url.query if url.query else ''), ids)
        headers = {'Content-Type': (request.get('headers') or {}).get('Content-Type', ['application/json'])[0]}
        status, text = target.send(method, path_and_query, remap(request.get('body') or '', ids), headers)
        recorded_body, body = json_or_none(recorded['body']), json_or_none(text)
        learn_ids(recorded_body, body, ids)
        results.append((key, compare(method, url.path, url.query, recorded['code'], recorded_body, status, body), False))
    return results


def replay_all(target):
    """Every cassette: (matched keys, {mismatching key: differences}, placeholder keys)."""
    matched, mismatched, placeholders = [], {}, []
    for cassette in cassettes():
        for key, differences, placeholder in replay(target, cassette):
            if placeholder:
                placeholders.append(key)
            elif differences:
                mismatched[key] = differences
            else:
                matched.append(key)
    return matched, mismatched, placeholders


# ---------------------------------------------------------------------------------------------
# tests


def test_cassettes_are_kept_with_their_licence_and_origin():
    assert len(cassettes()) == 13
    assert 'MIT License' in (RECORDINGS / 'LICENSE').read_text(encoding='utf-8')
    origin = (RECORDINGS / 'README.md').read_text(encoding='utf-8')
    assert 'github.com/auth0/go-auth0' in origin and 'df1084d' in origin and 'MIT' in origin


def test_replay_matches_except_the_listed_differences(server):
    matched, mismatched, placeholders = replay_all(subprocess_target(server))
    # the two token requests with placeholder form values are counted apart
    assert len(placeholders) == 2 and all(key.startswith('authentication_') for key in placeholders)
    assert len(matched) + len(mismatched) == 46
    listed = known_differences()
    details = '\n'.join('%s: %s' % (key, '; '.join(diff)) for key, diff in sorted(mismatched.items()))
    assert sorted(mismatched) == sorted(listed), 'mismatches differ from the README list:\n' + details
    assert len(matched) / 46 >= MIN_MATCH, '%d of 46 match' % len(matched)


def test_listed_differences_are_the_newer_omission_of_unset_expires_at(server):
    # each listed difference is the one its reason gives, and nothing else
    target = subprocess_target(server)
    for key in known_differences():
        cassette = RECORDINGS / (key.split('#')[0] + '.yaml')
        result = dict((k, d) for k, d, dummy in replay(target, cassette))[key]
        assert result and all(re.search(r'\.expires_at missing$', line) for line in result), result


def test_placeholder_token_requests_show_the_form_and_answer_of_a_private_key_jwt_request(server, keys):
    """The placeholder interactions cannot be replayed as they stand; their form, with a real client and
    assertion in place of the placeholders, gets the recorded answer's fields (the emulator adds scope)."""
    for cassette in [c for c in cassettes() if c.name.startswith('authentication_')]:
        interaction = interactions(cassette)[0]
        assert is_placeholder(interaction)
        form = {k: v[0] for k, v in interaction['request']['form'].items()}
        assert server.http.post('/oauth/token', data=form).status_code == 401
        server.admin('POST', 'reset')
        seeded = server.admin('POST', 'seed', json={'clients': [{'name': 'pkjwt', 'credentials': [
            {'credential_type': 'public_key', 'pem': _public_pem(keys[0])}], 'private_key_jwt': [0],
            'grants': [{'audience': 'https://api.example.com/', 'scope': []}]}]}).json()
        client_id = seeded['clients'][0]['client_id']
        form.update(client_id=client_id, audience='https://api.example.com/', client_assertion=server.assertion(keys[0], client_id))
        answer = server.http.post('/oauth/token', data=form)
        assert answer.status_code == interaction['response']['code'] == 200, answer.text
        assert set(json.loads(interaction['response']['body'])) <= set(answer.json())


def _public_pem(key):
    from conftest import public_pem  # pylint: disable=import-outside-toplevel
    return public_pem(key)


def test_negative_control_a_dropped_credential_field_is_caught(monkeypatch):
    """The emulator (in this process) dropping kid from credential answers makes the replay fail."""
    cassette = RECORDINGS / 'TestClient_CreateCredential.yaml'
    target = in_process_target()
    assert all(not diff for dummy, diff, dummy2 in replay(target, cassette)), 'the control needs a clean baseline'
    render = model.Tenant.render_credential

    def without_kid(cred, *args, **kwargs):
        out = render(cred, *args, **kwargs)
        out.pop('kid', None)
        return out

    monkeypatch.setattr(model.Tenant, 'render_credential', staticmethod(without_kid))
    results = {key: diff for key, diff, dummy in replay(target, cassette)}
    assert results['TestClient_CreateCredential#1'] == ['$.kid missing']
    assert '$.client_authentication_methods.private_key_jwt.credentials[0].kid missing' in results['TestClient_CreateCredential#0']


@pytest.mark.parametrize('recorded, actual, expected', [
    ({'a': 1, 'b': {'c': 2}}, {'a': 5, 'b': {'c': 3}}, []),
    ({'a': 1}, {}, ['$.a missing']),
    ({}, {'a': None}, ['$.a extra']),
    ({'b': [{'c': 1}]}, {'b': [{}]}, ['$.b[0].c missing']),
    ({'b': [1, 2]}, {'b': [1]}, ['$.b has 1 items, recorded 2']),
    ({'kid': 'x'}, {'kid': 'y'}, ["$.kid is 'y', recorded 'x'"]),
    ({'b': {}}, {'b': []}, ['$.b is list, recorded dict']),
])
def test_key_comparison(recorded, actual, expected):
    assert key_differences(recorded, actual) == expected


def test_client_answers_are_compared_as_the_recorder_encoded_them():
    recorded = {'client_id': 'a', 'client_secret': '[REDACTED]', 'signing_keys': [{'cert': '[REDACTED]'}], 'name': 'n'}
    actual = {'client_id': 'b', 'name': 'n', 'tenant': 't', 'global': False, 'description': None, 'signing_keys': []}
    assert compare('POST', '/api/v2/clients', '', 201, recorded, 201, actual) == []
    # a credential answer is compared as it is
    assert compare('GET', '/api/v2/clients/a/credentials/c', '', 200, {'id': 'c'}, 200, {'id': 'd', 'x': None}) == ['$.x extra']
