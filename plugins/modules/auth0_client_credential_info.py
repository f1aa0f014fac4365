#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: auth0_client_credential_info
short_description: List the credentials of Auth0 applications, with their enabled state and expiry
version_added: 1.0.0
description:
  - Returns the credentials of one Auth0 application (client), or of every application of the tenant, each with
    whether it is enabled, for which authentication method, and the days left until it expires.
  - Changes nothing.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - keyops.auth0.auth0.attributes
  - keyops.auth0.auth0.actiongroup_auth0
attributes:
  check_mode:
    support: full
    details: The module changes nothing, so it runs the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
  idempotent:
    support: full
options:
  client_id:
    description:
      - Client ID of one application. When omitted, every application of the tenant is listed (page by page),
        which costs one call per application.
      - The listing leaves out the tenant's global client (C(is_global), "All Applications"), which holds
        tenant-wide settings and is no application; applications of every C(app_type), resource server clients
        included, are listed.
    type: str
seealso:
  - module: keyops.auth0.auth0_client_credential
"""

EXAMPLES = r"""
- name: Read the credentials of one application
  keyops.auth0.auth0_client_credential_info:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
  register: info

- name: Fail when an enabled key expires within 30 days
  ansible.builtin.assert:
    that: >-
      info.clients[0].credentials
      | selectattr('enabled') | selectattr('days_until_expiry', 'number')
      | selectattr('days_until_expiry', 'lt', 30) | list | length == 0

- name: Inventory every application of the tenant
  keyops.auth0.auth0_client_credential_info:
    auth0_domain: acme.eu.auth0.com
  register: everything
"""

RETURN = r"""
auth0_domain:
  description: The Auth0 domain that was read (O(auth0_domain), or C(AUTH0_DOMAIN) where the module ran).
  returned: always
  type: str
  sample: acme.eu.auth0.com
  version_added: 2.0.0
clients:
  description: The applications, each with its credentials.
  returned: always
  type: list
  elements: dict
  contains:
    client_id:
      description: Client ID.
      type: str
      sample: 8Nm2nVPbWBRq2XcBpL0x4TqgC4mR7gVt
    name:
      description: Name of the application.
      type: str
      sample: billing
    authentication_method:
      description:
        - How the application authenticates now, one of the credential methods (V(private_key_jwt),
          V(tls_client_auth), V(self_signed_tls_client_auth)) or its C(token_endpoint_auth_method)
          (V(client_secret_post), V(client_secret_basic), V(none)); V(null) when Auth0 gives neither.
      type: str
      sample: private_key_jwt
    credentials:
      description: The credentials of the application, without PEM.
      type: list
      elements: dict
      contains:
        id:
          description: Credential ID.
          type: str
          sample: cred_1m7sfABoNTTKYwTQ8qt6tX
        name:
          description: Name.
          type: str
          sample: billing-2026-07
        kid:
          description: Key ID.
          type: str
          sample: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo
        alg:
          description: Signing algorithm.
          type: str
          sample: RS256
        credential_type:
          description: Credential type.
          type: str
          sample: public_key
        created_at:
          description: Creation date-time.
          type: str
          sample: "2026-07-01T09:00:00.000Z"
        updated_at:
          description: Last update date-time.
          type: str
          sample: "2026-07-01T09:00:00.000Z"
        expires_at:
          description: Expiry date-time, V(null) when none is set.
          type: str
          sample: "2027-07-01T00:00:00.000Z"
        thumbprint_sha256:
          description:
            - Base64url SHA-256 thumbprint of the certificate of an C(x509_cert) credential, which is how Auth0
              identifies it (such credentials have no kid).
          type: str
          returned: for C(x509_cert) credentials
          sample: 5qa1m4q0h1RQ2ZbOT8d7hWq0jX7D9p5pRk0i4Vx9Qyo
          version_added: 2.0.0
        subject_dn:
          description: Subject distinguished name of a C(cert_subject_dn) credential.
          type: str
          returned: for C(cert_subject_dn) credentials
          sample: CN=billing.example.com
          version_added: 2.0.0
        enabled:
          description: Whether the credential is in the enabled list of the application's authentication method.
          type: bool
          sample: true
        method:
          description: The authentication method it is enabled for, V(null) when it is not enabled.
          type: str
          sample: private_key_jwt
        used_by:
          description:
            - Every field of the application that lists the credential, among V(private_key_jwt),
              V(tls_client_auth), V(self_signed_tls_client_auth) (of C(client_authentication_methods)) and
              V(signed_request_object) (JWT-secured authorization requests); empty when none does.
          type: list
          elements: str
          sample: [private_key_jwt]
        in_use:
          description:
            - Whether any field of the application lists the credential (RV(clients[].credentials[].used_by) is
              not empty). A credential only C(signed_request_object) lists is in use without being enabled.
          type: bool
          sample: true
        days_until_expiry:
          description: Whole days until C(expires_at), negative once past, V(null) without an expiry date.
          type: int
          sample: 364
"""

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials as creds
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module


def run_module(module):
    api = module.client
    if module.params['client_id']:
        clients = [api.get_client(module.params['client_id'], fields=creds.CLIENT_FIELDS)]
    else:
        # without the global client; a client of any app_type may lack any field but its client_id
        clients = [c for c in api.list_clients(fields=creds.CLIENT_FIELDS) if c.get('client_id')]
    result = [creds.describe_client(c, api.list_credentials(c['client_id'])) for c in clients]
    module.exit_json(changed=False, clients=result, auth0_domain=module.params['auth0_domain'])


def main():
    module = Auth0Module(
        argument_spec=dict(client_id=dict(type='str')),
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
