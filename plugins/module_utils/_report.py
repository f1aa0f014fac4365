# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The expiry report: one row per credential with its status, and the same rows as JSON, CSV, Markdown and a
console table.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.
Pure: no call, no file. The auth0_credential_report action plugin reads the clients and writes the files.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from ansible_collections.keyops.auth0.plugins.module_utils._credentials import STATUSES, age_days, credential_status, days_until

#: Version of the layout of the JSON file and of the set_stats data; raised on any change that is not an addition.
SCHEMA_VERSION = 1
#: The columns of a row, in the order of the CSV file and of the JSON rows.
COLUMNS = ('client_id', 'client_name', 'credential_id', 'name', 'kid', 'credential_type', 'enabled_for', 'created_at',
           'expires_at', 'days_left', 'age_days', 'status', 'reason', 'destinations')
FORMATS = ('json', 'csv', 'md')
#: The authentication method whose keys the credential_rotation role rotates.
ROLE_METHOD = 'private_key_jwt'
#: Characters that make a spreadsheet read a cell as a formula (CSV injection): a name that starts with one gets a
#: leading ' in the CSV file. Only the names, which tenant admins type; ids, kids and dates are left as Auth0 gives them.
_FORMULA = ('=', '+', '-', '@', '\t', '\r')
_FREE_TEXT = ('client_name', 'name')


def argument_spec():
    """The options of auth0_credential_report besides the connection options (its action plugin and its
    documentation stub both use them)."""
    return dict(
        client_id=dict(type='str'),
        rotate_before_days=dict(type='int', default=30),
        max_age_days=dict(type='int', default=0),
        formats=dict(type='list', elements='str', default=[]),
        dest=dict(type='path'),
        basename=dict(type='str', default='auth0-credentials'),
        show_table=dict(type='bool', default=True),
    )


def rows(clients, rotate_before_days, max_age_days, now, destinations=None):
    """The rows of the report, most urgent first: expired, due, unused, ok; then the fewest days left, the client's
    name and the credential id. ``clients`` as auth0_client_credential_info returns them; ``destinations``:
    {client id: [where the inventory sends its key]} (see inventory_destinations)."""
    out = []
    for client in clients:
        for credential in client.get('credentials') or []:
            status, reason = credential_status(credential, rotate_before_days, max_age_days, now)
            used_by = list(credential.get('used_by') or ([credential['method']] if credential.get('method') else []))
            if status == 'due' and ROLE_METHOD not in used_by:
                reason += '; not a %s key: the credential_rotation role does not rotate it, rotate it by hand' % ROLE_METHOD
            age = age_days(credential.get('created_at'), now)
            out.append({
                'client_id': client.get('client_id'),
                'client_name': client.get('name') or '',
                'credential_id': credential.get('id'),
                'name': credential.get('name') or '',
                'kid': credential.get('kid') or credential.get('thumbprint_sha256') or '',
                'credential_type': credential.get('credential_type') or '',
                'enabled_for': used_by,
                'created_at': credential.get('created_at') or '',
                'expires_at': credential.get('expires_at') or '',
                'days_left': days_until(credential.get('expires_at'), now=now),
                'age_days': int(age) if age is not None else None,
                'status': status,
                'reason': reason,
                'destinations': list((destinations or {}).get(client.get('client_id')) or []),
            })
    far = float('inf')
    out.sort(key=lambda r: (STATUSES.index(r['status']), far if r['days_left'] is None else r['days_left'],
                            r['client_name'], r['client_id'] or '', r['credential_id'] or ''))
    return out


def counts(report_rows):
    """{status: how many rows have it}, every status present."""
    out = dict((status, 0) for status in STATUSES)
    for row in report_rows:
        out[row['status']] += 1
    return out


def document(report_rows, clients, policy, generated_at, tenant):
    """The JSON document: schema version, when, which tenant and rules, the counts and every row."""
    return {
        'schema_version': SCHEMA_VERSION,
        'generated_at': generated_at,
        'tenant': tenant,
        'policy': dict(policy),
        'clients': len(clients),
        'clients_without_credentials': sorted(c.get('client_id') or '' for c in clients if not c.get('credentials')),
        'counts': counts(report_rows),
        'credentials': report_rows,
    }


def to_json(doc):
    return json.dumps(doc, indent=2, sort_keys=False) + '\n'


