# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of keyops.auth0.auth0_credential_report: the expiry report of a tenant's credentials.

Reads the clients with the auth0_client_credential_info module (where the task runs, so module_defaults and the
AUTH0_* variables reach it as they reach every module), decides each credential's status with the rules of the
credential_rotation role (module_utils/_credentials.py), prints a table and writes the report files on the
controller (module_utils/_report.py renders them). No HTTP here.
"""

from __future__ import annotations

import datetime
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.keyops.auth0.plugins.module_utils import _report
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import format_datetime
from ansible_collections.keyops.auth0.plugins.module_utils._module import auth0_argument_spec

display = Display()

INFO_MODULE = 'keyops.auth0.auth0_client_credential_info'


def argument_spec():
    spec = auth0_argument_spec()
    spec['auth0_domain'] = dict(spec['auth0_domain'], required=False)
    spec.update(_report.argument_spec())
    return spec


def check_args(args):
    """The report's own options, checked before Auth0 is asked anything; a message naming the option and the fix."""
    formats = []
    for item in args['formats']:
        for fmt in str(item).split(','):
            fmt = fmt.strip().lower()
            if not fmt:
                continue
            if fmt not in _report.FORMATS:
                raise AnsibleActionFail('formats: %r is not a report format; use one or more of %s (a list, or one string '
                                        'separated by commas).' % (fmt, ', '.join(_report.FORMATS)))
            if fmt not in formats:
                formats.append(fmt)
    if formats and not args['dest']:
        raise AnsibleActionFail('dest is not set: give the folder on the controller to write the %s report into (the '
                                'report playbook: -e report_dir=FOLDER).' % ', '.join(formats))
    if args['rotate_before_days'] < 0:
        raise AnsibleActionFail('rotate_before_days must be 0 or more (the days before expiry when a key is due).')
    if args['max_age_days'] < 0:
        raise AnsibleActionFail('max_age_days must be 0 (no age limit) or more.')
    basename = args['basename']
    if not basename or basename != os.path.basename(basename) or basename.startswith('.') or '\x00' in basename:
        raise AnsibleActionFail('basename must be a plain file name without a folder (the files are BASENAME.json, '
                                '.csv, .md in dest), not %r.' % basename)
    if args['dest'] and '\x00' in args['dest']:
        raise AnsibleActionFail('dest must be a folder path without NUL characters.')
    return formats


def same_content(path, text):
    """Whether the file at ``path`` holds exactly ``text`` (read without newline translation, as it is written)."""
    try:
        with open(path, encoding='utf-8', newline='') as handle:
            return handle.read() == text
    except (OSError, UnicodeDecodeError):
        return False


def write_file(path, text):
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then a rename), with the mode the
    umask gives a new file, unless it holds ``text`` already; return whether the content changed."""
    if same_content(path, text):
        return False
    folder = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8', newline='') as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return True


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    NAMES = ('credential_rotation_client_id', 'credential_rotation_destination', 'credential_rotation_key_path',
             'credential_rotation_vault_mount')

    def _inventory_hosts(self, task_vars):
        """{host: the credential_rotation_* variables that say where its client's key goes} of every inventory host
        (none without an inventory); a variable whose template fails reads as unset."""
        out = {}
        hostvars = (task_vars or {}).get('hostvars') or {}
        for host in list(hostvars.keys()) if hasattr(hostvars, 'keys') else []:
            variables = {}
            for name in self.NAMES:
                try:
                    value = hostvars[host].get(name)
                except Exception:  # pylint: disable=broad-except  # an undefined template: not a client host
                    value = None
                if value is not None:
                    variables[name] = value
            if variables.get('credential_rotation_client_id'):
                out[host] = variables
        return out

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=argument_spec())
        formats = check_args(args)
        connection = dict((k, v) for k, v in self._task.args.items() if k in auth0_argument_spec())
        if args['client_id']:
            connection['client_id'] = args['client_id']
        dest = os.path.abspath(args['dest']) if args['dest'] else None
        if dest and os.path.exists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail('dest: %s is not a folder; give the folder to write the report files into.' % dest)
        info = self._execute_module(module_name=INFO_MODULE, module_args=connection, task_vars=task_vars)
        if info.get('failed'):
            result.update(failed=True, msg=info.get('msg') or 'auth0_client_credential_info failed.',
                          api_error=info.get('api_error'))
            return result
        clients = info.get('clients') or []
        now = datetime.datetime.now(datetime.timezone.utc)
        policy = {'rotate_before_days': args['rotate_before_days'], 'max_age_days': args['max_age_days']}
        rows = _report.rows(clients, args['rotate_before_days'], args['max_age_days'], now,
                            destinations=_report.inventory_destinations(self._inventory_hosts(task_vars)))
        # the domain the module read, which the task's environment may have set, not the controller's AUTH0_DOMAIN
        doc = _report.document(rows, clients, policy, format_datetime(now), info.get('auth0_domain') or args['auth0_domain'])

        files, changed = [], False
        if dest and not formats:
            result.setdefault('warnings', []).append('dest is set but formats is empty, so no file is written: give '
                                                     'formats (the report playbook: -e report_format=json,csv,md).')
        if formats:
            if not self._task.check_mode:
                try:
                    os.makedirs(dest, exist_ok=True)
                except OSError as error:
                    raise AnsibleActionFail('dest: cannot make the folder %s: %s' % (dest, error.strerror or error)) from None
            for fmt in formats:
                path = os.path.join(dest, '%s.%s' % (args['basename'], fmt))
                files.append(path)
                text = _report.render(fmt, rows, doc)
                if self._task.check_mode:
                    changed = changed or not same_content(path, text)
                    continue
                try:
                    changed = write_file(path, text) or changed
                except OSError as error:
                    raise AnsibleActionFail('dest: cannot write %s: %s' % (path, error.strerror or error)) from None

        if args['show_table']:
            found = ', '.join('%d %s' % (n, s) for s, n in doc['counts'].items())
            lines = _report.table(rows) if rows else ['(no credential)']
            where = ('; %s %s' % ('would write' if self._task.check_mode else 'written to', ', '.join(files))) if files else ''
            lines.extend(_report.without_credentials(clients))
            display.display('\n'.join(['auth0_credential_report: %d clients, %s%s.' % (len(clients), found, where)] + lines))

        result.update(changed=changed, schema_version=_report.SCHEMA_VERSION, generated_at=doc['generated_at'],
                      policy=policy, clients=doc['clients'], counts=doc['counts'], credentials=rows,
                      attention=_report.attention(rows), files=files,
                      expiring=_report.expiring(rows, args['rotate_before_days']),
                      clients_without_credentials=doc['clients_without_credentials'])
        return result
