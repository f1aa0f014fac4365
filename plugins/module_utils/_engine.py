# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Auth0 steps of a rotation for one client, over the collection's Auth0 client.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
The credential_rotation action plugin calls these for every client of the play at once (threads
sharing one Auth0Client, so one management token and one back-off on 429). Every PATCH of the list
of enabled credentials is computed from the client as a read made just before it returned it (a GET,
or the answer of the PATCH that wrote the run marker): Auth0 has no compare-and-set, so a list
computed from an older read would undo what another writer did in between. A rotated client costs:
GET client, GET credentials, PATCH (run marker), GET client (marker read back, the list before
enabling), POST credential, PATCH (enable), one GET per promotion batch, GET client (before
retiring), PATCH (disable the old, remove the marker), DELETE credential.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials, _keys, _marker
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Error

METHOD = 'private_key_jwt'
#: The client fields the engine reads: the collection's, and client_metadata for the run marker.
FIELDS = tuple(_credentials.CLIENT_FIELDS) + ('client_metadata',)


def read_client(auth0, client_id):
    """(client, credentials) as Auth0 has them now: two GETs."""
    client = get_client(auth0, client_id)
    credentials = auth0.list_credentials(client_id)
    return client, credentials


def get_client(auth0, client_id):
    """The client as Auth0 has it now (the fields the engine needs): one GET."""
    return auth0.get_client(client_id, fields=FIELDS)


def _answer(client, answer, body):
    """The client after a PATCH: Auth0's answer (the whole client), or the body applied to what we had."""
    if isinstance(answer, dict) and answer.get('client_id'):
        return answer
    return dict(client, **body)


def write_marker(auth0, client, value, check_mode):
    """PATCH the run marker into client_metadata (None removes it); returns the client after."""
    body = {'client_metadata': {_marker.KEY: value}}
    if check_mode:
        return client
    return _answer(client, auth0.update_client(client['client_id'], body), body)


def is_enabled(client, credential_id):
    """Whether ``credential_id`` is in the client's private_key_jwt list."""
    return bool(credential_id) and credential_id in enabled_ids(client)


def enabled_ids(client):
    """The ids of the credentials enabled for private_key_jwt."""
    method, ids = _credentials.enabled_credentials(client)
    return ids if method == METHOD else []


def set_enabled(auth0, client, ids, check_mode, switch_from_secret=False, release_marker=False, forget_window=False):
    """PATCH the private_key_jwt list of enabled credentials to ``ids`` (``client`` must be fresh: read just
    before); with ``release_marker`` the same PATCH removes the run marker, with ``forget_window`` the recorded
    overlap window. Returns the client after."""
    body = {'client_authentication_methods': {METHOD: {'credentials': [{'id': i} for i in ids]}}}
    if switch_from_secret:
        body['token_endpoint_auth_method'] = None
    metadata = _forget(release_marker, forget_window)
    if metadata:
        body['client_metadata'] = metadata
    if check_mode:
        return dict(client, **body)
    return _answer(client, auth0.update_client(client['client_id'], body), body)


def free(auth0, client, credentials, freed, check_mode):
    """Delete credentials no host uses, to make room within Auth0's caps (detached first when enabled).
    ``client`` is fresh; each detaching PATCH starts from the answer of the previous one."""
    for entry in freed:
        current = enabled_ids(client)
        if entry['id'] in current:
            client = set_enabled(auth0, client, [i for i in current if i != entry['id']], check_mode)
        if not check_mode:
            auth0.delete_credential(client['client_id'], entry['id'])
        credentials = [c for c in credentials if c.get('id') != entry['id']]
    return client, credentials


