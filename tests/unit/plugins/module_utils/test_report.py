# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The expiry report (module_utils/_report.py) and the status rules it shares with the rotation's plan."""

from __future__ import annotations

import csv
import io
import json

import pytest

from ansible_collections.keyops.auth0.plugins.module_utils import _plan, _report
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import credential_status, describe_client, parse_datetime

NOW = parse_datetime('2026-06-01T12:00:00Z')


def cred(ident, name=None, created='2026-05-01T00:00:00.000Z', expires=None, **extra):
    return dict({'id': ident, 'name': name or ident, 'kid': 'K' + ident, 'credential_type': 'public_key',
                 'created_at': created, 'expires_at': expires}, **extra)


def tenant():
    """Two clients as auth0_client_credential_info returns them, credentials of every status."""
    billing = describe_client(
        {'client_id': 'c-billing', 'name': 'billing',
         'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'ok'}, {'id': 'soon'}]}},
         'signed_request_object': {'credentials': [{'id': 'jar'}]}},
        [cred('ok', expires='2027-01-01T00:00:00.000Z'), cred('soon', expires='2026-06-20T00:00:00.000Z'),
         cred('jar', expires='2027-01-01T00:00:00.000Z'), cred('spare', expires='2027-01-01T00:00:00.000Z')], now=NOW)
    partner = describe_client(
        {'client_id': 'c-partner', 'name': '=partner|api',
         'client_authentication_methods': {'private_key_jwt': {'credentials': [{'id': 'dead'}, {'id': 'old'}]}}},
        [cred('dead', expires='2026-05-30T00:00:00.000Z'), cred('old', created='2025-01-01T00:00:00.000Z')], now=NOW)
    empty = describe_client({'client_id': 'c-empty', 'name': None}, [], now=NOW)
    return [billing, partner, empty]


def by_id(rows):
    return dict((r['credential_id'], r) for r in rows)


def test_each_status_and_its_reason():
    rows = by_id(_report.rows(tenant(), 30, 365, NOW))
    assert {k: r['status'] for k, r in rows.items()} == {
        'ok': 'ok', 'soon': 'due', 'jar': 'ok', 'spare': 'unused', 'dead': 'expired', 'old': 'due'}
    assert rows['soon']['reason'] == 'expires in 18 days (rotate_before_days 30)'
    assert rows['old']['reason'] == 'is 516 days old (max_age_days 365)'
    assert rows['dead']['reason'] == 'expired on 2026-05-30'
    assert rows['spare']['enabled_for'] == [] and rows['jar']['enabled_for'] == ['signed_request_object']
    assert rows['ok']['days_left'] == 213 and rows['old']['days_left'] is None and rows['old']['age_days'] == 516


def test_without_an_age_limit_an_old_key_is_ok_and_the_window_decides_due():
    rows = by_id(_report.rows(tenant(), 10, 0, NOW))
    assert rows['old']['status'] == 'ok' and rows['old']['reason'] == 'never expires'
    assert rows['soon']['status'] == 'ok'


def test_rows_most_urgent_first_then_fewest_days_left():
    rows = _report.rows(tenant(), 30, 365, NOW)
    assert [r['credential_id'] for r in rows] == ['dead', 'soon', 'old', 'spare', 'jar', 'ok']  # same days: by id


def test_an_expired_credential_is_expired_even_when_unused():
    status, dummy = credential_status(cred('x', expires='2026-05-01T00:00:00Z', in_use=False), 30, 0, NOW)
    assert status == 'expired'


