#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: auth0_client_credential
short_description: Manage a credential (public key or certificate) of an Auth0 application
version_added: 1.0.0
description:
  - Creates, updates or deletes one credential record of an Auth0 application (client), such as the public key
    of a Private Key JWT key pair.
  - The credential is identified by O(credential_id), else by O(kid) (given, or computed locally from O(pem) as
    the RFC 7638 thumbprint, which is also how Auth0 names a key whose kid is not given), else by O(name).
  - An V(x509_cert) credential has no kid and no alg; it is identified by O(credential_id), else by the
    C(thumbprint_sha256) Auth0 gives it (the base64url SHA-256 of the DER certificate, computed locally from O(pem)),
    else by O(name). Its expiry is the C(notAfter) date of the certificate, set by Auth0.
  - Creating a credential does not enable it; use M(keyops.auth0.auth0_client_auth_methods) for that.
  - A run that changes nothing reads the credential list once, plus one token request unless O(auth0_token) is set.
    Deleting an enabled credential, or replacing one, also reads the client.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - keyops.auth0.auth0.attributes
  - keyops.auth0.auth0.actiongroup_auth0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  client_id:
    description:
      - Client ID of the application that holds the credential.
    type: str
    required: true
  state:
    description:
      - V(present) creates the credential if no credential matches, and brings O(expires_at) up to date.
      - V(absent) deletes the matching credential. A credential that is still enabled on the client is only
        deleted when O(detach=true), which first removes it from the enabled list.
      - A credential that the client lists in C(signed_request_object) (the keys of JWT-secured Authorization
        Requests, JAR) is in use there, so it is never deleted or replaced; remove it from that list first.
    type: str
    choices: [present, absent]
    default: present
  credential_id:
    description:
      - ID (C(cred_...)) of an existing credential. With O(state=present), a credential_id that does not exist
        is an error, since Auth0 chooses ids itself.
    type: str
  kid:
    description:
      - Key ID of the credential, 10 to 64 letters, digits, C(_) or C(-). Only for V(public_key) credentials.
      - When not given and O(pem) is, the RFC 7638 thumbprint of the public key is used, both to find the
        credential and as the kid of a new one.
      - A kid equal to that thumbprint is not sent when the credential is created, since Auth0 gives a credential
        created without a kid exactly that kid; any other kid is sent.
    type: str
  name:
    description:
      - Name of the credential, at most 128 characters. Used to find it when neither O(credential_id),
        O(kid) nor O(pem) is given.
      - Auth0 cannot rename a credential. If the credential is not enabled, a changed name replaces it
        (delete, then create with the same key and kid; needs O(pem)). If it is enabled, the module fails
        rather than break authentication.
    type: str
  credential_type:
    description:
      - Type of the credential. When creating, V(public_key) is used if not given.
      - V(public_key) takes an RSA public key (2048 to 4096 bits) or a certificate in O(pem), V(x509_cert) a
        certificate in O(pem), V(cert_subject_dn) a O(subject_dn) and no O(pem).
      - V(x509_cert) (for C(self_signed_tls_client_auth)) takes neither O(kid), O(alg) nor O(expires_at), since Auth0
        gives such a credential no kid or alg, and takes its expiry from the certificate.
    type: str
    choices: [public_key, x509_cert, cert_subject_dn]
  pem:
    description:
      - The public key (C(BEGIN PUBLIC KEY) or C(BEGIN RSA PUBLIC KEY)) or certificate (C(BEGIN CERTIFICATE)).
      - A private key is refused before any call to Auth0 and never echoed back; so are EC keys for
        V(public_key), RSA keys outside 2048-4096 bits, and text that is not PEM.
      - Auth0 never returns it, so it is only compared through the kid (through C(thumbprint_sha256) for
        V(x509_cert)).
    type: str
  alg:
    description:
      - Algorithm the application signs its client assertions with. Auth0 uses V(RS256) when not given.
      - Cannot be changed on an existing credential; it is handled like a changed O(name).
    type: str
    choices: [RS256, RS384, PS256]
  expires_at:
    description:
      - Expiry date of the credential, an ISO 8601 date or date-time in the future; without a zone it is UTC.
      - A changed value is updated in place.
    type: str
  parse_expiry_from_cert:
    description:
      - Set the expiry date from the C(notAfter) date of the certificate in O(pem). Exclusive with O(expires_at).
      - An V(x509_cert) credential always expires with its certificate; this option changes nothing for it and is
        not sent.
    type: bool
    default: false
  subject_dn:
    description:
      - Subject distinguished name, for V(cert_subject_dn) credentials only.
    type: str
  detach:
    description:
      - With O(state=absent), remove the credential from the client's enabled list first when it is on it.
      - Without it, deleting an enabled credential fails.
    type: bool
    default: false
  allow_empty:
    description:
      - Allow O(detach) to leave the client's enabled list empty, so that no key can authenticate it.
    type: bool
    default: false
