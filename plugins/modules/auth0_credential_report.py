#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: auth0_credential_report
short_description: Report the expiry of Auth0 credentials as a table and as JSON, CSV and Markdown files
version_added: 2.0.0
description:
  - Lists every credential of one Auth0 application (client), or of every application of the tenant, with a
    status decided by the rules of the C(keyops.auth0.credential_rotation) role, prints them as a table and writes
    them, on request, to JSON, CSV and Markdown files on the controller.
  - 'The status of a credential is the first of these that holds: V(expired), its C(expires_at) is past;
    V(unused), no field of its application lists it (not enabled for an authentication method and not a key of
    signed requests, C(signed_request_object)): it can be deleted; V(due), by the rules the role rotates by, it
    expires within O(rotate_before_days) days or, with O(max_age_days) above 0, is that many days old; V(ok).'
  - The role rotates the C(private_key_jwt) keys of the clients its hosts use; the reason of a due credential that
    no C(private_key_jwt) method lists (a certificate of mutual TLS, a key of signed requests only) says to rotate
    it by hand.
  - Give O(rotate_before_days) and O(max_age_days) the values the role uses
    (C(credential_rotation_rotate_before_days), C(credential_rotation_max_age_days)), so that what the report calls
    due is what the next rotation run rotates for clients it handles; the C(keyops.auth0.report) playbook does that.
  - Reads Auth0 through the M(keyops.auth0.auth0_client_credential_info) module, where the task runs; writes the
    files and prints the table on the controller (an action plugin). Changes nothing in Auth0.
  - The report holds no secret (ids, names, kids and dates are not secret).
  - With an inventory, each row also names where the inventory sends its client's key (RV(credentials[].destinations)),
    from the C(credential_rotation_*) variables of the inventory hosts.
author:
  - keyops.auth0 contributors (@keyops)
extends_documentation_fragment:
  - keyops.auth0.auth0
  - keyops.auth0.auth0.actiongroup_auth0
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - In check mode the table is printed and the files that would be written are returned; none is written.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description:
      - A file is rewritten only when its content changes; the JSON and Markdown files carry the time of the report,
        so they change on every run, the CSV file only when a row does.
    support: partial
options:
  client_id:
    description:
      - Client ID of one application. When omitted, every application of the tenant is reported (the tenant's
        global client excepted), at one Management API call per application.
    type: str
  rotate_before_days:
    description:
      - A credential that expires within this many days is V(due), as the role rotates a key then
        (C(credential_rotation_rotate_before_days)).
    type: int
    default: 30
  max_age_days:
    description:
      - A credential at least this many days old (from its C(created_at)) is V(due); V(0) sets no age limit
        (C(credential_rotation_max_age_days)).
    type: int
    default: 0
  formats:
    description:
      - The files to write into O(dest), any of V(json), V(csv) and V(md) (Markdown); a list, or one string
        separated by commas (V(json,csv)). None by default.
      - V(json) holds C(schema_version), C(generated_at), C(tenant), C(policy), C(clients),
        C(clients_without_credentials), C(counts) and C(credentials), the rows as RV(credentials) describes them.
      - V(csv) has a header line and one line per credential with the columns C(client_id), C(client_name),
        C(credential_id), C(name), C(kid), C(credential_type), C(enabled_for) (separated by spaces), C(created_at),
        C(expires_at), C(days_left), C(age_days), C(status), C(reason) and C(destinations) (separated by C(; )); a
        name that a spreadsheet would read as a
        formula (starting with C(=), C(+), C(-) or C(@)) is written with a leading single quote. Ids and kids are
        written as Auth0 gives them; a kid may start with C(-), so import that column as text into a spreadsheet.
    type: list
    elements: str
    default: []
  dest:
    description:
      - The folder on the controller to write the files into, made when missing; required with O(formats). A
        relative path is taken from the controller's working directory. Given without O(formats), nothing is written
        and a warning says so.
      - The files are C(BASENAME.json), C(BASENAME.csv) and C(BASENAME.md) (O(basename)), each replaced atomically.
    type: path
  basename:
    description:
      - The name of the files without their extension.
    type: str
    default: auth0-credentials
  show_table:
    description:
      - Print the table (most urgent first, expired, due, unused, ok) on the controller's output. Turn it off with
        a callback that must print nothing else, such as C(ansible.posix.json).
    type: bool
    default: true
notes:
  - Dates are counted in UTC from the controller's clock.
  - Control characters in names are printed as C(\\xNN) in the table and the Markdown file.