def _cell(column, value):
    if value is None:
        return ''
    if isinstance(value, list):
        return ' '.join(value)
    if column in _FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(report_rows):
    """CSV with a header of COLUMNS; ``enabled_for`` space-separated; a text cell that a spreadsheet would run as a
    formula (a name starting with = + - @) is prefixed with a single quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(COLUMNS)
    for row in report_rows:
        writer.writerow([_cell(c, row[c]) for c in COLUMNS])
    return buffer.getvalue()


def inventory_destinations(hosts):
    """{client id: [destinations]} from {host: {credential_rotation_* variables}} of the inventory: ``file on HOST,
    ...`` for the hosts that hold a key file, ``vault MOUNT/PATH`` and ``aws_secretsmanager NAME`` for store entries."""
    files, stores = {}, {}
    for host in sorted(hosts):
        variables = hosts[host] or {}
        client_id = str(variables.get('credential_rotation_client_id') or '').strip()
        if not client_id:
            continue
        destination = variables.get('credential_rotation_destination') or 'file'
        path = variables.get('credential_rotation_key_path') or ''
        if destination == 'file':
            files.setdefault(client_id, []).append(host)
        elif destination == 'vault':
            stores.setdefault(client_id, []).append('vault %s/%s' % (variables.get('credential_rotation_vault_mount') or 'secret', path))
        else:
            stores.setdefault(client_id, []).append('%s %s' % (destination, path))
    out = {}
    for client_id in set(files) | set(stores):
        out[client_id] = (['file on %s' % ', '.join(files[client_id])] if client_id in files else []) + sorted(set(stores.get(client_id, [])))
    return out


TABLE = (('STATUS', 'status'), ('CLIENT', 'client'), ('CREDENTIAL', 'credential'), ('KID', 'kid'),
         ('ENABLED FOR', 'enabled_for'), ('EXPIRES', 'expires'), ('DAYS LEFT', 'days_left'), ('REASON', 'reason'))


def printable(text):
    """``text`` safe to print: control characters (escape sequences, carriage returns, new lines) as \\xNN, so that a
    name can neither rewrite the terminal line nor split a row."""
    return ''.join(c if unicodedata.category(c)[0] != 'C' or c == ' ' else '\\x%02x' % ord(c) if ord(c) < 256
                   else '\\u%04x' % ord(c) for c in str(text))


def width(text):
    """The columns ``text`` takes in a terminal: wide (East Asian) characters take two, combining ones none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ('W', 'F') else 1 for c in text)


def _pad(text, columns):
    return text + ' ' * max(0, columns - width(text))


def _table_values(row):
    client = '%s (%s)' % (row['client_name'], row['client_id']) if row['client_name'] else row['client_id']
    credential = '%s %s' % (row['credential_id'], row['name']) if row['name'] else row['credential_id']
    values = {'status': row['status'], 'client': client, 'credential': credential, 'kid': row['kid'] or '-',
              'enabled_for': ', '.join(row['enabled_for']) or '-', 'expires': (row['expires_at'] or 'never')[:10],
              'days_left': '-' if row['days_left'] is None else str(row['days_left']), 'reason': row['reason'],
              'destinations': '; '.join(row.get('destinations') or []) or '-'}
    return dict((k, printable(v)) for k, v in values.items())


def _columns(report_rows):
    """The table's columns: DESTINATIONS (before REASON) only when the inventory named some."""
    if any(r.get('destinations') for r in report_rows):
        return TABLE[:-1] + (('DESTINATIONS', 'destinations'),) + TABLE[-1:]
    return TABLE


def table(report_rows):
    """The console table as lines: every column as wide as its longest value (nothing cut), the last one free."""
    columns = _columns(report_rows)
    values = [_table_values(r) for r in report_rows]
    widths = [max([len(title)] + [width(v[key]) for v in values]) for title, key in columns]

    def line(cells):
        return '  '.join(_pad(c, w) if i < len(cells) - 1 else c for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line([t for t, dummy in columns])] + [line([v[key] for dummy, key in columns]) for v in values]


def without_credentials(clients):
    """The console's line of the clients that have no credential (none when every client has one)."""
    names = ['%s (%s)' % (printable(c.get('name')), c.get('client_id')) if c.get('name') else str(c.get('client_id'))
             for c in clients if not c.get('credentials')]
    return ['%d client(s) without a credential: %s' % (len(names), ', '.join(sorted(names)))] if names else []


def _md(value):
    """A table cell: printable (see printable), with the characters Markdown would act on escaped."""
    text = printable(value)
    for char in '\\`*_[]<>|':
        text = text.replace(char, '\\' + char) if char != '\\' else text.replace('\\', '\\\\')
    return text


def to_markdown(report_rows, doc):
    """A Markdown table (GitHub flavour) of the rows, under a line with the date, the tenant and the counts."""
    found = ', '.join('%d %s' % (n, s) for s, n in doc['counts'].items())
    columns = _columns(report_rows)
    lines = ['# Auth0 credentials of %s' % _md(doc['tenant'] or 'the tenant'), '',
             'Generated %s; rotate_before_days %d, max_age_days %d. %s.' % (
                 doc['generated_at'], doc['policy']['rotate_before_days'], doc['policy']['max_age_days'], found), '',
             '| ' + ' | '.join(t.title() if t != 'KID' else 'Kid' for t, dummy in columns) + ' |',
             '|' + '---|' * len(columns)]
    for row in report_rows:
        values = _table_values(row)
        lines.append('| ' + ' | '.join(_md(values[key]) for dummy, key in columns) + ' |')
    return '\n'.join(lines) + '\n'


def render(fmt, report_rows, doc):
    """The text of the file of one format."""
    if fmt == 'json':
        return to_json(doc)
    if fmt == 'csv':
        return to_csv(report_rows)
    if fmt == 'md':
        return to_markdown(report_rows, doc)
    raise ValueError('unknown report format %r' % fmt)


def expiring(report_rows, rotate_before_days):
    """The ids of the credentials enabled for an authentication method (not only a JAR key) that expire within
    ``rotate_before_days`` days or have expired: the ``expiring`` list of the 1.0.0 report."""
    return [r['credential_id'] for r in report_rows if r['days_left'] is not None and r['days_left'] <= rotate_before_days
            and [m for m in r['enabled_for'] if m != 'signed_request_object']]


def attention(report_rows):
    """What the set_stats data lists: every row that is not ok, with the fields an alert needs."""
    keys = ('client_id', 'client_name', 'credential_id', 'kid', 'status', 'reason', 'expires_at', 'days_left')
    return [dict((k, r[k]) for k in keys) for r in report_rows if r['status'] != 'ok']