seealso:
  - module: keyops.auth0.auth0_client_auth_methods
  - module: keyops.auth0.auth0_client_credential_info
"""

EXAMPLES = r"""
- name: Register the public key of a new key pair (kid is its RFC 7638 thumbprint)
  keyops.auth0.auth0_client_credential:
    auth0_domain: acme.eu.auth0.com
    client_id: "{{ app_client_id }}"
    name: billing-2026-07
    pem: "{{ lookup('ansible.builtin.file', 'billing.pub.pem') }}"
    alg: RS256
    expires_at: "2027-07-01T00:00:00Z"
  register: new_key

- name: Set defaults for the whole collection once, from the environment of an AWX credential
  module_defaults:
    group/keyops.auth0.auth0:
      auth0_domain: "{{ lookup('ansible.builtin.env', 'AUTH0_DOMAIN') }}"
  block:
    - name: Extend the expiry of a key
      keyops.auth0.auth0_client_credential:
        client_id: "{{ app_client_id }}"
        kid: "{{ new_key.credential.kid }}"
        expires_at: "2027-12-31"

- name: Delete a retired key, removing it from the enabled list first
  keyops.auth0.auth0_client_credential:
    client_id: "{{ app_client_id }}"
    credential_id: "{{ old_credential_id }}"
    state: absent
    detach: true
"""

RETURN = r"""
credential:
  description:
    - The credential after the run, without its PEM. V(null) when it is absent.
    - In check mode, server-set fields of a credential that would be created are V(null).
  returned: always
  type: dict
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
      description: Key ID (V(null) for certificate credentials).
      type: str
      sample: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo
    thumbprint_sha256:
      description: Base64url SHA-256 of the DER certificate of an V(x509_cert) credential.
      type: str
      returned: for V(x509_cert) credentials
      sample: NTkulT-DcSrRSevqZd26aq0DCz8YbOFGjKVs-Expu4w
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
diff:
  description: The credential before and after, without PEM; empty dictionaries stand for no credential.
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after: {id: null, name: billing-2026-07, kid: MvgWaC6Z_8cDHQCyMK7CXlRti2I5gpYQNkFeRl-7YJo, alg: RS256}
detached_from:
  description: The authentication method the credential was removed from before deletion, if any.
  returned: when O(state=absent) and O(detach=true) removed it from an enabled list
  type: str
  sample: private_key_jwt
"""

import base64
import hashlib

from ansible_collections.keyops.auth0.plugins.module_utils import _credentials as creds
from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Error
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import credential_view, enabled_credentials
from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module

IMMUTABLE = ('name', 'alg', 'credential_type')
#: Fields only a public_key credential takes (Auth0 gives certificate credentials no kid or alg, and an x509_cert
#: one the expiry of its certificate).
PUBLIC_KEY_ONLY = ('kid', 'alg', 'expires_at', 'parse_expiry_from_cert')


def certificate_thumbprint(certificate):
    """``thumbprint_sha256`` as Auth0 gives it to an x509_cert credential: base64url (no padding) of the SHA-256
    of the DER certificate."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b'=').decode('ascii')