@pytest.mark.parametrize('credential, status', [
    (cred('a', expires='2026-07-01T12:00:00Z', in_use=True), 'due'),   # exactly 30 days: due, as the role rotates
    (cred('a', expires='2026-07-02T12:00:00Z', in_use=True), 'ok'),
    (cred('a', created='2025-06-01T12:00:00Z', in_use=True), 'due'),  # exactly 365 days old
    (cred('a', created='2025-06-02T12:00:00Z', in_use=True), 'ok'),
])
def test_the_edges_are_those_of_the_rotation_plan(credential, status):
    """The report and the plan decide with the same rules: due here exactly when the plan would rotate."""
    assert credential_status(credential, 30, 365, NOW)[0] == status
    described = dict(credential, enabled=True, method='private_key_jwt',
                     days_until_expiry=_report.days_until(credential['expires_at'], now=NOW))
    plan = _plan.plan(dict(credential_name=None, force=False, rotate_before_days=30, max_age_days=365,
                           name_prefix='keyops-rotation', allow_secret_switch=False, keep_backups=-1, retire=True,
                           client={'client_id': 'app', 'authentication_method': 'private_key_jwt',
                                   'credentials': [described]},
                           hosts={'h1': {'key': {'exists': True, 'kid': 'Ka'}}}), NOW)
    assert (plan['action'] == 'rotate') == (status == 'due')


def test_json_document_counts_and_rows():
    rows = _report.rows(tenant(), 30, 365, NOW)
    doc = _report.document(rows, tenant(), {'rotate_before_days': 30, 'max_age_days': 365}, '2026-06-01T12:00:00.000Z',
                           'acme.eu.auth0.com')
    loaded = json.loads(_report.render('json', rows, doc))
    assert loaded['schema_version'] == 1 and loaded['clients'] == 3
    assert loaded['clients_without_credentials'] == ['c-empty']
    assert loaded['counts'] == {'expired': 1, 'due': 2, 'unused': 1, 'ok': 2}
    assert [r['credential_id'] for r in loaded['credentials']] == [r['credential_id'] for r in rows]
    assert set(loaded['credentials'][0]) == set(_report.COLUMNS)


def test_csv_has_the_columns_and_defuses_formulas_in_names_only():
    rows = _report.rows(tenant(), 30, 365, NOW)
    rows[0]['kid'] = '-starts-with-a-dash'  # a base64url kid may start with '-': left as it is
    parsed = list(csv.DictReader(io.StringIO(_report.render('csv', rows, {}))))
    assert list(parsed[0]) == list(_report.COLUMNS)
    dead = [r for r in parsed if r['credential_id'] == 'dead'][0]
    assert dead['client_name'] == "'=partner|api" and dead['status'] == 'expired' and dead['days_left'] == '-3'
    assert dead['kid'] == '-starts-with-a-dash'
    old = [r for r in parsed if r['credential_id'] == 'old'][0]
    assert old['expires_at'] == '' and old['days_left'] == '' and old['enabled_for'] == 'private_key_jwt'


def test_markdown_escapes_pipes_and_says_the_counts():
    rows = _report.rows(tenant(), 30, 365, NOW)
    doc = _report.document(rows, tenant(), {'rotate_before_days': 30, 'max_age_days': 365}, 'T', 'acme')
    text = _report.render('md', rows, doc)
    lines = text.splitlines()
    assert lines[0] == '# Auth0 credentials of acme'
    assert '1 expired, 2 due, 1 unused, 2 ok' in lines[2]
    table = [line for line in lines if line.startswith('|')]
    assert len(table) == 2 + len(rows)
    assert all(line.count(' | ') == len(_report.TABLE) - 1 for line in table[2:])
    assert '=partner\\|api (c-partner)' in text


def test_console_table_cuts_nothing_and_keeps_columns_aligned():
    clients = tenant()
    clients[0]['name'] = 'a very long application name that once went out of line in the table'
    clients[0]['credentials'][0]['name'] = 'a credential name longer than twenty-eight characters'
    lines = _report.table(_report.rows(clients, 30, 365, NOW))
    assert lines[0].split()[:3] == ['STATUS', 'CLIENT', 'CREDENTIAL']
    assert any(clients[0]['name'] in line and 'a credential name longer than twenty-eight characters' in line for line in lines)
    start = lines[0].index('KID')
    assert all(line[start - 2:start] == '  ' for line in lines[1:])


def test_unknown_format():
    with pytest.raises(ValueError):
        _report.render('xml', [], {})


