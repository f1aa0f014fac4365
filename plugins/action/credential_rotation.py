# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of keyops.auth0.credential_rotation: the Auth0 steps of a rotation, for every client at once.

Runs once per play (run_once), in the controller's worker, with no module process: the plan (read
Auth0, decide, make the new keys in memory), the registration (free, register, enable, verify) and
the retirement, each for all clients of the play concurrently over one Auth0 client (one management
token per run, one back-off on 429), and the summary. Fleet decisions come from
module_utils/_fleet.py, the per-client decision from module_utils/_plan.py, the Auth0 calls from
module_utils/_engine.py. The role credential_rotation is the only intended caller.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import json
import os
import shutil
import socket
import tempfile
import time
import traceback
import uuid

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import load_extra_vars

from ansible_collections.keyops.auth0.plugins.module_utils import _consumers, _engine, _fleet, _keys, _marker, _plan, _stores
from ansible_collections.keyops.auth0.plugins.module_utils._client import Auth0Client, Auth0Error
from ansible_collections.keyops.auth0.plugins.module_utils._credentials import client_from_description, credential_uses, describe_client, parse_datetime
from ansible_collections.keyops.auth0.plugins.module_utils._module import auth0_argument_spec

display = Display()

# What the role registers, read back here from the hosts' variables.
READ = '_credential_rotation_host'
PLAN = '_credential_rotation_plan'
READ_BACK = '_credential_rotation_read_back'
STAGED = '_credential_rotation_staged'
ENABLE = '_credential_rotation_enable'
SWITCH = '_credential_rotation_switch'
RETIRE = '_credential_rotation_retire'
ROLLBACK = '_credential_rotation_rollback'


def argument_spec():
    spec = auth0_argument_spec()
    spec['auth0_domain'] = dict(spec['auth0_domain'], required=False)
    spec.update(
        step=dict(type='str', required=True, choices=['plan', 'enable', 'retire', 'summary']),
        concurrency=dict(type='int', default=16),
        now=dict(type='str'),
    )
    return spec


COORDINATION_PREFIX = 'keyops-rotation-'
STALE_COORDINATION = 86400


def remove_stale_coordination():
    """Remove batch records that runs stopped before their summary left (older than a day: no run waits that long)."""
    root = tempfile.gettempdir()
    now = time.time()
    for name in os.listdir(root):
        path = os.path.join(root, name)
        try:
            if name.startswith(COORDINATION_PREFIX) and os.path.isdir(path) and now - os.path.getmtime(path) > STALE_COORDINATION:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _sentence(text):
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip('.') + '.' if text else text


def _say(line):
    display.display('credential_rotation: %s' % line)


