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

from ansible_collections.keyops.auth0.plugins.module_utils import _fleet, _keys

PLAN = '_credential_rotation_plan'
ENABLE = '_credential_rotation_enable'
KEY_FILE = 'keyops.auth0.credential_key_file'
#: Settings a host passes to the plan (the client-wide ones are checked to agree across a client's hosts).
SETTINGS = ('client_id', 'key_path', 'credential_name', 'key_mode') + _fleet.CLIENT_SETTINGS
DEFAULTS = {'staged_suffix': '.next', 'key_mode': '0600', 'metadata': True, 'metadata_path': '', 'metadata_mode': '0644',
            'keep_backups': 3, 'serial': 0, 'reload_command': '', 'health_check_command': '', 'health_check_url': '',
            'health_check_retries': 5, 'health_check_delay': 2, 'rollback_on_failure': True, 'key_owner': '',
            'key_group': '', 'alg': 'RS256', 'verify_host_token': False, 'verify_audience': '', 'allow_partial': False}
BATCH_WAIT = 3600.0
TYPES = dict([(n, 'bool') for n in ('force', 'allow_secret_switch', 'retire', 'allow_partial', 'reread_before_write',
                                    'verify_host_token', 'metadata', 'rollback_on_failure')]
             + [(n, 'int') for n in ('key_size', 'expires_in_days', 'rotate_before_days', 'max_age_days', 'keep_backups',
                                     'serial', 'health_check_retries', 'health_check_delay')])


def normal_mode(value):
    """A file mode as four octal digits: '600', '0600' and the integer 384 (YAML's unquoted 0600) are '0600'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return '%04o' % value
    text = str(value).strip()
    if text.isdigit() and all(c in '01234567' for c in text) and len(text) <= 4:
        return '%04o' % int(text, 8)
    return text


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

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=dict(
            step=dict(type='str', required=True, choices=['read', 'stage', 'switch'])))
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
        return self._execute_module(module_name=name, module_args=args, task_vars=self._vars)

    def _files(self, result):
        keep = ('key', 'staged', 'metadata', 'backups', 'previous_kid', 'removed', 'msg')
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
        except AnsibleActionFail as error:
            return {'failed': True, 'msg': str(error),
                    'settings': {'client_id': self._templar.template(self._vars.get('credential_rotation_client_id'))}}
        if not settings['client_id']:
            return {'failed': True, 'settings': settings, 'msg': 'credential_rotation_client_id is not set for %s.' % self._host}
        try:
            paths = self._paths()
        except AnsibleActionFail as error:
            return {'failed': True, 'settings': settings, 'msg': str(error)}
        result = self._module(KEY_FILE, dict(paths, state='read'))
        out = {'changed': False, 'settings': settings}
        if result.get('failed'):
            out.update(failed=True, msg=failure_text(result))
        else:
            out['files'] = self._files(result)
        return out

    # -- stage ----------------------------------------------------------------------------------------

    def _step_stage(self):
        plan, mine, client = self._client()
        if not mine:
            return {'changed': False, 'skipped': True, 'msg': 'This host uses no client of the plan.'}
        if mine.get('error'):
            return {'failed': True, 'msg': 'Client %s: nothing was changed. %s' % (mine['client_id'], mine['error'])}
        if not mine.get('stage'):
            return {'changed': False, 'msg': 'Nothing to stage (%s).' % mine['action']}
        key = (plan.get('keys') or {}).get(mine['client_id']) or self._read_back(client)
        if not key:
            raise AnsibleActionFail('The new key of client %s is missing from the plan.' % mine['client_id'])
        args = dict(self._paths(), state='staged', private_key=key['private_key'], kid=key['kid'],
                    mode=self._setting('key_mode'))
        args.update(self._ownership())
        result = self._module(KEY_FILE, args)
        if result.get('failed'):
            return {'failed': True, 'msg': 'Staging the new key on %s failed: %s' % (self._host, failure_text(result))}
        return self._with_diff({'changed': bool(result.get('changed')), 'files': self._files(result), 'staged_kid': key['kid']},
                               result)

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
        args = dict(paths, state='promoted', kid=target, mode=self._setting('key_mode'))
        args.update(self._ownership())
        if self._setting('metadata'):
            args.update(metadata=self._metadata(plan, client, mine, enabled), metadata_mode=self._setting('metadata_mode'))
        keep = int(self._setting('keep_backups'))
        if keep >= 0:
            args['keep_backups'] = keep
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
            args = {'client_id': mine['client_id'], 'private_key_path': paths['path'], 'alg': self._setting('alg'),
                    'kid': client['target_kid'], 'auth0_domain': connection.get('auth0_domain')}
            if connection.get('auth0_ca_path'):
                args['auth0_ca_path'] = connection['auth0_ca_path']
            if self._setting('verify_audience'):
                args['audience'] = self._setting('verify_audience')
            done = self._module('keyops.auth0.auth0_client_token', args)
            if done.get('failed') and (done.get('api_error') or {}).get('error') != 'access_denied':
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

    def _prune(self, client):
        keep = int(self._setting('keep_backups'))
        if keep < 0:
            return {'changed': False, 'msg': 'No backup to prune.'}
        result = self._module(KEY_FILE, dict(self._paths(), state='pruned', keep_backups=keep))
        if result.get('failed'):
            return {'failed': True, 'msg': 'Pruning the backups on %s failed: %s' % (self._host, failure_text(result))}
        return {'changed': bool(result.get('changed')), 'files': self._files(result)}
