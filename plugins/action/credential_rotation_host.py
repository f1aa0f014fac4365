# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of keyops.auth0.credential_rotation_host: the host steps of a rotation, one task each.

``read``: the key files (credential_key_file on the host), with the host's settings for the plan.
``stage``: the new key of the host's client beside the live one, or the client's refusal as this
host's failure. ``switch``: wait for the host's batch, promote, reload, check health (and with
credential_rotation_verify_host_token obtain a token from the host with its own key file); on
failure put the previous key back. The settings are the host's own ``credential_rotation_*``
variables, so inventory, play and role values apply as Ansible's precedence says. The role
credential_rotation is the only intended caller.
"""

from __future__ import annotations

import base64
import json
import os
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.keyops.auth0.plugins.module_utils import _consumers, _engine, _fleet, _keys, _plan, _stores
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error

PLAN = '_credential_rotation_plan'
ENABLE = '_credential_rotation_enable'
RETIRE = '_credential_rotation_retire'
SWITCH = '_credential_rotation_switch'
KEY_FILE = 'keyops.auth0.credential_key_file'
#: Settings a host passes to the plan (the client-wide ones are checked to agree across a client's hosts).
#: The store settings (destination vault) are host settings too: the engine opens the store for a resumed rotation.
STORE_SETTINGS = _stores.SETTINGS
SETTINGS = ('client_id', 'key_path', 'credential_name', 'key_mode') + _fleet.CLIENT_SETTINGS + STORE_SETTINGS
DEFAULTS = {'staged_suffix': '.next', 'key_mode': '0600', 'metadata': True, 'metadata_path': '', 'metadata_mode': '0644',
            'keep_backups': 3, 'serial': 0, 'reload_command': '', 'health_check_command': '', 'health_check_url': '',
            'health_check_retries': 5, 'health_check_delay': 2, 'rollback_on_failure': True, 'key_owner': '',
            'key_group': '', 'alg': 'RS256', 'verify_host_token': False, 'verify_audience': '', 'allow_partial': False,
            'take_over_stale_marker': False, 'stale_marker_minutes': 120, 'replace_unusable_key': False, 'key_size': 3072,
            'expires_in_days': 365, 'rotate_before_days': 30, 'max_age_days': 0, 'destination': 'file',
            'vault_mount': 'secret', 'vault_addr': '', 'vault_namespace': '', 'vault_ca_cert': '', 'vault_approle_mount': 'approle',
            'overlap': 0, 'aws_region': '', 'aws_endpoint_url': '', 'consumer_checks': []}
BATCH_WAIT = 3600.0
TYPES = dict([(n, 'bool') for n in ('force', 'allow_secret_switch', 'retire', 'allow_partial', 'verify_host_token',
                                    'metadata', 'rollback_on_failure', 'take_over_stale_marker', 'replace_unusable_key')]
             + [(n, 'int') for n in ('key_size', 'expires_in_days', 'rotate_before_days', 'max_age_days', 'keep_backups',
                                     'serial', 'health_check_retries', 'health_check_delay', 'stale_marker_minutes')])
#: Settings checked in the read step, before the first change anywhere: (name, smallest, largest or None).
RANGES = (('keep_backups', 0, None), ('key_size', 2048, 4096), ('expires_in_days', 0, None), ('rotate_before_days', 0, None),
          ('max_age_days', 0, None), ('serial', 0, None), ('health_check_retries', 0, None), ('health_check_delay', 0, None),
          ('stale_marker_minutes', 1, None))
#: Signing algorithms Auth0 accepts for Private Key JWT credentials.
ALGS = ('RS256', 'RS384', 'PS256')
MAX_NAME = 128


def normal_mode(value):
    """A file mode as four octal digits: '600', '0600' and the integer 384 (YAML's unquoted 0600) are '0600'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return '%04o' % value
    text = str(value).strip()
    if text.isdigit() and all(c in '01234567' for c in text) and len(text) <= 4:
        return '%04o' % int(text, 8)
    return text


def mode_error(value):
    """Why a normalised file mode is not one, or None."""
    if len(value) == 4 and all(c in '01234567' for c in value):
        return None
    return 'must be an octal file mode such as "0600" (quote it in YAML), not %r' % value


def failure_text(result):
    """What a failed module result says: its msg, else the last line of its exception or stderr."""
    if result.get('msg') and result.get('msg') != 'MODULE FAILURE':
        return result['msg']
    for name in ('exception', 'module_stderr', 'stderr', 'module_stdout'):
        value = result.get(name)
        # ansible-core 2.19 keeps a module's exception as an object whose event carries the message
        value = getattr(getattr(value, 'event', None), 'msg', None) or value
        lines = [line.strip() for line in str(value or '').splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return result.get('msg') or 'unknown error'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    #: Passed to the Auth0Client of the check before each promotion batch (unit tests set a mock transport).
    client_options = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=dict(
            step=dict(type='str', required=True, choices=['read', 'stage', 'switch', 'rollback'])))
        self._vars = task_vars
        self._check = bool(self._task.check_mode)
        self._host = task_vars.get('inventory_hostname')
        result.update(getattr(self, '_step_' + args['step'])())
        return result

    # -- settings and modules ---------------------------------------------------------------------

    def _setting(self, name):
        value = self._templar.template(self._vars.get('credential_rotation_' + name, DEFAULTS.get(name)))
        kind = TYPES.get(name)
        try:
            if kind == 'bool':
                return boolean(value, strict=True)
            if kind == 'int':
                return int(value)
        except (TypeError, ValueError):
            raise AnsibleActionFail('credential_rotation_%s on %s must be %s, not %r.'
                                    % (name, self._host, 'true or false' if kind == 'bool' else 'a whole number', value)) from None
        if name in ('key_mode', 'metadata_mode'):
            return normal_mode(value)
        return value

    def _paths(self):
        key_path = self._setting('key_path')
        if not key_path:
            raise AnsibleActionFail('credential_rotation_key_path is not set for %s.' % self._host)
        return {'path': key_path, 'staged_path': key_path + (self._setting('staged_suffix') or ''),
                'metadata_path': self._setting('metadata_path') or key_path + '.json'}

    def _ownership(self):
        """The owner and group the key files get (none given: the module keeps what the live key has)."""
        out = {}
        for name, option in (('key_owner', 'owner'), ('key_group', 'group')):
            value = self._setting(name)
            if value:
                out[option] = value
        return out

    def _module(self, name, args):
        if name == KEY_FILE and self._setting('destination') != 'file':
            # a store destination: the request goes from this (controller) process to the store, the key with it
            return self._store().run(dict(args, client_id=self._setting('client_id')), check_mode=self._check)
        return self._execute_module(module_name=name, module_args=args, task_vars=self._vars)

    def _store(self):
        paths = self._paths()
        try:
            return _stores.open_store(dict((n, self._setting(n)) for n in STORE_SETTINGS), paths['path'], paths['staged_path'])
        except _stores.StoreError as error:
            raise AnsibleActionFail(str(error)) from None

    def _files(self, result):
        keep = ('key', 'staged', 'metadata', 'backups', 'previous_kid', 'removed', 'leftovers', 'msg')
        return dict((k, result.get(k)) for k in keep if k in result)

    @staticmethod
    def _with_diff(out, result):
        """The key file module's diff (kids, modes, owners, metadata: never key material), for --diff."""
        if result.get('diff'):
            out['diff'] = result['diff']
        return out

    def _client(self):
        plan = self._vars.get(PLAN) or {}
        mine = (plan.get('hosts') or {}).get(self._host)
        if not mine:
            return plan, None, None
        return plan, mine, (plan.get('clients') or {}).get(mine['client_id'])

    # -- read ---------------------------------------------------------------------------------------

    def _step_read(self):
        try:
            settings = dict((name, self._setting(name)) for name in SETTINGS)
            try:  # seconds, so that 24h on one host and 1d on another agree (a bad value is refused below)
                settings['overlap'] = int(_plan.overlap_seconds(settings.get('overlap')))
            except ValueError:
                pass
        except AnsibleActionFail as error:
            return {'failed': True, 'invalid': True, 'msg': str(error),
                    'settings': {'client_id': self._templar.template(self._vars.get('credential_rotation_client_id'))}}
        if not settings['client_id']:
            return {'failed': True, 'invalid': True, 'settings': settings,
                    'msg': 'credential_rotation_client_id is not set for %s.' % self._host}
        try:
            errors = self._setting_errors()
            paths = self._paths()
        except AnsibleActionFail as error:
            return {'failed': True, 'invalid': True, 'settings': settings, 'msg': str(error)}
        if errors:
            return {'failed': True, 'invalid': True, 'settings': settings, 'msg': ' '.join(errors)}
        result = self._module(KEY_FILE, dict(paths, state='read'))
        out = {'changed': False, 'settings': settings}
        if result.get('failed'):
            out.update(failed=True, msg=failure_text(result))
            return out
        out['files'] = self._files(result)
        errors = self._file_errors(paths, result)
        owner = (result.get('metadata') or {}).get('client_id')
        if settings['destination'] != 'file' and owner and str(owner) != str(settings['client_id']).strip():
            errors.append('%s on %s holds the key of client %s, not of client %s: two clients must not share a secret. '
                          'Correct credential_rotation_key_path (or credential_rotation_client_id).'
                          % ((result.get('key') or {}).get('path'), self._host, owner, settings['client_id']))
        if errors:
            out.update(failed=True, invalid=True, msg=' '.join(errors))
        return out

    def _setting_errors(self):
        """What is wrong with this host's settings, each naming the option, the host and the fix."""
        errors = []
        host = self._host
        for name, low, high in RANGES:
            value = self._setting(name)
            if value < low or (high is not None and value > high):
                errors.append('credential_rotation_%s on %s is %s; it must be %s%s.' % (
                    name, host, value, 'from %d to %d' % (low, high) if high is not None else '%d or more' % low,
                    ' (the number of previous keys kept beside the live one)' if name == 'keep_backups' else ''))
        alg = self._setting('alg')
        if alg not in ALGS:
            errors.append('credential_rotation_alg on %s is %r; Auth0 accepts %s for Private Key JWT credentials.'
                          % (host, alg, ', '.join(ALGS)))
        for name in ('key_mode', 'metadata_mode'):
            problem = mode_error(self._setting(name))
            if problem:
                errors.append('credential_rotation_%s on %s %s.' % (name, host, problem))
        name = self._setting('credential_name')
        if name is not None and len(str(name)) > MAX_NAME:
            errors.append('credential_rotation_credential_name on %s is %d characters long; Auth0 allows at most %d. '
                          'Shorten it (or credential_rotation_name_prefix).' % (host, len(str(name)), MAX_NAME))
        suffix = self._setting('staged_suffix')
        if not suffix:
            errors.append('credential_rotation_staged_suffix on %s is empty: the new key would be written over the live '
                          'key before Auth0 knows it. Leave it unset (.next) or give a suffix.' % host)
        elif '/' in str(suffix):
            errors.append('credential_rotation_staged_suffix on %s contains "/": the staged key must sit beside the live '
                          'key (same directory), so that promotion is one atomic rename. Give a suffix such as .next.' % host)
        try:
            _plan.overlap_seconds(self._setting('overlap'))
        except ValueError:
            errors.append('credential_rotation_overlap on %s is %r; give a duration up to a year, such as 3600 (seconds), '
                          '30m, 24h or 7d, or 0 to retire the old credential in the same run.' % (host, self._setting('overlap')))
        for problem in _consumers.check_errors(self._setting('consumer_checks')):
            errors.append('credential_rotation_consumer_checks on %s: %s.' % (host, problem))
        destination = self._setting('destination')
        if destination not in _stores.DESTINATIONS:
            errors.append('credential_rotation_destination on %s is %r; use one of %s.'
                          % (host, destination, ', '.join(_stores.DESTINATIONS)))
        elif destination != 'file':
            key_path = str(self._setting('key_path') or '')
            mount = str(self._setting('vault_mount') or 'secret').strip('/')
            if destination == 'vault' and (key_path.startswith('/') or key_path.startswith(mount + '/')
                                           or key_path.startswith('data/')):
                errors.append('credential_rotation_key_path on %s is %r; with the vault destination it is the path inside '
                              'the mount %s, without the mount and without data/ (for example %s).'
                              % (host, key_path, mount, key_path.strip('/').split('/data/', 1)[-1].split(mount + '/', 1)[-1]))
            if self._setting('verify_host_token'):
                errors.append('credential_rotation_verify_host_token on %s needs a key file on the host; with the %s '
                              'destination the rotation verifies the new key from the controller. Leave it false.'
                              % (host, destination))
            return errors
        key_path = self._setting('key_path')
        if key_path and not os.path.isabs(str(key_path)):
            errors.append('credential_rotation_key_path on %s is %r, a relative path; give the absolute path of the key '
                          'file the application reads.' % (host, key_path))
        metadata = self._setting('metadata_path')
        taken = (os.path.normpath(str(key_path)), os.path.normpath(str(key_path) + str(suffix or ''))) if key_path else ()
        if metadata and os.path.normpath(str(metadata)) in taken:
            errors.append('credential_rotation_metadata_path on %s is %s, the path of the %s key: the metadata would '
                          'overwrite the private key. Leave it unset (the key path + .json) or give another file.'
                          % (host, metadata, 'live' if os.path.normpath(str(metadata)) == os.path.normpath(str(key_path))
                             else 'staged'))
        return errors

    def _file_errors(self, paths, result):
        """What the host's key files make impossible, found before any change."""
        errors = []
        host = self._host
        directory = result.get('directory') or {}
        if directory and not directory.get('exists'):
            errors.append('The directory %s of credential_rotation_key_path does not exist on %s; create it (where the '
                          'application reads its key) or correct the path.' % (directory.get('path'), host))
        elif directory and not directory.get('writable'):
            errors.append('The directory %s of credential_rotation_key_path is not writable on %s by the connection user; '
                          'run the role with become, or give that user write access.' % (directory.get('path'), host))
        for part, fix in (('key', 'Set credential_rotation_key_path to the file the link points to.'),
                          ('staged', 'Remove the link (the staged key is written there), or choose another '
                                     'credential_rotation_staged_suffix.')):
            info = result.get(part) or {}
            if info.get('symlink'):
                errors.append('%s on %s is a symbolic link to %s; the rotation replaces files with an atomic rename, which '
                              'would replace the link and leave %s with the old key. %s'
                              % (info.get('path'), host, info['symlink'], info['symlink'], fix))
        if result.get('metadata_symlink'):
            errors.append('%s on %s is a symbolic link to %s; set credential_rotation_metadata_path to the file itself.'
                          % (paths['metadata_path'], host, result['metadata_symlink']))
        key = result.get('key') or {}
        if key.get('exists') and not key.get('usable', bool(key.get('kid'))) and not self._setting('replace_unusable_key'):
            replacing = ('replace the file (it is kept as a backup)' if self._setting('destination') == 'file' else
                         'write the new key as a new version of the secret (the store keeps the one it holds as an '
                         'earlier version)')
            errors.append('%s on %s holds %s, not a private key the rotation can replace: Auth0 accepts unencrypted RSA '
                          'keys (2048 to 4096 bits) for RS256, RS384 and PS256. Correct credential_rotation_key_path, or '
                          'set credential_rotation_replace_unusable_key: true to %s.'
                          % (key.get('path'), host, key.get('found') or 'something else (%s)' % key.get('error'), replacing))
        return errors

    # -- stage ----------------------------------------------------------------------------------------

    def _step_stage(self):
        plan, mine, client = self._client()
        if not mine:
            return {'changed': False, 'skipped': True, 'msg': 'This host uses no client of the plan.'}
        if mine.get('error'):
            return {'failed': True, 'msg': 'Client %s: nothing was changed. %s' % (mine['client_id'], mine['error'])}
        if not mine.get('stage'):
            if mine.get('clean'):
                return self._clean(mine['clean'])
            return {'changed': False, 'msg': 'Nothing to stage (%s).' % mine['action']}
        key = self._key(plan, client, mine)
        result = self._stage(key)
        if result.get('failed'):
            return {'failed': True, 'msg': 'Staging the new key on %s failed: %s' % (self._host, failure_text(result))}
        return self._with_diff({'changed': bool(result.get('changed')), 'files': self._files(result), 'staged_kid': key['kid']},
                               result)

    def _key(self, plan, client, mine):
        key = (plan.get('keys') or {}).get(mine['client_id'])
        where = (client or {}).get('read_back') or {}
        try:
            if not key and self._setting('destination') != 'file':
                private = self._store().staged_key(client['target_kid'])
                key = {'private_key': private, 'kid': client['target_kid']} if private else None
            if not key and where.get('store'):
                # a resumed rotation whose key an earlier run left in a store entry of the client (this host's
                # file, or another store, lags behind)
                private, dummy = _stores.key_from_read_back(where['store'], client['target_kid'])
                key = {'private_key': private, 'kid': client['target_kid']} if private else None
        except _stores.StoreError as error:
            raise AnsibleActionFail(str(error)) from None
        key = key or self._read_back(client)
        if not key:
            raise AnsibleActionFail('The new key of client %s is missing from the plan.' % mine['client_id'])
        return key

    def _stage(self, key):
        args = dict(self._paths(), state='staged', private_key=key['private_key'], kid=key['kid'],
                    mode=self._setting('key_mode'), replace_unusable=self._setting('replace_unusable_key'))
        args.update(self._ownership())
        return self._module(KEY_FILE, args)

    def _clean(self, clean):
        """Remove what an interrupted run left (temporary files, a staged key no rotation under way needs)."""
        args = dict(self._paths(), state='cleaned', remove_staged=bool(clean.get('remove_staged')))
        if clean.get('kid'):
            args['kid'] = clean['kid']
        result = self._module(KEY_FILE, args)
        if result.get('failed'):
            return {'failed': True, 'msg': 'Removing what an interrupted run left on %s failed: %s'
                                           % (self._host, failure_text(result))}
        removed = list(result.get('removed') or [])
        verb = 'Would remove' if self._check else 'Removed'
        msg = '%s what an interrupted run left: %s.' % (verb, ', '.join(removed)) if removed else 'Nothing to clean.'
        return self._with_diff({'changed': bool(result.get('changed')), 'files': self._files(result), 'cleaned': removed,
                                'msg': msg}, result)

    def _read_back(self, client):
        """The key an earlier run left on another host of the client (resume), as that host read it back."""
        where = (client or {}).get('read_back') or {}
        content = _fleet.read_back_content(self._vars.get('_credential_rotation_read_back'), (client or {}).get('client_id'))
        if not content:
            return None
        private = base64.b64decode(content).decode('ascii')
        kid = _keys.kid_for_public_key(private)
        if kid != client['target_kid']:
            raise AnsibleActionFail('The key read back from %s has the kid %s, not %s.' % (where.get('host'), kid, client['target_kid']))
        return {'private_key': private, 'kid': kid}

    # -- switch ---------------------------------------------------------------------------------------

    def _step_switch(self):
        plan, mine, client = self._client()
        if not mine or mine['action'] in ('none', 'blocked', 'failed'):
            return {'changed': False, 'msg': 'Nothing to switch.'}
        if mine['action'] == 'finish':
            return self._prune(client)
        enabled = ((self._vars.get(ENABLE) or {}).get('clients') or {}).get(mine['client_id']) or {}
        if enabled.get('error'):
            return {'failed': True, 'msg': 'Client %s: %s' % (mine['client_id'], enabled['error'])}
        self._wait_for_batch(plan, client, mine)
        check = self._check_batch(plan, client, mine, enabled)
        if check:
            self._record(plan, 'failed')
            if check.get('gone'):
                # A credential someone removed (a key thought leaked?) is never registered again by a later run:
                # the staged copy of its key goes.
                self._clean({'remove_staged': True, 'kid': client['target_kid']})
                return {'failed': True, 'credential_gone': True,
                        'msg': 'Not switched: %s Hosts of earlier batches get their previous key back; nothing is retired.'
                               % check['reason']}
            return {'failed': True, 'msg': 'Not switched: %s The later batches stop and nothing is retired; the next run '
                                           'resumes.' % check['reason']}
        try:
            result = self._promote(plan, client, mine, enabled)
        except Exception as error:  # pylint: disable=broad-except  # the batch record below must be written
            self._record(plan, 'failed')
            raise AnsibleActionFail('Switching %s failed: %s' % (self._host, error)) from None
        self._record(plan, 'failed' if result.get('failed') else 'ok')
        return result

    def _coordination(self, plan, host):
        return os.path.join(plan.get('coordination') or '', '%s.json' % host)

    def _record(self, plan, status):
        if plan.get('coordination') and os.path.isdir(plan['coordination']):
            with open(self._coordination(plan, self._host), 'w', encoding='utf-8') as handle:
                json.dump({'status': status}, handle)

    def _wait_for_batch(self, plan, client, mine):
        """Wait until the hosts of earlier batches of this client switched; fail when one of them failed."""
        earlier = [h for h, b in (client.get('batches') or {}).items() if b < mine['batch']]
        if not earlier or not plan.get('coordination'):
            return
        deadline = time.monotonic() + BATCH_WAIT
        parent = os.getppid()
        while True:
            if os.getppid() != parent:  # ansible-playbook died (killed run): switch nothing more
                raise AnsibleActionFail('Not switched: the controller process ended while this host waited for its batch.')
            pending = []
            for host in earlier:
                try:
                    with open(self._coordination(plan, host), encoding='utf-8') as handle:
                        status = json.load(handle).get('status')
                except (OSError, ValueError):
                    status = None
                if status == 'failed':
                    self._record(plan, 'failed')
                    raise AnsibleActionFail('Not switched: host %s of client %s failed in an earlier batch, so the later '
                                            'batches stop. The old credential stays enabled; the next run resumes.'
                                            % (host, mine['client_id']))
                if status != 'ok':
                    pending.append(host)
            if not pending:
                return
            if time.monotonic() > deadline:
                self._record(plan, 'failed')
                raise AnsibleActionFail('Not switched: hosts %s of an earlier batch did not finish within %d s.'
                                        % (', '.join(pending), BATCH_WAIT))
            time.sleep(0.2)

    def _check_batch(self, plan, client, mine, enabled):
        """Right before a promotion batch, one host of the batch asks Auth0 whether the new credential is still
        enabled (one GET per batch); the others of the batch wait for its answer. None, or {'gone': whether the
        credential is gone (else: it could not be confirmed), 'reason': why not to switch}."""
        if self._check or not plan.get('coordination'):
            return None
        batch = mine['batch']
        members = [h for h in client.get('alive') or [] if (client.get('batches') or {}).get(h, 0) == batch]
        path = os.path.join(plan['coordination'], 'check-%s-%d.json' % (
            base64.urlsafe_b64encode(mine['client_id'].encode('utf-8')).decode('ascii'), batch))
        if not members or members[0] == self._host:
            verdict = self._ask_auth0(plan, client, mine, enabled)
            temp = path + '.%d.tmp' % os.getpid()
            with open(temp, 'w', encoding='utf-8') as handle:
                json.dump({'check': verdict}, handle)
            os.rename(temp, path)
            return verdict
        deadline = time.monotonic() + BATCH_WAIT
        parent = os.getppid()
        while True:
            try:
                with open(path, encoding='utf-8') as handle:
                    return json.load(handle).get('check')
            except (OSError, ValueError):
                pass
            if os.getppid() != parent or time.monotonic() > deadline:
                return {'gone': False, 'reason': 'the check of batch %d (by %s) did not answer.' % (batch + 1, members[0])}
            time.sleep(0.1)

    def _ask_auth0(self, plan, client, mine, enabled):
        target_id = (enabled.get('credential') or {}).get('id') or (client.get('target_credential') or {}).get('id')
        connection = plan.get('connection') or {}
        try:
            auth0 = Auth0Client(connection.get('auth0_domain'), token=plan.get('token'), ca_path=connection.get('auth0_ca_path'),
                                validate_certs=connection.get('validate_certs', True), timeout=connection.get('timeout') or 30,
                                retries=connection.get('retries') if connection.get('retries') is not None else 5,
                                **self.client_options)
            try:
                found = _engine.get_client(auth0, mine['client_id'])
            finally:
                auth0.close()
        except Auth0Error as error:
            return {'gone': False, 'reason': 'whether the new credential %s of client %s is still enabled could not be '
                                             'read (%s).' % (target_id, mine['client_id'], error)}
        if _engine.is_enabled(found, target_id):
            return None
        return {'gone': True, 'reason': 'the new credential %s of client %s is no longer enabled in Auth0 (deleted or '
                                        'disabled by someone else after it was verified).' % (target_id, mine['client_id'])}

    def _metadata(self, plan, client, mine, enabled):
        read = (self._vars.get('_credential_rotation_host') or {}).get('files') or {}
        live = (read.get('key') or {}).get('kid')
        target = client['target_kid']
        previous = live if live not in (None, target) else (read.get('metadata') or {}).get('previous_kid')
        credential_id = (enabled.get('credential') or {}).get('id') or (client.get('target_credential') or {}).get('id')
        return {'client_id': mine['client_id'], 'kid': target, 'alg': self._setting('alg'),
                'credential_id': credential_id, 'previous_kid': previous}

    def _previous_metadata(self, client, mine):
        read = (self._vars.get('_credential_rotation_host') or {}).get('files') or {}
        live = (read.get('key') or {}).get('kid')
        metadata = read.get('metadata') or {}
        if metadata.get('kid') == live:
            return metadata
        current = [c for c in client.get('current_credentials') or [] if c.get('kid') == live]
        return {'client_id': mine['client_id'], 'kid': live, 'alg': current[0].get('alg') if current else None,
                'credential_id': current[0].get('id') if current else None, 'previous_kid': None}

    def _promote(self, plan, client, mine, enabled):
        paths = self._paths()
        target = client['target_kid']
        args = dict(paths, state='promoted', kid=target, mode=self._setting('key_mode'),
                    replace_unusable=self._setting('replace_unusable_key'))
        args.update(self._ownership())
        if self._setting('metadata'):
            args.update(metadata=self._metadata(plan, client, mine, enabled), metadata_mode=self._setting('metadata_mode'))
        keep = int(self._setting('keep_backups'))
        if keep >= 0:
            args['keep_backups'] = keep
        promoted = self._module(KEY_FILE, args)
        if promoted.get('failed') and 'Neither the live key' in str(promoted.get('msg')):
            # The staged file holds another key (a run that lost the client's marker staged over it): stage again.
            restaged = self._stage(self._key(plan, client, mine))
            if not restaged.get('failed'):
                promoted = self._module(KEY_FILE, args)
        if promoted.get('failed'):
            return {'failed': True, 'msg': 'Switching %s to the key %s failed at the promotion: %s'
                                           % (self._host, target, failure_text(promoted))}
        result = self._with_diff({'changed': bool(promoted.get('changed')), 'files': self._files(promoted), 'kid': target},
                                 promoted)
        if not promoted.get('changed') or self._check:
            return result
        failure = self._after_promotion(client, mine, paths)
        if failure:
            step, reason = failure
            restored = self._rollback(client, mine, target)
            return {'failed': True, 'changed': True, 'files': result.get('files'),
                    'msg': 'Switching %s to the key %s failed at %s: %s%s' % (
                        self._host, target, step, reason, ' (the previous key was put back)' if restored else '')}
        return result

    def _command(self, command):
        args = {'argv': command} if isinstance(command, list) else {'_raw_params': command}
        return self._module('ansible.legacy.command', args)

    def _after_promotion(self, client, mine, paths):
        """Reload, check health, prove the host's key: None, or (step, reason) of the first failure."""
        reload_command = self._setting('reload_command')
        if reload_command:
            done = self._command(reload_command)
            if done.get('failed') or done.get('rc'):
                return 'the reload', (done.get('msg') or done.get('stderr') or 'rc %s' % done.get('rc')).strip()
        retries = int(self._setting('health_check_retries'))
        delay = float(self._setting('health_check_delay'))
        for name, run in (('health_check_command', self._command),
                          ('health_check_url', lambda url: self._module('ansible.legacy.uri', {'url': url}))):
            check = self._setting(name)
            if not check:
                continue
            for attempt in range(retries + 1):
                if attempt:
                    time.sleep(delay)
                done = run(check)
                if not done.get('failed') and not done.get('rc'):
                    break
            else:
                return 'the health check', (done.get('msg') or done.get('stderr') or 'rc %s' % done.get('rc')).strip()
        if self._setting('verify_host_token'):
            connection = (self._vars.get(PLAN) or {}).get('connection') or {}
            # A token, or a refusal that names the missing grant (accept_missing_grant), proves the key; any other
            # answer (a throttled or refused request included) does not.
            args = {'client_id': mine['client_id'], 'private_key_path': paths['path'], 'alg': self._setting('alg'),
                    'kid': client['target_kid'], 'auth0_domain': connection.get('auth0_domain'), 'accept_missing_grant': True}
            for name in ('auth0_ca_path', 'auth0_audience'):
                if connection.get(name):
                    args[name] = connection[name]
            if self._setting('verify_audience'):
                args['audience'] = self._setting('verify_audience')
            done = self._module('keyops.auth0.auth0_client_token', args)
            if done.get('failed'):
                return 'the token check from the host', done.get('msg') or 'unknown error'
        return None

    def _rollback(self, client, mine, target):
        read = (self._vars.get('_credential_rotation_host') or {}).get('files') or {}
        if not self._setting('rollback_on_failure') or not (read.get('key') or {}).get('kid'):
            return False
        args = dict(self._paths(), state='restored', kid=target)
        if self._setting('metadata'):
            args.update(metadata=self._previous_metadata(client, mine), metadata_mode=self._setting('metadata_mode'))
        restored = self._module(KEY_FILE, args)
        if restored.get('failed') or not restored.get('changed'):
            return False
        reload_command = self._setting('reload_command')
        if reload_command:
            self._command(reload_command)
        return True

    # -- rollback -----------------------------------------------------------------------------------

    def _step_rollback(self):
        """Put the previous key back on a host that switched to a credential found gone before retiring."""
        plan, mine, client = self._client()
        retired = ((self._vars.get(RETIRE) or {}).get('clients') or {}).get((mine or {}).get('client_id')) or {}
        if not mine or not retired.get('rollback'):
            return {'changed': False, 'restored': False, 'msg': 'Nothing to roll back.'}
        target = client['target_kid']
        switched = ((self._vars.get(SWITCH) or {}).get('files') or {}).get('key') or {}
        if switched.get('kid') != target:
            return {'changed': False, 'restored': False, 'msg': 'This host did not switch to %s.' % target}
        if self._rollback(client, mine, target):
            self._clean({'remove_staged': True, 'kid': target})  # the restore staged the gone key again: discard it
            return {'changed': True, 'restored': True,
                    'msg': 'The previous key of %s was put back; the key %s, whose credential is gone, was discarded.'
                           % (self._host, target)}
        return {'failed': True, 'restored': False,
                'msg': 'The previous key of %s could not be put back (no backup, or rollback_on_failure is false); it holds '
                       'the key %s, whose credential is gone: rotate again.' % (self._host, target)}

    def _prune(self, client):
        keep = int(self._setting('keep_backups'))
        if keep < 0:
            return {'changed': False, 'msg': 'No backup to prune.'}
        result = self._module(KEY_FILE, dict(self._paths(), state='pruned', keep_backups=keep))
        if result.get('failed'):
            return {'failed': True, 'msg': 'Pruning the backups on %s failed: %s' % (self._host, failure_text(result))}
        return {'changed': bool(result.get('changed')), 'files': self._files(result)}