seealso:
  - module: keyops.auth0.auth0_client_credential_info
  - ref: ansible_collections.keyops.auth0.docsite.guide_report
    description: Reporting credential expiry, the guide (statuses, files, AWX).
'''

EXAMPLES = r'''
- name: Report every credential of the tenant and write JSON and CSV files
  keyops.auth0.auth0_credential_report:
    rotate_before_days: 30
    max_age_days: 365
    formats: [json, csv]
    dest: /var/tmp/auth0-report
  register: report

- name: Fail when a credential is expired or due
  ansible.builtin.assert:
    that: report.counts.expired + report.counts.due == 0
    fail_msg: "{{ report.attention | map(attribute='reason') | join('; ') }}"
'''

RETURN = r'''
schema_version:
  description: The version of the layout of the rows and of the JSON file; raised only on a change that is not an addition.
  returned: always
  type: int
  sample: 1
generated_at:
  description: When the report was made (UTC).
  returned: always
  type: str
  sample: "2026-12-01T16:00:00.000Z"
policy:
  description: The O(rotate_before_days) and O(max_age_days) the statuses were decided with.
  returned: always
  type: dict
  sample: {rotate_before_days: 30, max_age_days: 0}
clients:
  description: How many applications were read.
  returned: always
  type: int
  sample: 12
clients_without_credentials:
  description: The client ids of the applications that have no credential.
  returned: always
  type: list
  elements: str
counts:
  description: How many credentials have each status.
  returned: always
  type: dict
  sample: {expired: 0, due: 1, unused: 2, ok: 9}
credentials:
  description: One row per credential, most urgent first.
  returned: always
  type: list
  elements: dict
  contains:
    client_id:
      description: Client ID of the application.
      type: str
    client_name:
      description: Name of the application (empty when it has none).
      type: str
    credential_id:
      description: Credential ID.
      type: str
      sample: cred_1m7sfABoNTTKYwTQ8qt6tX
    name:
      description: Name of the credential (empty when it has none).
      type: str
    kid:
      description: Key ID (the SHA-256 thumbprint for an C(x509_cert) credential; empty when neither is set).
      type: str
    credential_type:
      description: Credential type.
      type: str
      sample: public_key
    enabled_for:
      description:
        - Every field of the application that lists the credential (V(private_key_jwt), V(tls_client_auth),
          V(self_signed_tls_client_auth), V(signed_request_object)); empty for an unused credential.
      type: list
      elements: str
    created_at:
      description: Creation date-time.
      type: str
    expires_at:
      description: Expiry date-time; empty when none is set.
      type: str
    days_left:
      description: Whole days until C(expires_at), negative once past, V(null) without an expiry date.
      type: int
    age_days:
      description: Whole days since C(created_at).
      type: int
    status:
      description: V(expired), V(due), V(unused) or V(ok) (see the description).
      type: str
      sample: due
    reason:
      description: Why, in words.
      type: str
      sample: expires in 9 days (rotate_before_days 30)
    destinations:
      description:
        - Where the inventory sends the key of the credential's client (the role's C(credential_rotation_destination)),
          C(file on HOST, ...), C(vault MOUNT/PATH) or C(aws_secretsmanager NAME); empty when no inventory host names
          the client.
      type: list
      elements: str
      sample: [file on web1, web2, vault secret/apps/billing]
attention:
  description:
    - The rows whose status is not V(ok), with the fields C(client_id), C(client_name), C(credential_id), C(kid),
      C(status), C(reason), C(expires_at) and C(days_left).
  returned: always
  type: list
  elements: dict
expiring:
  description:
    - The ids of the credentials enabled for an authentication method that expire within O(rotate_before_days) days or
      have expired (the C(expiring) list of the report playbook of 1.0.0).
  returned: always
  type: list
  elements: str
files:
  description: The files written (in check mode, that would be written), one per format.
  returned: always
  type: list
  elements: str
  sample: [/var/tmp/auth0-report/auth0-credentials.json, /var/tmp/auth0-report/auth0-credentials.csv]
'''

from ansible_collections.keyops.auth0.plugins.module_utils._module import Auth0Module
from ansible_collections.keyops.auth0.plugins.module_utils._report import argument_spec


def main():
    """The report runs as an action plugin; run as a module it only says so."""
    module = Auth0Module(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg='keyops.auth0.auth0_credential_report runs as an action plugin on the controller; it cannot '
                         'run as a module.')


if __name__ == '__main__':
    main()