def register(auth0, client, credentials, name, public_key, kid, alg, expires_in_days, check_mode, now=None):
    """POST the new public key as a credential (unless a credential with its kid exists); returns it.

    ``kid`` goes into the body only when it is not the RFC 7638 thumbprint of the key: Auth0 gives a credential
    sent without a kid that thumbprint, so the credential still has ``kid`` and is still found by it.
    When the POST fails (its answer lost, or "already exist" to a retry whose first try landed), the list is
    read back once: the credential with ``kid`` there is the one this call created (Auth0 refuses the same
    key twice on a client), and it is returned instead of the error.
    """
    for credential in credentials:
        if credential.get('kid') == kid:
            return credential, credentials
    body = {'credential_type': 'public_key', 'name': name, 'pem': public_key, 'alg': alg}
    try:
        thumbprint = _keys.kid_for_public_key(public_key)
    except ValueError:  # not a key this collection reads: the kid is sent as it is
        thumbprint = None
    if kid != thumbprint:
        body['kid'] = kid
    if expires_in_days and int(expires_in_days) > 0:
        moment = (now or datetime.datetime.now(datetime.timezone.utc)) + datetime.timedelta(days=int(expires_in_days))
        body['expires_at'] = moment.strftime('%Y-%m-%dT%H:%M:%S.000Z')
    if check_mode:
        created = {'id': None, 'name': name, 'kid': kid, 'alg': alg, 'credential_type': 'public_key',
                   'expires_at': body.get('expires_at')}
    else:
        try:
            created = auth0.create_credential(client['client_id'], body)
        except Auth0Error as error:
            try:
                created = next((c for c in auth0.list_credentials(client['client_id']) if c.get('kid') == kid), None)
            except Auth0Error:
                created = None
            if created is None:
                raise error from None
    return created, credentials + [created]


def verify(auth0, client_id, private_key, alg, kid, audience, attempts=4, delay=2.0, sleep=None):
    """Obtain a token with the new key: the proof that Auth0 accepts it. Returns None, or the reason it failed.

    Only two answers are proof: a token, and a 403 ``access_denied`` that names a missing client grant ("Client is
    not authorized to access ...", "Client has not been granted scopes ..."), which Auth0 gives after it
    authenticated the assertion (_credentials.token_refusal). Anything else, a throttled answer (429, or a 403
    "Rate limit reached") above all, proves nothing: it is retried, ``attempts`` in all, waiting ``delay`` then
    twice as long each time (a new credential may also take a moment to be seen everywhere), and the reason
    then says what the answers were, naming the throttling. No old credential is retired without the proof.
    """
    sleep = sleep or getattr(auth0, '_sleep', None) or time.sleep
    refusals, last = [], None
    for attempt in range(attempts):
        if attempt:
            sleep(delay * 2 ** (attempt - 1))
        try:
            auth0.request_token(client_id, private_key=private_key, alg=alg, kid=kid, audience=audience or None)
            return None
        except Auth0Error as error:
            refusal = _credentials.token_refusal(error.status, error.error_code or error.error, error.message)
            if refusal == 'missing_grant':
                return None
            if refusal == 'no_service':  # asking again changes nothing
                return _credentials.no_service_failure(error, audience or auth0.management_audience)
            refusals.append(refusal)
            last = str(error)
    return _credentials.token_failure(refusals, attempts, last)


def _forget(release_marker, forget_window):
    metadata = {}
    if release_marker:
        metadata[_marker.KEY] = None
    if forget_window:
        metadata[_marker.WINDOW_KEY] = None
    return metadata


def write_window(auth0, client, value, check_mode):
    """PATCH the overlap window (``_marker.window_value``) into client_metadata; returns the client after."""
    body = {'client_metadata': {_marker.WINDOW_KEY: value}}
    if check_mode:
        return client
    return _answer(client, auth0.update_client(client['client_id'], body), body)


def retire(auth0, client, retire_list, check_mode, release_marker=False, forget_window=False):
    """Disable (one PATCH for all, computed from ``client``, which the caller read just before) and delete
    the credentials of the previous keys; with ``release_marker`` that PATCH (or one of its own) also
    removes the run marker, with ``forget_window`` the recorded overlap window. Returns what was retired."""
    ids = set(c['id'] for c in retire_list)
    current = enabled_ids(client)
    if ids & set(current):
        set_enabled(auth0, client, [i for i in current if i not in ids], check_mode, release_marker=release_marker,
                    forget_window=forget_window)
    elif release_marker or forget_window:
        body = {'client_metadata': _forget(release_marker, forget_window)}
        if not check_mode:
            _answer(client, auth0.update_client(client['client_id'], body), body)
    done = []
    for entry in retire_list:
        if not check_mode:
            try:
                auth0.delete_credential(client['client_id'], entry['id'])
            except Auth0Error as error:
                if error.status != 404:  # gone already (deleted by hand, or a lost answer): that is the goal
                    raise
        done.append(entry)
    return done