def test_control_characters_cannot_rewrite_the_table_or_split_a_row():
    clients = tenant()
    clients[0]['name'] = '\x1b[2K\rok       innocent\nsecond line'
    lines = _report.table(_report.rows(clients, 30, 365, NOW))
    assert len(lines) == 1 + 6
    assert not any('\x1b' in line or '\r' in line for line in lines)
    assert any('\\x1b[2K\\x0dok       innocent\\x0asecond line' in line for line in lines)
    doc = {'tenant': 't', 'generated_at': 'T', 'counts': {}, 'policy': {'rotate_before_days': 30, 'max_age_days': 0}}
    text = _report.to_markdown(_report.rows(clients, 30, 365, NOW), doc)
    assert '\r' not in text and len([line for line in text.splitlines() if line.startswith('|')]) == 2 + 6
    assert '\\[2K' in text


def test_wide_characters_keep_the_columns_aligned():
    clients = tenant()
    clients[0]['name'] = '日本語のアプリ'
    lines = _report.table(_report.rows(clients, 30, 365, NOW))
    start = _report.width(lines[0][:lines[0].index('KID')])
    for line in lines[1:]:
        cut = 0
        while _report.width(line[:cut]) < start:
            cut += 1
        assert line[cut - 2:cut] == '  ' and line[cut] != ' ', line


def test_a_due_key_the_role_does_not_rotate_says_so():
    client = describe_client(
        {'client_id': 'c-mtls', 'name': 'mtls',
         'client_authentication_methods': {'self_signed_tls_client_auth': {'credentials': [{'id': 'cert'}]}}},
        [cred('cert', expires='2026-06-10T00:00:00.000Z', credential_type='x509_cert')], now=NOW)
    row = _report.rows([client], 30, 0, NOW)[0]
    assert row['status'] == 'due'
    assert row['reason'].endswith('not a private_key_jwt key: the credential_rotation role does not rotate it, rotate it by hand')


def test_expiring_keeps_1_0_0s_meaning():
    rows = _report.rows(tenant(), 30, 365, NOW)
    jar = [r for r in rows if r['credential_id'] == 'jar'][0]
    jar['days_left'] = 3
    assert _report.expiring(rows, 30) == ['dead', 'soon']


def test_an_unreadable_expiry_is_not_called_never_expires():
    status, reason = credential_status(cred('x', expires='soon', in_use=True), 30, 0, NOW)
    assert status == 'ok' and reason == "expires_at 'soon' is no date-time; check the credential"


def test_destinations_from_the_inventory():
    hosts = {'web2': {'credential_rotation_client_id': 'c-billing', 'credential_rotation_key_path': '/k'},
             'web1': {'credential_rotation_client_id': ' c-billing ', 'credential_rotation_destination': 'file'},
             'billing_vault': {'credential_rotation_client_id': 'c-billing', 'credential_rotation_destination': 'vault',
                               'credential_rotation_key_path': 'apps/billing'},
             'partner_aws': {'credential_rotation_client_id': 'c-partner', 'credential_rotation_destination': 'aws_secretsmanager',
                             'credential_rotation_key_path': 'prod/partner'},
             'db1': {}}
    found = _report.inventory_destinations(hosts)
    assert found == {'c-billing': ['file on web1, web2', 'vault secret/apps/billing'], 'c-partner': ['aws_secretsmanager prod/partner']}
    rows = _report.rows(tenant(), 30, 365, NOW, destinations=found)
    assert by_id(rows)['ok']['destinations'] == ['file on web1, web2', 'vault secret/apps/billing']
    assert by_id(rows)['old']['destinations'] == ['aws_secretsmanager prod/partner']
    lines = _report.table(rows)
    assert lines[0].split()[-2:] == ['DESTINATIONS', 'REASON']
    assert any('file on web1, web2; vault secret/apps/billing' in line for line in lines)
    assert 'DESTINATIONS' not in _report.table(_report.rows(tenant(), 30, 365, NOW))[0]