def process_alive(pid):
    """Whether a process with this pid runs on this machine (a pid we may not signal runs too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def token_client_id(token):
    """The client id a management token was issued to (its unverified ``sub`` claim), or None."""
    try:
        payload = token.split('.')[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    subject = claims.get('sub') if isinstance(claims, dict) else None
    if isinstance(subject, str) and subject.endswith('@clients'):
        return subject[:-len('@clients')]
    return claims.get('azp') if isinstance(claims, dict) else None


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    #: Passed to every Auth0Client this plugin builds (unit tests set a mock transport and a no-op sleep).
    client_options = {}
    #: The httpx transport of the consumer checks (unit tests set a mock one).
    consumer_transport = None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=argument_spec())
        self._args = args
        self._vars = task_vars
        self._check = bool(self._task.check_mode)
        self._diff = bool(self._task.diff)
        step = args['step']
        if not args.get('auth0_token'):
            # credential_rotation_auth0_token is read here, not passed as an argument by the role: arguments
            # are printed with ANSIBLE_DEBUG, variables are not.
            token = self._templar.template(task_vars.get('credential_rotation_auth0_token') or '')
            args['auth0_token'] = token or None
        if args['concurrency'] < 1:
            raise AnsibleActionFail('concurrency must be 1 or more.')
        try:
            result.update(getattr(self, '_step_' + step)())
        except Auth0Error as error:
            if step == 'plan':  # its result is no_log: say why before it is hidden
                _say('refused: Auth0 answered: %s' % error)
            raise AnsibleActionFail('Auth0 answered: %s' % error) from None
        except AnsibleActionFail as error:
            if step == 'plan':
                _say('refused: %s' % error)
            raise
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def _hostvar(self, host, name, default=None):
        try:
            value = self._vars['hostvars'][host].get(name, default)
        except Exception:  # pylint: disable=broad-except  # an undefined or broken template reads as unset
            return default
        return default if value is None else value

    def _inventory_clients(self, inventory):
        """({host: client id or None}, {host: why it cannot be read}) for every inventory host."""
        clients, unreadable = {}, {}
        for host in inventory:
            try:
                clients[host] = self._vars['hostvars'][host].get('credential_rotation_client_id')
            except Exception as error:  # pylint: disable=broad-except  # e.g. a template of facts set later in the play
                clients[host] = None
                unreadable[host] = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        return clients, unreadable

    def _auth0(self, token=None):
        a = self._args
        if not a['auth0_domain']:
            raise AnsibleActionFail('auth0_domain is not set: set the AUTH0_DOMAIN environment variable, or auth0_domain in '
                                    'module_defaults for the group keyops.auth0.auth0.')
        try:
            client = Auth0Client(a['auth0_domain'], client_id=a['auth0_client_id'], client_secret=a['auth0_client_secret'],
                                 private_key=a['auth0_client_assertion_private_key'],
                                 signing_alg=a['auth0_client_assertion_signing_alg'] or 'RS256', token=a['auth0_token'],
                                 validate_certs=a['validate_certs'], ca_path=a['auth0_ca_path'], timeout=a['timeout'],
                                 retries=a['retries'], audience=a['auth0_audience'], **self.client_options)
        except Auth0Error as error:
            raise AnsibleActionFail(str(error)) from None
        client.use_token(token)
        return client

    def _each(self, names, function):
        """function(name) for each name, concurrently; {name: result} in the order of ``names`` (the play's, so that
        the plan, the output and the summary list the clients alike on every run); an exception becomes
        {'error': ...}."""
        out = {}
        if not names:
            return out
        workers = min(self._args['concurrency'], len(names))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = dict((pool.submit(function, name), name) for name in names)
            for future in concurrent.futures.as_completed(futures):
                name = futures[future]
                try:
                    out[name] = future.result()
                except Auth0Error as error:
                    out[name] = {'error': 'Auth0 answered: %s' % error}
                except AnsibleActionFail as error:
                    out[name] = {'error': str(error)}
                except Exception as error:  # pylint: disable=broad-except  # one client's failure never stops the others
                    display.vvv('credential_rotation: %s' % traceback.format_exc())
                    out[name] = {'error': 'Unexpected %s: %s' % (type(error).__name__, error)}
        return dict((name, out[name]) for name in names)

    def _plan_result(self):
        plan = self._vars.get(PLAN) or {}
        if 'clients' not in plan:
            raise AnsibleActionFail('The plan of this run is missing: the steps of credential_rotation run in order, '
                                    'from its tasks/main.yml.')
        return plan

    @staticmethod
    def _marker_after_plan(client, run):
        """The verdict on the marker a fresh read of the client shows, for the run that wrote its own in the plan."""
        return _marker.decide(_marker.of_client(client), run['id'], datetime.datetime.now(datetime.timezone.utc), run['host'],
                              process_alive)

    def _alive(self):
        return set(self._vars.get('ansible_play_hosts') or [])

    # -- plan -------------------------------------------------------------------------------------

    def _step_plan(self):
        v = self._vars
        play_all = list(v.get('ansible_play_hosts_all') or [])
        play_alive = list(v.get('ansible_play_hosts') or [])
        # ansible_play_batch drops failed and unreachable hosts too: only live hosts outside it mean serial
        error = _fleet.serial_error(play_alive, list(v.get('ansible_play_batch') or play_alive))
        if error:
            raise AnsibleActionFail(error)
        play = getattr(getattr(self._task, '_parent', None), '_play', None)
        strategy = getattr(play, 'strategy', 'linear') or 'linear'
        if strategy.rsplit('.', 1)[-1] not in ('linear', 'debug'):
            raise AnsibleActionFail('The play uses the %s strategy; the rotation needs the linear strategy (its batches '
                                    'wait for each other, and every host must finish a step before the next one starts). '
                                    'Nothing was changed.' % strategy)
        # Batches follow the order in which the strategy starts the hosts (the play keyword order), so that a
        # host never waits for one that cannot start because the forks are taken by waiting hosts.
        play_all = _fleet.play_order(play_all, getattr(play, 'order', None))
        if play_all is None:
            raise AnsibleActionFail('The play sets order: shuffle; the rotation promotes the hosts of a client in batches '
                                    'that follow the play order, which shuffle makes unknown. Remove order from the play '
                                    '(or use inventory, sorted, reverse_sorted or reverse_inventory). Nothing was changed.')
        try:
            extra = load_extra_vars(self._loader)
        except Exception:  # pylint: disable=broad-except  # not run from the command line (tests): none
            extra = {}
        if 'credential_rotation_client_id' in (extra or {}):
            raise AnsibleActionFail('credential_rotation_client_id is given as an extra variable: it then names the client of '
                                    'every inventory host, whatever key the host holds, and a host of another client would '
                                    'receive this client\'s key. Set it per host or group in the inventory, and choose the '
                                    'clients with rotation_clients or the hosts with rotation_hosts. Nothing was changed.')
        inventory = list((v.get('groups') or {}).get('all') or [])
        reads = dict((h, self._hostvar(h, READ, {})) for h in play_all)
        inventory_clients, unreadable = self._inventory_clients(inventory)
        clients = _fleet.group(inventory, inventory_clients, play_all, play_alive, reads, unreadable)
        now = datetime.datetime.now(datetime.timezone.utc)
        if self._args['now']:
            now = parse_datetime(self._args['now'])
        auth0 = None
        # This run's marker (module_utils/_marker.py): written on each client it will change, before any change.
        self._run = {'id': uuid.uuid4().hex[:16], 'host': socket.gethostname(), 'pid': os.getppid(),
                     'started': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}
        if any(not e['errors'] and e['alive'] for e in clients.values()):
            auth0 = self._auth0()
            auth0.token  # pylint: disable=pointless-statement  # one management token for the run, before the threads
        self._management_id = self._args['auth0_client_id'] or token_client_id(auth0._token if auth0 else None)  # pylint: disable=protected-access

        def decide(client_id):
            return self._plan_client(auth0, clients[client_id], reads, now)

        planned = self._each(list(clients), decide)
        keys = {}
        hosts = {}
        for client_id, entry in clients.items():
            client_plan = planned[client_id]
            if 'action' not in client_plan:  # an Auth0 error while reading
                client_plan = self._refused(entry, [client_plan['error']], action='failed')
                planned[client_id] = client_plan
            key = client_plan.pop('new_key', None)
            if key:
                keys[client_id] = key
            target = client_plan.get('target_kid')
            for host in entry['hosts']:
                files = (reads.get(host) or {}).get('files') or {}
                held = ((files.get('key') or {}).get('kid'), (files.get('staged') or {}).get('kid'))
                stage = client_plan['action'] == 'rotate' or (client_plan['action'] == 'resume' and target not in held)
                hosts[host] = {'client_id': client_id, 'action': client_plan['action'],
                               'batch': client_plan['batches'].get(host, 0), 'stage': stage,
                               'clean': None if stage else _fleet.leftovers(client_plan['action'], files, target),
                               'error': ' '.join(client_plan['errors']) if client_plan['action'] in ('blocked', 'failed') else None}
            self._announce(client_plan)
        coordination = None
        if any(p['action'] in ('rotate', 'resume') for p in planned.values()):
            remove_stale_coordination()
            coordination = tempfile.mkdtemp(prefix=COORDINATION_PREFIX)
        return {'changed': any(p.get('marker') == 'held' for p in planned.values()), 'clients': planned, 'hosts': hosts,
                'keys': keys, 'token': auth0._token if auth0 is not None else None,  # pylint: disable=protected-access
                'coordination': coordination, 'now': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'run': self._run,
                # where the host steps send their requests (the check before each promotion batch, and the
                # hosts' own token checks, credential_rotation_verify_host_token)
                'connection': {'auth0_domain': self._args['auth0_domain'], 'auth0_ca_path': self._args['auth0_ca_path'],
                               'auth0_audience': self._args.get('auth0_audience'),
                               'validate_certs': self._args['validate_certs'], 'timeout': self._args['timeout'],
                               'retries': self._args['retries']}}

    @staticmethod
    def _refused(entry, errors, action='blocked'):
        return {'client_id': entry['client_id'], 'action': action, 'reasons': [], 'errors': errors, 'marker': None,
                'hosts': entry['hosts'], 'alive': entry['alive'], 'outside': entry['outside'],
                'failed': entry['failed'], 'partial': False, 'batches': {}, 'settings': entry['settings'],
                'target_kid': None, 'target_credential': None, 'current_credentials': [], 'free': [], 'retire': [],
                'foreign': [], 'secret_switch': False, 'read_back': None, 'state': None}

    def _plan_client(self, auth0, entry, reads, now):
        if entry['errors'] or not entry['alive']:
            return self._refused(entry, entry['errors'] or ['No host of the client can take part.'])
        s = entry['settings']
        if self._management_id and entry['client_id'] == self._management_id:
            return self._refused(entry, [
                'Client %s is the management client of this run (the client whose credentials reach the Management '
                'API, AUTH0_CLIENT_ID or auth0_client_id): rotating it here would cut this and every later run off '
                'from Auth0 and put a key with Management API access on application hosts. Rotate its key with the '
                'modules as the rotation guide says ("The management client\'s own key"), and remove '
                'credential_rotation_client_id %s from hosts %s.'
                % (entry['client_id'], entry['client_id'], ', '.join(entry['hosts']))])
        client, credentials = _engine.read_client(auth0, entry['client_id'])
        verdict, note = _marker.decide(_marker.of_client(client), self._run['id'], datetime.datetime.now(datetime.timezone.utc),
                                       self._run['host'], process_alive, bool(s.get('take_over_stale_marker')),
                                       int(s.get('stale_marker_minutes') or _marker.STALE_AFTER_MINUTES))
        if verdict == 'held':
            return self._refused(entry, ['%s.' % _sentence(note).rstrip('.')])
        described = describe_client(client, credentials)
        params = {'client': described, 'hosts': dict((h, (reads[h] or {}).get('files') or {}) for h in entry['alive']),
                  'credential_name': s.get('credential_name'),
                  'force': bool(s.get('force')), 'rotate_before_days': int(s.get('rotate_before_days') or 0),
                  'max_age_days': int(s.get('max_age_days') or 0), 'name_prefix': s.get('name_prefix') or '',
                  'allow_secret_switch': bool(s.get('allow_secret_switch')),
                  'keep_backups': int(s.get('keep_backups') if s.get('keep_backups') is not None else -1),
                  # a partial run retires nothing, so it cannot finish an earlier rotation first
                  'retire': bool(s.get('retire', True)) and not _fleet.is_partial(entry)}
        plan = _plan.plan(params, now)
        partial = _fleet.is_partial(entry)
        if partial:
            plan = _fleet.partial_plan(plan)
        plan.update(client_id=entry['client_id'], hosts=entry['hosts'], alive=entry['alive'], outside=entry['outside'],
                    failed=entry['failed'], partial=partial, settings=s, state=described, read_back=None, marker=None,
                    batches=_fleet.batches(entry['alive'], s.get('serial')))
        self._wait_for_window(plan, s, auth0, now, client)
        if note:
            plan['reasons'].append(note)
        if verdict in ('dead', 'taken_over') and plan['action'] not in ('rotate', 'resume', 'finish') and not self._check:
            _engine.write_marker(auth0, client, None, False)  # the dead run's marker, with nothing for this run to do
        if plan['action'] == 'rotate':
            private = _keys.generate_private_key_pem(int(s.get('key_size') or 3072))
            plan['new_key'] = {'private_key': private, 'public_key': _keys.public_key_pem(private),
                               'kid': _keys.kid_for_public_key(private)}
            plan['target_kid'] = plan['new_key']['kid']
        elif plan['action'] == 'resume':
            for host in entry['alive']:
                files = (reads[host] or {}).get('files') or {}
                for part in ('staged', 'key'):
                    if (files.get(part) or {}).get('kid') == plan['target_kid']:
                        plan['read_back'] = {'host': host, 'path': files[part].get('path'), 'client_id': entry['client_id']}
                        settings = (reads[host] or {}).get('settings') or {}
                        if (settings.get('destination') or 'file') != 'file':
                            # read from the store by the engine itself (the role's slurp skips it): the host's
                            # store settings, no secret (the store's credentials come from the environment)
                            plan['read_back']['store'] = dict((n, settings.get(n)) for n in _stores.SETTINGS)
                            plan['read_back']['store'].update(key_path=settings.get('key_path'))
                        break
                if plan['read_back']:
                    break
        if plan['action'] in ('rotate', 'resume', 'finish'):
            room = _marker.room_error(client)
            if room:  # check mode too: it says what the real run would do
                plan.update(action='blocked', errors=plan['errors'] + [_sentence(room)])
                plan.pop('new_key', None)
                return plan
        if plan['action'] in ('rotate', 'resume', 'finish') and not self._check:
            # The run's first write to the client, and its last step of the plan (nothing after it can fail and
            # leave the marker without the plan knowing it): its marker. The PATCH answer is the client as it is now.
            client = _engine.write_marker(auth0, client, _marker.make(self._run['id'], self._run['started'],
                                                                      self._run['host'], self._run['pid']), False)
            plan.update(marker='held', state=describe_client(client, credentials))
        return plan

    @staticmethod
    def _overlap(settings):
        try:
            return _plan.overlap_seconds(settings.get('overlap'))
        except ValueError:  # the read step refused it on every host already
            return 0

    @staticmethod
    def _created_at(credential_id, *states):
        for state in states:
            for credential in (state or {}).get('credentials') or []:
                if credential.get('id') == credential_id and credential.get('created_at'):
                    return credential['created_at']
        return None

    def _window(self, settings, created_at, target_kid, server_now, recorded=None, promoted_now=False):
        """(until, note): the end of the overlap window while it lasts (None once it is over, or ended early because
        every consumer check reports the new kid), and what the consumer checks said.

        The window runs ``overlap`` from the new credential's created_at, from the moment this run made the key
        current (``promoted_now``: a rotation resumed long after its key was registered gives consumers the whole
        window too) and until the end ``recorded`` on the client by the run that did; the latest of them."""
        overlap = self._overlap(settings)
        if not overlap:
            return None, None
        window = datetime.timedelta(seconds=overlap)
        ends = [end for end in (_plan.window_end(created_at, overlap) if created_at else None, recorded,
                                server_now + window if promoted_now or not created_at else None) if end is not None]
        until = max(ends)
        if server_now >= until:
            return None, None
        checks = settings.get('consumer_checks')
        if not checks:
            return until, None
        answers = _consumers.ask(checks, transport=self.consumer_transport)
        if _consumers.all_use(answers, target_kid):
            return None, ('every consumer check reports the new key %s, so the overlap window ends early'
                          % target_kid)
        return until, 'consumer checks: %s' % _consumers.describe(answers, target_kid)

    def _wait_for_window(self, plan, settings, auth0, now, client=None):
        """A finish (retiring the credentials of earlier keys) inside the overlap window of the new key waits: the
        client does nothing this run, writes no marker, and says until when. A forced run finishes at once."""
        overlap = self._overlap(settings)
        if plan['action'] != 'finish' or not plan.get('retire') or not overlap or settings.get('force'):
            return
        target = plan.get('target_credential') or {}
        if not target.get('created_at'):
            return
        until, note = self._window(settings, target['created_at'], plan.get('target_kid'), auth0.server_now() or now,
                                   recorded=_marker.window_of(client, plan.get('target_kid')))
        if until is None:
            if note:
                plan['reasons'].append(note)
            return
        waiting = until.strftime('%Y-%m-%dT%H:%M:%SZ')
        earlier = ', '.join(c['id'] for c in plan['retire'])
        reason = ('the hosts use the key %s; the credentials of earlier keys (%s) are retired after its overlap window, at '
                  '%s (credential_rotation_overlap %s from the creation of %s in Auth0); a run after that time retires '
                  'them, or one with credential_rotation_force now'
                  % (plan.get('target_kid'), earlier, waiting, settings.get('overlap'), target.get('id')))
        plan.update(action='none', retire=[], waiting_until=waiting, reasons=[reason] + ([note] if note else []))

    def _announce(self, plan):
        hosts = ', '.join(plan['hosts']) or 'none'
        if plan['action'] in ('blocked', 'failed'):
            _say('client %s (hosts %s): refused. %s' % (plan['client_id'], hosts, ' '.join(_sentence(e) for e in plan['errors'])))
            return
        old = ', '.join(c.get('kid') or '?' for c in plan.get('current_credentials') or []
                        if c.get('kid') != plan.get('target_kid')) or 'none'
        line = 'client %s (hosts %s): %s. %s' % (plan['client_id'], hosts, plan['action'], ' '.join(
            _sentence(r) for r in plan['reasons']))
        _say(line.strip())
        if self._diff or self._check:
            if plan['action'] in ('rotate', 'resume'):
                _say('  key: %s -> %s' % (old, plan['target_kid']))
            verb = 'would' if self._check else 'will'
            for entry in plan.get('free') or []:
                _say('  %s free %s %s (%s)' % (verb, entry['id'], entry.get('name'), entry.get('reason')))
            for entry in plan.get('retire') or []:
                _say('  %s retire %s %s (%s), once every host holds the new key' % (
                    verb, entry['id'], entry.get('name'), entry.get('reason')))
            if plan.get('partial'):
                _say('  partial run: hosts %s are not part of it; nothing will be retired'
                     % ', '.join(sorted(set(plan['outside']) | set(plan['failed']))))
        if plan.get('secret_switch') and plan['action'] in ('rotate', 'resume'):
            _say('  WARNING: client %s switches from its client secret to private_key_jwt: applications that still use '
                 'the client secret stop working at that moment.' % plan['client_id'])

    # -- register, enable, verify -------------------------------------------------------------------

    def _step_enable(self):
        plan = self._plan_result()
        todo = [c for c, p in plan['clients'].items() if p['action'] in ('rotate', 'resume')]
        if not todo:
            return {'changed': False, 'clients': {}}
        auth0 = self._auth0(plan.get('token'))
        alive = self._alive()

        def enable(client_id):
            return self._enable_client(auth0, plan, plan['clients'][client_id], alive)

        done = self._each(todo, enable)
        for client_id, outcome in done.items():
            outcome.setdefault('client_id', client_id)
            if outcome.get('error'):
                _say('client %s: %s' % (client_id, outcome['error']))
            else:
                _say('client %s: the new key %s is %s' % (client_id, plan['clients'][client_id]['target_kid'],
                                                          'registered and enabled (check mode: would be)' if self._check
                                                          else 'enabled beside the old one and obtains a token'))
        return {'changed': any(o.get('changed') for o in done.values()), 'clients': done}

    def _host_failures(self, hosts, result_name):
        """{host: reason} for hosts that failed a host step (or left the play) since the plan."""
        out = {}
        alive = self._alive()
        for host in hosts:
            result = self._hostvar(host, result_name, {}) or {}
            if host not in alive or result.get('failed') or result.get('unreachable'):
                out[host] = result.get('msg') or 'the host left the play (failed or unreachable)'
        return out

    def _enable_client(self, auth0, plan, client_plan, alive):
        client_id = client_plan['client_id']
        s = client_plan['settings']
        failures = self._host_failures(client_plan['alive'], STAGED)
        if failures:
            return {'error': 'Hosts %s failed before the new key was registered (%s); nothing was changed in Auth0 for '
                             'client %s.' % (', '.join(sorted(failures)), '; '.join('%s: %s' % i for i in sorted(failures.items())),
                                             client_id)}
        key = (plan.get('keys') or {}).get(client_id)
        if client_plan['action'] == 'resume':
            key = self._read_back_key(client_plan)
        client, credentials = client_from_description(client_plan['state'], client_id)
        if not self._check:
            # Read the client just before the first credential write: the list of enabled credentials every
            # PATCH below starts from, and the proof that this run still holds the client's marker (two runs
            # that read the client at the same moment both wrote one; the later write won).
            client = _engine.get_client(auth0, client_id)
            verdict, note = self._marker_after_plan(client, plan['run'])
            if verdict != 'ours':
                return {'lost_marker': True,
                        'error': 'Another run wrote its marker on client %s after this run wrote its own (%s). This run '
                                 'changed nothing in Auth0 for the client and switched no host.'
                                 % (client_id, note or 'the marker is gone')}
        changed = False
        client, credentials = _engine.free(auth0, client, credentials, client_plan['free'], self._check)
        changed = changed or bool(client_plan['free'])
        target = client_plan['target_credential']
        if target is None or not target.get('id'):
            target, credentials = _engine.register(auth0, client, credentials, s.get('credential_name'), key['public_key'],
                                                   client_plan['target_kid'], s.get('alg') or 'RS256',
                                                   s.get('expires_in_days'), self._check)
            changed = True
        current = _engine.enabled_ids(client)
        if target.get('id') not in current or target.get('id') is None:
            client = _engine.set_enabled(auth0, client, current + [target.get('id')], self._check,
                                         switch_from_secret=client_plan['secret_switch'])
            changed = True
        error = None
        if not self._check:
            error = _engine.verify(auth0, client_id, key['private_key'], s.get('alg') or 'RS256', client_plan['target_kid'],
                                   s.get('verify_audience'))
        credentials = [c for c in credentials if c.get('id')]
        state = describe_client(client, credentials)
        result = {'changed': changed, 'credential': {'id': target.get('id'), 'kid': client_plan['target_kid'],
                                                     'name': target.get('name')},
                  'state': state, 'verified': not self._check and error is None}
        if error:
            result['error'] = ('The new key %s of client %s could not obtain a token: %s. No host was switched; the next '
                               'run resumes from here.' % (client_plan['target_kid'], client_id, error))
        return result

    def _read_back_key(self, client_plan):
        where = client_plan.get('read_back') or {}
        if where.get('store'):
            try:
                private, described = _stores.key_from_read_back(where['store'], client_plan['target_kid'])
            except _stores.StoreError as error:
                raise AnsibleActionFail(str(error)) from None
            if not private:
                raise AnsibleActionFail('The key %s staged by an earlier run is no longer in %s.'
                                        % (client_plan['target_kid'], described))
            return {'private_key': private, 'public_key': _keys.public_key_pem(private), 'kid': client_plan['target_kid']}
        content = _fleet.read_back_content(self._vars.get(READ_BACK), client_plan['client_id'])
        if not content:
            raise AnsibleActionFail('The key staged by an earlier run could not be read back from %s.' % where.get('host'))
        import base64  # pylint: disable=import-outside-toplevel
        private = base64.b64decode(content).decode('ascii')
        kid = _keys.kid_for_public_key(private)
        if kid != client_plan['target_kid']:
            raise AnsibleActionFail('The key read back from %s:%s has the kid %s, not %s.'
                                    % (where.get('host'), where.get('path'), kid, client_plan['target_kid']))
        return {'private_key': private, 'public_key': _keys.public_key_pem(private), 'kid': kid}

    # -- retire -----------------------------------------------------------------------------------

    def _step_retire(self):
        plan = self._plan_result()
        enable = (self._vars.get(ENABLE) or {}).get('clients') or {}
        todo = [c for c, p in plan['clients'].items() if p['action'] in ('rotate', 'resume', 'finish')]
        auth0 = self._auth0(plan.get('token')) if todo else None

        def retire(client_id):
            return self._retire_client(auth0, plan['clients'][client_id], enable.get(client_id) or {})

        done = self._each(todo, retire)
        for client_id, outcome in done.items():
            if outcome.get('error'):
                _say('client %s: %s' % (client_id, outcome['error']))
            elif outcome.get('retired') or outcome.get('would_retire'):  # check mode retires nothing: it says what it would
                listed = outcome.get('retired') or outcome['would_retire']
                _say('client %s: %s %s' % (client_id, 'would retire' if self._check else 'retired', ', '.join(c['id'] for c in listed)))
        return {'changed': any(o.get('changed') for o in done.values()), 'clients': done}

    def _gone(self, client_plan):
        """The first host that found the new credential no longer enabled before its batch, with the reason."""
        for host in client_plan['alive']:
            switched = self._hostvar(host, SWITCH, {}) or {}
            if switched.get('credential_gone'):
                return host, switched.get('msg')
        return None, None

    def _retire_client(self, auth0, client_plan, enabled):
        client_id = client_plan['client_id']
        s = client_plan['settings']
        if enabled.get('error'):
            return {'error': enabled['error'], 'retired': []}
        target_id = (enabled.get('credential') or {}).get('id') or (client_plan.get('target_credential') or {}).get('id')
        host, reason = self._gone(client_plan)
        rotating = client_plan['action'] in ('rotate', 'resume')
        if host:
            return {'error': 'The new credential %s of client %s was no longer enabled before a promotion batch (found by '
                             '%s); nothing was retired and the hosts it had reached get their previous key back.'
                             % (target_id, client_id, host), 'retired': [], 'rollback': rotating}
        client = None
        if not self._check:
            # Read the client right before retiring: the new credential must still be enabled (deleted or
            # disabled by hand, by another run or by a tenant-as-code tool, it would leave every host without
            # a working key), and the PATCH below starts from this list.
            client = _engine.get_client(auth0, client_id)
            verdict, note = self._marker_after_plan(client, self._plan_result()['run'])
            if client_plan.get('marker') == 'held' and verdict != 'ours':
                return {'lost_marker': True, 'retired': [],
                        'error': 'Another run wrote its marker on client %s during this run (%s); nothing was retired.'
                                 % (client_id, note or 'the marker is gone')}
            if not _engine.is_enabled(client, target_id):
                return {'error': 'The credential %s of client %s, which its hosts now use, is no longer enabled in Auth0 '
                                 '(deleted or disabled by someone else during the run); nothing was retired%s.'
                                 % (target_id, client_id, ' and the hosts get their previous key back' if rotating else ''),
                        'retired': [], 'rollback': rotating}
        failures = self._host_failures(client_plan['alive'], SWITCH)
        if failures:
            return {'error': '%s failed (%s)' % (('Host %s' if len(failures) == 1 else 'Hosts %s') % ', '.join(sorted(failures)),
                                                 '; '.join('%s: %s' % i for i in sorted(failures.items()))),
                    'retired': []}
        files = {}
        for host in client_plan['alive']:
            switched = self._hostvar(host, SWITCH, {}) or {}
            files[host] = switched.get('files') or ((self._hostvar(host, READ, {}) or {}).get('files') or {})
        target = client_plan['target_kid']
        if not self._check:
            off = _fleet.off_target(client_plan['alive'], files, target, s.get('key_mode'))
            if off:
                return {'error': 'Hosts %s do not hold the key %s at mode %s (or still hold a staged key); the old '
                                 'credential is kept.' % (', '.join(off), target, s.get('key_mode')), 'retired': []}
        if client_plan.get('partial'):
            outside = ', '.join(sorted(set(client_plan['outside']) | set(client_plan['failed'])))
            return {'retired': [], 'not_retired': 'Nothing was retired: hosts %s are not part of this run and may still '
                                                  'use the older keys.' % outside}
        if not s.get('retire', True):
            return {'retired': [], 'not_retired': 'Nothing was retired (credential_rotation_retire is false).'}
        freed = set(c['id'] for c in client_plan.get('free') or [])
        retire_list = [c for c in client_plan.get('retire') or [] if c.get('kid') != target and c['id'] not in freed]
        kept_note = None
        if client is not None:
            # The plan never retires a credential that another client field lists (JAR's signed_request_object, another
            # authentication method); one listed there since the plan is kept too, as the fresh read shows it.
            uses = credential_uses(client)
            kept = [c for c in retire_list if set(uses.get(c['id']) or []) - {'private_key_jwt'}]
            if kept:
                retire_list = [c for c in retire_list if c not in kept]
                kept_note = ('Not retired: %s, which %s now also used by %s (since the plan); retire %s by hand once %s '
                             'no longer needed there.') % (
                    ', '.join(c['id'] for c in kept), 'is' if len(kept) == 1 else 'are',
                    ', '.join(sorted(set(u for c in kept for u in uses[c['id']] if u != 'private_key_jwt'))),
                    'it' if len(kept) == 1 else 'them', 'it is' if len(kept) == 1 else 'they are')
        if not retire_list:
            return dict({'retired': []}, **({'not_retired': kept_note} if kept_note else {}))
        # credential_rotation_force finishes an earlier rotation at once; the rotation it starts waits like any other
        if self._overlap(s) and not (s.get('force') and client_plan['action'] == 'finish'):
            created = self._created_at(target_id, enabled.get('state'), client_plan.get('state'))
            server_now = (auth0.server_now() if auth0 is not None else None) or datetime.datetime.now(datetime.timezone.utc)
            recorded = _marker.window_of(client, target) if client is not None else None
            until, note = self._window(s, created, target, server_now, recorded=recorded, promoted_now=rotating)
            if note:
                _say('client %s: %s' % (client_id, note))
            if until is not None:
                waiting = until.strftime('%Y-%m-%dT%H:%M:%SZ')
                if client is not None and recorded != until and _marker.window_room(client):
                    # later runs wait as long, also when this run made the key current long after its creation
                    _engine.write_window(auth0, client, _marker.window_value(target, until), False)
                return {'retired': [], 'waiting_until': waiting, 'not_retired': (
                    '%s %s retired after the overlap window of the new key, at %s (credential_rotation_overlap %s from the '
                    'creation of %s in Auth0): consumers that read the key on their own schedule take it up meanwhile; a '
                    'run after that time retires %s.' % (
                        ', '.join(c['id'] for c in retire_list), 'would be' if self._check else 'is',
                        waiting, s.get('overlap'), target_id or 'the new credential', 'it' if len(retire_list) == 1 else 'them'))}
        if self._check:
            return {'retired': [], 'would_retire': retire_list}
        done = _engine.retire(auth0, client, retire_list, False, release_marker=client_plan.get('marker') == 'held',
                              forget_window=_marker.window_of(client) is not None)
        result = {'changed': bool(done), 'retired': done, 'released': client_plan.get('marker') == 'held'}
        if kept_note:
            result['not_retired'] = kept_note
        return result

    # -- summary ----------------------------------------------------------------------------------

    def _step_summary(self):
        plan = self._vars.get(PLAN) or {}
        enable = (self._vars.get(ENABLE) or {}).get('clients') or {}
        retired = (self._vars.get(RETIRE) or {}).get('clients') or {}
        released = self._release_markers(plan, enable, retired)
        summaries = {}
        for client_id, client_plan in (plan.get('clients') or {}).items():
            summaries[client_id] = self._summarise(client_plan, enable.get(client_id) or {}, retired.get(client_id) or {})
            _say(summaries[client_id]['message'])
        if not plan.get('clients'):
            failure = (self._vars.get(PLAN) or {}).get('msg')
            if failure:
                _say('no client was planned: %s' % failure)
        coordination = plan.get('coordination')
        if coordination and os.path.isdir(coordination) and os.path.basename(coordination).startswith(COORDINATION_PREFIX):
            shutil.rmtree(coordination, ignore_errors=True)
        # Clients that stopped after their hosts took part (Auth0 refused a retirement, a host does not hold the
        # new key): no host task failed for them, so the role fails the run after forgetting the keys.
        unfinished = sorted(c for c, s in summaries.items() if s['outcome'] == 'failed' and not s['hosts_failed'])
        return {'changed': False, 'credential_rotation': summaries, 'unfinished': unfinished,
                'unfinished_message': ' '.join(summaries[c]['message'] for c in unfinished),
                'ansible_stats': {'data': {'credential_rotation': summaries}, 'per_host': False, 'aggregate': True}}

    def _release_markers(self, plan, enable, retired):
        """Remove this run's marker from the clients where the retiring PATCH did not (a run that stopped, a
        partial run, nothing to retire). Returns {client_id: error} for markers that could not be removed."""
        todo = [c for c, p in (plan.get('clients') or {}).items() if p.get('marker') == 'held'
                and not (enable.get(c) or {}).get('lost_marker') and not (retired.get(c) or {}).get('lost_marker')
                and not (retired.get(c) or {}).get('released')]
        if not todo:
            return {}
        auth0 = self._auth0(plan.get('token'))

        def release(client_id):
            _engine.write_marker(auth0, {'client_id': client_id}, None, False)
            return {}

        done = self._each(todo, release)
        for client_id, outcome in done.items():
            if outcome.get('error'):
                _say('client %s: the run marker could not be removed (%s); the next run of this controller takes it '
                     'over, others wait until it is stale.' % (client_id, outcome['error']))
        return dict((c, o['error']) for c, o in done.items() if o.get('error'))

    def _summarise(self, client_plan, enabled, retired):
        action = client_plan['action']
        target = client_plan.get('target_kid')
        hosts = client_plan['hosts']
        failed = []
        for host in hosts:
            reason = client_plan['failed'].get(host)
            if reason is None:
                for name in (READ, STAGED, SWITCH):
                    result = self._hostvar(host, name, {}) or {}
                    if result.get('failed') or result.get('unreachable'):
                        reason = result.get('msg') or 'failed'
                        break
            if reason is None and host not in self._alive():
                reason = 'the host left the play (failed or unreachable)'
            if reason:
                failed.append({'host': host, 'reason': reason})
        switched = []
        for host in hosts:
            before = (((self._hostvar(host, READ, {}) or {}).get('files') or {}).get('key') or {}).get('kid')
            after = ((((self._hostvar(host, SWITCH, {}) or {}).get('files') or {}).get('key')) or {}).get('kid')
            if target and after == target and before != target:
                switched.append(host)
        rolled_back = [h for h in hosts if (self._hostvar(h, ROLLBACK, {}) or {}).get('restored')]
        switched = [h for h in switched if h not in rolled_back]
        cleaned = dict((h, (self._hostvar(h, STAGED, {}) or {}).get('cleaned')) for h in hosts
                       if (self._hostvar(h, STAGED, {}) or {}).get('cleaned'))
        errors = list(client_plan.get('errors') or [])
        for part in (enabled, retired):
            if part.get('error') and part['error'] not in errors:
                errors.append(part['error'])
        credential = enabled.get('credential') or client_plan.get('target_credential') or {}
        summary = {
            'client_id': client_plan['client_id'],
            'action': action,
            'check_mode': self._check,
            'reasons': client_plan.get('reasons') or [],
            'errors': errors,
            'old': [c for c in client_plan.get('current_credentials') or [] if c.get('kid') != target],
            'new': {'kid': target, 'credential_id': credential.get('id')} if action in ('rotate', 'resume') else None,
            'hosts': hosts,
            'hosts_switched': switched,
            'hosts_failed': failed,
            'hosts_outside': client_plan.get('outside') or [],
            'partial': bool(client_plan.get('partial')),
            'freed': client_plan.get('free') or [] if action in ('rotate', 'resume') else [],
            'retired': retired.get('retired') or [],
            'would_retire': retired.get('would_retire') or [],
            'reported': client_plan.get('foreign') or [],
            'hosts_rolled_back': rolled_back,
            'leftovers_removed': cleaned,
        }
        if retired.get('not_retired'):
            summary['not_retired'] = retired['not_retired']
        waiting = retired.get('waiting_until') or client_plan.get('waiting_until')
        if waiting:
            summary['waiting_until'] = waiting
        summary['outcome'] = _fleet.outcome(action, failed, bool(errors and action not in ('blocked',)), self._check,
                                            bool(summary['retired']), waiting=bool(waiting))
        summary['message'] = _fleet.message(summary)
        return summary