def local_checks(module):
    """Validate everything that needs no call; return (kid, normalized expires_at, certificate expiry to set,
    certificate thumbprint, certificate expiry)."""
    p = module.params
    pem, ctype = p['pem'], p['credential_type']
    if pem and _keys.is_private_key_pem(pem):
        module.fail_json(msg='pem contains a private key. Give only the public key (BEGIN PUBLIC KEY) or a '
                             'certificate; a private key must never be sent to Auth0.')
    if ctype == 'x509_cert':
        given = [k for k in ('kid', 'alg', 'expires_at') if p[k] is not None]
        if given:
            module.fail_json(msg='%s: not for credential_type x509_cert. Auth0 gives an x509_cert credential no kid '
                                 'or alg, and the expiry of its certificate; it is found by the SHA-256 thumbprint '
                                 'of the certificate in pem.' % ', '.join(given))
    not_after = thumbprint = None
    kid = None
    try:
        if pem and ctype == 'x509_cert':
            certificate = _keys.load_certificate(pem)
            not_after = creds.format_datetime(_not_after(certificate))
            thumbprint = certificate_thumbprint(certificate)
        elif pem:
            _keys.load_public_key(pem)
            if '-----BEGIN CERTIFICATE-----' in pem:
                certificate = _keys.load_certificate(pem)
                not_after = creds.format_datetime(_not_after(certificate))
                thumbprint = certificate_thumbprint(certificate)
        if ctype != 'x509_cert':
            kid = p['kid'] and _keys.validate_kid(p['kid'])
            if not kid and pem:
                kid = _keys.kid_for_public_key(pem)
        expires_at = None
        if p['expires_at'] is not None and p['state'] == 'present':
            expires_at = creds.normalize_expires_at(p['expires_at'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if p['parse_expiry_from_cert'] and p['expires_at'] is not None:
        module.fail_json(msg='expires_at and parse_expiry_from_cert are mutually exclusive.')
    if p['parse_expiry_from_cert'] and not not_after:
        module.fail_json(msg='parse_expiry_from_cert needs a certificate (BEGIN CERTIFICATE) in pem.')
    if p['name'] is not None and not 0 < len(p['name']) <= 128:
        module.fail_json(msg='name must be 1 to 128 characters long.')
    if ctype == 'cert_subject_dn' and pem:
        module.fail_json(msg='A cert_subject_dn credential takes subject_dn, not pem.')
    if p['subject_dn'] and ctype not in (None, 'cert_subject_dn'):
        module.fail_json(msg='subject_dn is only for credential_type cert_subject_dn.')
    # an x509_cert credential expires with its certificate, set by Auth0: nothing to set or update
    cert_expiry = not_after if p['parse_expiry_from_cert'] and ctype != 'x509_cert' else None
    return kid, expires_at, cert_expiry, thumbprint, not_after


def _not_after(certificate):
    value = getattr(certificate, 'not_valid_after_utc', None)
    return value if value is not None else certificate.not_valid_after


def find_credential(module, credentials, kid, thumbprint=None):
    p = module.params
    if p['credential_id']:
        found = [c for c in credentials if c.get('id') == p['credential_id']]
        if not found and p['state'] == 'present':
            module.fail_json(msg='The client %s has no credential %s.' % (p['client_id'], p['credential_id']))
        return found[0] if found else None
    if kid or thumbprint:
        found = next((c for c in credentials if kid and c.get('kid') == kid), None)
        if found is None and thumbprint:
            # an x509_cert credential has no kid: Auth0 names it by the SHA-256 of its certificate
            found = next((c for c in credentials if c.get('thumbprint_sha256') == thumbprint), None)
        return found
    found = [c for c in credentials if c.get('name') == p['name']]
    if len(found) > 1:
        module.fail_json(msg='%d credentials of client %s are named %r (ids %s); give kid or credential_id.'
                         % (len(found), p['client_id'], p['name'], ', '.join(sorted(c['id'] for c in found))))
    return found[0] if found else None


def creation_body(module, kid, expires_at, cert_expiry, current_type=None):
    p = module.params
    body = {'credential_type': p['credential_type'] or current_type or 'public_key'}
    for key in ('name', 'pem', 'alg', 'subject_dn'):
        if p[key] is not None:
            body[key] = p[key]
    if kid and p['pem'] and kid != _keys.kid_for_public_key(p['pem']):
        body['kid'] = kid  # Auth0 sets the thumbprint itself when no kid is sent: only another one is sent
    if expires_at:
        body['expires_at'] = expires_at
    if cert_expiry:
        body['parse_expiry_from_cert'] = True
    if body['credential_type'] != 'public_key':
        # a certificate credential carries no kid or alg; an x509_cert one takes its expiry from the certificate
        for key in PUBLIC_KEY_ONLY if body['credential_type'] == 'x509_cert' else ('kid', 'alg'):
            body.pop(key, None)
    if body['credential_type'] == 'cert_subject_dn' and not p['subject_dn']:
        module.fail_json(msg='Creating a cert_subject_dn credential needs subject_dn.')
    if body['credential_type'] != 'cert_subject_dn' and not p['pem']:
        module.fail_json(msg='No credential of client %s matches; creating one needs pem.' % p['client_id'])
    return body


def predicted(body, kid, expires_at, thumbprint=None, not_after=None):
    out = credential_view(body)
    if body['credential_type'] == 'x509_cert':
        out.update(kid=None, alg=None, expires_at=not_after, thumbprint_sha256=thumbprint, id=None)
        return out
    out.update(kid=kid if body['credential_type'] == 'public_key' else None,
               alg=body.get('alg') or ('RS256' if body.get('pem') and body['credential_type'] == 'public_key' else None),
               expires_at=expires_at, id=None)
    return out


def create(module, body, kid, thumbprint=None):
    """POST the credential. When that fails (its answer lost, or "already exist" to a retry whose first try
    landed), the list is read back once: a credential with ``kid`` there (with ``thumbprint``, the SHA-256 of the
    certificate, for an x509_cert one, which has no kid) is the one this run created (Auth0 refuses the same key
    twice on a client), and it is returned instead of the error."""
    client_id = module.params['client_id']
    if body['credential_type'] == 'x509_cert':
        key, value = 'thumbprint_sha256', thumbprint
    else:
        key, value = 'kid', kid
    try:
        return module.client.create_credential(client_id, body)
    except Auth0Error as error:
        found = None
        if value:
            try:
                found = next((c for c in module.client.list_credentials(client_id) if c.get(key) == value), None)
            except Auth0Error:
                found = None
        if found is None:
            raise error from None
        return found


def read_uses(module):
    """(method, enabled ids, {id: [client fields that list it]}) of the client: one GET of the two fields that
    list credential ids."""
    fields = ['client_authentication_methods', 'signed_request_object']
    found = module.client.get_client(module.params['client_id'], fields=fields)
    method, enabled = enabled_credentials(found)
    return method, enabled, creds.credential_uses(found)


def refuse_jar(module, current, uses, what):
    if 'signed_request_object' in uses.get(current['id'], []):
        module.fail_json(msg='Credential %s of client %s is listed in its signed_request_object (the keys of JWT-secured '
                             'Authorization Requests): %s it would break them. Remove it from that list first; nothing '
                             'was changed.' % (current['id'], module.params['client_id'], what))


def ensure_absent(module, current):
    client_id, client = module.params['client_id'], module.client
    result = {'changed': True, 'credential': None}
    method, enabled, uses = read_uses(module)
    refuse_jar(module, current, uses, 'deleting')
    if current['id'] in enabled:
        if not module.params['detach']:
            module.fail_json(msg='Credential %s is still enabled (%s) on client %s; set detach=true to remove it '
                                 'from the enabled list first.' % (current['id'], method, client_id))
        remaining = [i for i in enabled if i != current['id']]
        if not remaining and not module.params['allow_empty']:
            module.fail_json(msg='Credential %s is the only one enabled (%s) on client %s; detaching it would leave '
                                 'no usable key. Enable another one first, or set allow_empty=true.'
                                 % (current['id'], method, client_id))
        result['detached_from'] = method
        if not module.check_mode:
            client.update_client(client_id, {'client_authentication_methods': {
                method: {'credentials': [{'id': i} for i in remaining]}}})
    if not module.check_mode:
        client.delete_credential(client_id, current['id'])
    return result


def ensure_present(module, current, credentials, checked):
    p, client = module.params, module.client
    kid, expires_at, cert_expiry, thumbprint, not_after = checked
    if current is None:
        if len(credentials) >= 4:
            module.fail_json(msg='Client %s already has %d credentials, the most Auth0 allows; delete one first.'
                             % (p['client_id'], len(credentials)))
        body = creation_body(module, kid, expires_at, cert_expiry)
        if module.check_mode:
            return True, predicted(body, kid, cert_expiry or expires_at, thumbprint, not_after)
        return True, credential_view(create(module, body, kid, thumbprint))
    expires_at = cert_expiry or expires_at
    changed_fixed = [k for k in IMMUTABLE if p[k] is not None and p[k] != current.get(k)]
    if p['subject_dn'] is not None and current.get('subject_dn') not in (None, p['subject_dn']):
        changed_fixed.append('subject_dn')
    if changed_fixed:
        return replace(module, current, changed_fixed, kid or current.get('kid'), expires_at or current.get('expires_at'),
                       thumbprint or current.get('thumbprint_sha256'), not_after)
    if expires_at and not creds.same_instant(expires_at, current.get('expires_at')):
        after = dict(credential_view(current), expires_at=expires_at)
        if not module.check_mode:
            after = credential_view(client.update_credential(p['client_id'], current['id'], {'expires_at': expires_at}) or after)
        return True, after
    return False, credential_view(current)


def replace(module, current, fields, kid, expires_at, thumbprint=None, not_after=None):
    """Auth0 cannot change name, alg or type: replace an unused credential with the same key and kid."""
    p, client = module.params, module.client
    what = ', '.join('%s %r -> %r' % (f, current.get(f), p[f]) for f in fields)
    method, enabled, uses = read_uses(module)
    refuse_jar(module, current, uses, 'replacing')
    if current['id'] in enabled:
        module.fail_json(msg='Credential %s of client %s is enabled (%s) and Auth0 cannot change its %s (%s); '
                             'replacing it would break authentication. Disable it first or keep these fields.'
                         % (current['id'], p['client_id'], method, ', '.join(fields), what))
    if not p['pem'] and (p['credential_type'] or current.get('credential_type')) != 'cert_subject_dn':
        module.fail_json(msg='Auth0 cannot change the %s of credential %s (%s); give pem to replace it with '
                             'the same key.' % (', '.join(fields), current['id'], what))
    body = creation_body(module, kid, expires_at, None, current.get('credential_type'))
    for key in IMMUTABLE:
        if current.get(key) is not None and (key != 'alg' or body['credential_type'] == 'public_key'):
            body.setdefault(key, current.get(key))
    if module.check_mode:
        return True, predicted(body, kid, expires_at, thumbprint, not_after or current.get('expires_at'))
    client.delete_credential(p['client_id'], current['id'])
    return True, credential_view(create(module, body, kid, thumbprint))


def run_module(module):
    p = module.params
    checked = local_checks(module)
    kid, thumbprint = checked[0], checked[3]
    credentials = module.client.list_credentials(p['client_id'])
    current = find_credential(module, credentials, kid, thumbprint)
    before = credential_view(current) if current else {}
    if p['state'] == 'absent':
        result = ensure_absent(module, current) if current else {'changed': False, 'credential': None}
        after = {}
    else:
        changed, after = ensure_present(module, current, credentials, checked)
        result = {'changed': changed, 'credential': after}
    if module._diff:
        result['diff'] = {'before': before, 'after': after}
    module.exit_json(**result)


def main():
    module = Auth0Module(
        argument_spec=dict(
            client_id=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            credential_id=dict(type='str'),
            kid=dict(type='str'),
            name=dict(type='str'),
            credential_type=dict(type='str', choices=['public_key', 'x509_cert', 'cert_subject_dn']),
            pem=dict(type='str', no_log=True),
            alg=dict(type='str', choices=list(_keys.ALGORITHMS)),
            expires_at=dict(type='str'),
            parse_expiry_from_cert=dict(type='bool', default=False),
            subject_dn=dict(type='str'),
            detach=dict(type='bool', default=False),
            allow_empty=dict(type='bool', default=False),
        ),
        required_one_of=[('credential_id', 'kid', 'pem', 'name')],
        mutually_exclusive=[('pem', 'subject_dn')],
        supports_check_mode=True,
    )
    module.run(run_module)


if __name__ == '__main__':
    main()
