# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Base class of the keyops.auth0 modules.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.

``Auth0Module`` owns the connection options (``auth0_argument_spec()``, documented by the
``keyops.auth0.auth0`` doc fragment), builds the one ``Auth0Client`` lazily, and turns every
``Auth0Error`` and key ``ValueError`` into ``fail_json`` in one place.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._client import (
    HAS_HTTPX,
    HTTPX_IMPORT_ERROR,
    Auth0Client,
    Auth0Error,
)


def env_fallback(*args, **kwargs):
    """Like Ansible's env_fallback, but an empty variable counts as unset.

    AWX custom credential types inject every variable of their injectors, so a credential with
    only a client secret still sets ``AUTH0_API_TOKEN=""`` and ``AUTH0_CLIENT_ASSERTION_PRIVATE_KEY=""``.
    Those must not pick the access method, fail ``choices`` (signing alg) or name a CA file.
    """
    for name in args:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return value
    raise AnsibleFallbackNotFound


def auth0_argument_spec():
    """The connection options every module of the auth0 action group accepts."""
    return dict(
        auth0_domain=dict(type='str', required=True, fallback=(env_fallback, ['AUTH0_DOMAIN'])),
        auth0_audience=dict(type='str', fallback=(env_fallback, ['AUTH0_AUDIENCE'])),
        auth0_client_id=dict(type='str', fallback=(env_fallback, ['AUTH0_CLIENT_ID'])),
        auth0_client_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['AUTH0_CLIENT_SECRET'])),
        auth0_client_assertion_private_key=dict(type='str', no_log=True,
                                                fallback=(env_fallback, ['AUTH0_CLIENT_ASSERTION_PRIVATE_KEY'])),
        auth0_client_assertion_signing_alg=dict(type='str', choices=list(_keys.ALGORITHMS),
                                                fallback=(env_fallback, ['AUTH0_CLIENT_ASSERTION_SIGNING_ALG'])),
        auth0_token=dict(type='str', no_log=True, fallback=(env_fallback, ['AUTH0_API_TOKEN'])),
        validate_certs=dict(type='bool', default=True),
        auth0_ca_path=dict(type='path', fallback=(env_fallback, ['AUTH0_CA_PATH'])),
        timeout=dict(type='float', default=30),
        retries=dict(type='int', default=5),
    )


class Auth0Module(AnsibleModule):
    """AnsibleModule with the Auth0 connection options and one lazily built Auth0Client."""

    #: Passed to every Auth0Client this class builds (tests set a mock transport and a no-op sleep).
    client_options = {}

    def __init__(self, argument_spec=None, **kwargs):
        spec = auth0_argument_spec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        if not HAS_HTTPX:
            self.fail_json(msg=missing_required_lib('httpx'), exception=HTTPX_IMPORT_ERROR)
        if not _keys.HAS_CRYPTOGRAPHY:
            self.fail_json(msg=missing_required_lib('cryptography'), exception=_keys.CRYPTOGRAPHY_IMPORT_ERROR)
        self._auth0 = None
        if self.params['timeout'] <= 0:
            self.fail_json(msg='timeout must be greater than 0.')
        if self.params['retries'] < 0:
            self.fail_json(msg='retries must be 0 or more.')

    @property
    def client(self):
        """The Auth0Client of this run (built on first use, so that local checks come first)."""
        if self._auth0 is None:
            p = self.params
            self._auth0 = Auth0Client(
                p['auth0_domain'],
                client_id=p['auth0_client_id'],
                client_secret=p['auth0_client_secret'],
                private_key=p['auth0_client_assertion_private_key'],
                signing_alg=p['auth0_client_assertion_signing_alg'] or 'RS256',
                token=p['auth0_token'],
                validate_certs=p['validate_certs'],
                ca_path=p['auth0_ca_path'],
                timeout=p['timeout'],
                retries=p['retries'],
                audience=p['auth0_audience'],
                **self.client_options
            )
        return self._auth0

    def fail_auth0(self, error, **result):
        """fail_json for an Auth0Error: the message, and the error's fields in ``api_error``."""
        self.fail_json(msg=str(error), api_error=error.to_dict(), **result)

    def run(self, function):
        """Call ``function(self)`` and turn Auth0Error into fail_json, in one place."""
        try:
            function(self)
        except Auth0Error as error:
            self.fail_auth0(error)
        finally:
            if self._auth0 is not None:
                self._auth0.close()
