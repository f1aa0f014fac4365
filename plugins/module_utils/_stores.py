# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secret-store destinations of a rotated key: where applications read it when it is not a file on their hosts.

PRIVATE to the keyops.auth0 collection: names and behaviour may change without notice.

A store answers the same requests as the credential_key_file module (``state`` read, staged, promoted, restored,
pruned, cleaned, with the same arguments and the same shape of result), so that the host steps of the rotation
work on a store exactly as on a key file: the key's kid is always computed from the key itself, the new key is
staged beside the current one before Auth0 learns of it, and promotion makes it current in one write.

``aws_secretsmanager``: an AWS Secrets Manager secret, through ``boto3`` (imported on first use), as Secrets
Manager's own rotation does it: the new key is written as a version labelled ``AWSPENDING`` (its
``ClientRequestToken`` derived from the kid, so writing it again is idempotent), and promotion moves the label
``AWSCURRENT`` to it, from the version read just before (the old one becomes ``AWSPREVIOUS``). Each version holds
``private_key``, ``kid``, ``client_id`` and ``staged_at`` as JSON; the credential id is not known when the version is
written and is not kept.

Fields of a secret that the rotation does not own (ROTATION_FIELDS) are copied into the versions it writes and
never shown in results.

The key goes from the controller's memory to the store: no file, no module process. The Auth0 client knows
nothing of stores; the rotation's action plugins call them.

``vault``: HashiCorp Vault or OpenBao, a KV version 2 secret engine, through ``hvac`` (imported on first use).
The secret at PATH holds the current key (``private_key``) and its metadata (``kid``, ``alg``, ``client_id``,
``credential_id``, ``previous_kid``, ``rotated_at``); PATH + the staged suffix holds the staged key. Every write
is a check-and-set on the version read just before (``cas``), so a concurrent writer makes it fail instead of
being overwritten. Earlier keys are the secret's earlier versions (the engine's ``max_versions`` keeps them);
a restore writes the previous version's data again as a new version.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re

from ansible_collections.keyops.auth0.plugins.module_utils import _keys

DESTINATIONS = ('file', 'vault', 'aws_secretsmanager')
#: The host settings (credential_rotation_* without the prefix) a store is opened with; none of them is a secret.
SETTINGS = ('destination', 'staged_suffix', 'vault_mount', 'vault_addr', 'vault_namespace', 'vault_ca_cert',
            'vault_approle_mount', 'aws_region', 'aws_endpoint_url')


#: The fields of a secret the rotation writes; other fields of the secret are kept as they are, and never shown.
ROTATION_FIELDS = ('private_key', 'kid', 'alg', 'client_id', 'credential_id', 'previous_kid', 'rotated_at', 'staged_at',
                   'restored_at')


def _metadata(data):
    """What a secret's data may show in results: the rotation's fields but the key (never another field, which may
    be a secret of the application)."""
    return dict((k, v) for k, v in (data or {}).items() if k in ROTATION_FIELDS and k != 'private_key') or None


def _others(data):
    """The fields of a secret the rotation does not own (kept when it writes a new version)."""
    return dict((k, v) for k, v in (data or {}).items() if k not in ROTATION_FIELDS)


class StoreError(Exception):
    """A store refused or could not be reached; the message names the destination and the fix."""


def _hvac():
    try:
        import hvac  # pylint: disable=import-outside-toplevel
        import hvac.exceptions  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise StoreError('The vault destination needs the Python library hvac on the controller: pip install hvac '
                         '(the execution environment lists it).') from None
    return hvac


def _key_view(where, data, store='vault'):
    """What credential_key_file says of a key file, for the key in a secret's data (None: no secret); ``store``
    names the kind of store (a key there has no file mode)."""
    view = {'path': where, 'exists': data is not None, 'kid': None, 'usable': False, 'store': store}
    if data is None:
        return view
    private = data.get('private_key') if isinstance(data, dict) else None
    if not isinstance(private, str) or not private.strip():
        view['found'] = 'a secret without private_key'
        return view
    try:
        _keys.load_private_key(private)
        view['kid'] = _keys.kid_for_public_key(private)
        view['usable'] = True
    except ValueError:
        view['found'] = _keys.describe_key_file(private)
    return view


def _kid(data):
    """The kid of the key in a secret's data (computed from the key), or None."""
    return _key_view('', data)['kid'] if data else None


def _diff(before, after):
    return {'before': {'kid': before}, 'after': {'kid': after}}


class _Store:
    """The credential_key_file contract over a store. A store's ``_state()`` returns a dict with the data of the
    current (``live``) and the staged version (``staged``), None when there is none, and what its writes need;
    ``_places()`` names the two in results; ``_drop_staged(state)`` removes the staged version. The subclasses write
    the staging, the promotion and the restore, which differ by store."""

    kind = None
    #: What state=pruned says: a store keeps its earlier versions itself.
    RETENTION = ''

    def run(self, args, check_mode=False):
        """Answer one credential_key_file request; a failure is returned as {'failed': True, 'msg': ...}."""
        states = {'read': self._read_state, 'staged': self._staged, 'promoted': self._promoted, 'restored': self._restored,
                  'pruned': self._pruned, 'cleaned': self._cleaned}
        try:
            return states[args['state']](args, check_mode)
        except StoreError as error:
            return {'failed': True, 'msg': str(error)}

    def _result(self, live, staged, changed=False, **extra):
        live_where, staged_where = self._places()
        metadata = _metadata(live)
        out = {'changed': changed, 'key': _key_view(live_where, live, self.kind),
               'staged': _key_view(staged_where, staged, self.kind), 'metadata': metadata, 'backups': [], 'leftovers': [],
               'removed': [], 'directory': None, 'previous_kid': (metadata or {}).get('previous_kid')}
        out.update(extra)
        return out

    @staticmethod
    def _refused_key(args):
        """The failure of a staging request whose key has another kid, or None."""
        if _keys.kid_for_public_key(args['private_key']) != args['kid']:
            return {'failed': True, 'msg': 'The key to stage has another kid than %s.' % args['kid']}
        return None

    def _cannot_promote(self, state, kid, check_mode):
        """The answer to a promotion of a key that is not staged: in check mode (which staged nothing) what the
        promotion of the key a real run stages would do, else a failure."""
        if check_mode:
            return self._result(state['live'], None, changed=True, diff=_diff(_kid(state['live']), kid))
        return {'failed': True, 'msg': 'Neither the live key nor the staged key of %s has the kid %s.' % (self.describe(), kid)}

    def _read_state(self, args, check_mode):
        state = self._state()
        return self._result(state['live'], state['staged'])

    def _pruned(self, args, check_mode):
        state = self._state()
        return self._result(state['live'], state['staged'], msg=self.RETENTION)

    def _cleaned(self, args, check_mode):
        state = self._state()
        live, staged = state['live'], state['staged']
        if not args.get('remove_staged') or staged is None:
            return self._result(live, staged)
        if args.get('kid') and _kid(staged) not in (args['kid'], None):
            return self._result(live, staged)
        if not check_mode:
            self._drop_staged(state, 'removing the staged key')
        return self._result(live, None, changed=True, removed=[self._places()[1]])

    def staged_key(self, kid):
        """The private key with this kid, staged or current (a resumed rotation), or None."""
        state = self._state()
        for data in (state['staged'], state['live']):
            if data and _kid(data) == kid:
                return data['private_key']
        return None


class VaultKV2Store(_Store):
    """The key of one client in a KV v2 secret (see the module docstring)."""

    kind = 'vault'

    def __init__(self, path, staged_path, mount='secret', addr=None, token=None, role_id=None, secret_id=None,
                 approle_mount='approle', namespace=None, ca_cert=None, timeout=30, client=None):
        self.path = path.strip('/')
        self.staged_path = staged_path.strip('/')
        self.mount = (mount or 'secret').strip('/')
        self._options = dict(addr=addr or os.environ.get('VAULT_ADDR') or os.environ.get('BAO_ADDR'),
                             token=token or os.environ.get('VAULT_TOKEN') or os.environ.get('BAO_TOKEN'),
                             role_id=role_id or os.environ.get('VAULT_ROLE_ID'),
                             secret_id=secret_id or os.environ.get('VAULT_SECRET_ID'),
                             approle_mount=approle_mount, namespace=namespace or os.environ.get('VAULT_NAMESPACE') or None,
                             ca_cert=ca_cert or os.environ.get('VAULT_CACERT') or None, timeout=timeout)
        self._client = client

    # -- connection -------------------------------------------------------------------------------------

    def describe(self, path=None):
        return 'vault:%s/%s' % (self.mount, path or self.path)

    def _connect(self):
        if self._client is not None:
            return self._client
        hvac = _hvac()
        o = self._options
        if not o['addr']:
            raise StoreError('The vault destination of %s has no address: set VAULT_ADDR (or credential_rotation_vault_addr).'
                             % self.describe())
        verify = o['ca_cert'] if o['ca_cert'] else True
        client = hvac.Client(url=o['addr'], verify=verify, namespace=o['namespace'], timeout=o['timeout'])
        if o['role_id'] and o['secret_id'] and not o['token']:
            self._call(lambda: client.auth.approle.login(role_id=o['role_id'], secret_id=o['secret_id'],
                                                         mount_point=o['approle_mount']), 'logging in with AppRole')
        elif o['token']:
            client.token = o['token']
        else:
            raise StoreError('The vault destination of %s has no credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and '
                             'VAULT_SECRET_ID (AppRole).' % self.describe())
        self.check_mount(client)
        self._client = client
        return client

    def check_mount(self, client):
        """Refuse, before anything is written, a mount that is no KV version 2 secret engine: KV version 1 would take
        the writes at MOUNT/data/PATH, where no consumer reads. Asked as Vault's own CLI asks it
        (sys/internal/ui/mounts, which any token with a policy on the path may read)."""
        hvac = _hvac()
        try:
            answer = client.adapter.get('/v1/sys/internal/ui/mounts/%s/%s' % (self.mount, self.path))
        except hvac.exceptions.Forbidden:
            raise StoreError('%s: the token may use no mount %s at %s (the mount does not exist, or the token is invalid '
                             'or has no policy on the path). Check credential_rotation_vault_mount and the token.'
                             % (self.describe(), self.mount, self.path)) from None
        except (hvac.exceptions.VaultError, OSError, ValueError) as error:
            raise StoreError('%s could not be reached while checking its mount: %s' % (self.describe(), _first_line(error))) from None
        data = (answer or {}).get('data') if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            return  # an answer of another shape (an older server): the writes say what is wrong
        kind = data.get('type')
        version = str((data.get('options') or {}).get('version') or '1')
        if kind not in ('kv', 'generic') or version != '2':
            raise StoreError('%s: the mount %s is %s, not a KV version 2 secret engine, which the vault destination needs '
                             '(its versions and check-and-set keep the staged and the current key apart). Give '
                             'credential_rotation_vault_mount a KV version 2 mount.'
                             % (self.describe(), (data.get('path') or self.mount).rstrip('/'),
                                'KV version %s' % version if kind in ('kv', 'generic') else 'a %s engine' % kind))

    def _call(self, function, doing, path=None):
        hvac = _hvac()
        errors = hvac.exceptions
        where = self.describe(path)
        try:
            return function()
        except errors.Forbidden:
            raise StoreError('%s refused %s: permission denied (an invalid or expired token, or one without the policy). '
                             'Give the token a policy with create, read and update on '
                             '%s/data/%s and %s/data/%s, read on %s/metadata/%s and read and delete on %s/metadata/%s.' % (
                                 where, doing, self.mount, self.path, self.mount, self.staged_path, self.mount, self.path,
                                 self.mount, self.staged_path)) from None
        except errors.InvalidPath:
            raise StoreError('%s: %s failed, the path does not exist (is %s a KV version 2 mount?).'
                             % (where, doing, self.mount)) from None
        except errors.RateLimitExceeded:
            raise StoreError('%s throttled %s (rate limit); run again later.' % (where, doing)) from None
        except (errors.VaultDown, errors.InternalServerError, errors.BadGateway) as error:
            raise StoreError('%s could not answer %s: %s' % (where, doing, _first_line(error))) from None
        except errors.InvalidRequest as error:
            text = _first_line(error)
            if 'check-and-set' in text:
                raise StoreError('%s changed while %s (another writer; check-and-set refused it). Nothing was '
                                 'overwritten; run again.' % (where, doing)) from None
            raise StoreError('%s refused %s: %s' % (where, doing, text)) from None
        except errors.VaultError as error:
            raise StoreError('%s refused %s: %s' % (where, doing, _first_line(error))) from None
        except (OSError, ValueError) as error:  # requests' connection errors are OSErrors
            raise StoreError('%s could not be reached while %s: %s' % (where, doing, _first_line(error))) from None

    def _read(self, path):
        """(data, version) of the secret's current version, (None, 0) when there is none (or it was deleted)."""
        client = self._connect()
        hvac = _hvac()

        def read():
            try:
                return client.secrets.kv.v2.read_secret_version(path=path, mount_point=self.mount,
                                                                raise_on_deleted_version=False)
            except hvac.exceptions.InvalidPath:
                return None
        answer = self._call(read, 'reading the key', path)
        if not answer or not isinstance(answer.get('data'), dict):
            return None, self._version(path)
        version = (answer['data'].get('metadata') or {}).get('version') or 0
        data = answer['data'].get('data')
        return (data if isinstance(data, dict) else None), version

    def _version(self, path):
        """The newest version of a secret (0 when it has none), for a check-and-set on a deleted secret."""
        client = self._connect()
        hvac = _hvac()

        def metadata():
            try:
                return client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return None
        answer = self._call(metadata, 'reading the metadata', path)
        return int(((answer or {}).get('data') or {}).get('current_version') or 0)

    def _write(self, path, data, cas, doing):
        kv2 = self._connect().secrets.kv.v2
        self._call(lambda: kv2.create_or_update_secret(path=path, secret=data, cas=cas, mount_point=self.mount), doing, path)

    def _delete(self, path, doing):
        client = self._connect()
        self._call(lambda: client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=self.mount),
                   doing, path)

    def _previous(self, version):
        """The data of the version before ``version`` of the current secret (None when there is none)."""
        if version < 2:
            return None
        client = self._connect()
        answer = self._call(lambda: client.secrets.kv.v2.read_secret_version(
            path=self.path, version=version - 1, mount_point=self.mount, raise_on_deleted_version=False),
            'reading the previous key')
        data = ((answer or {}).get('data') or {}).get('data')
        return data if isinstance(data, dict) else None

    # -- the credential_key_file contract ----------------------------------------------------------------

    RETENTION = 'The store keeps earlier versions itself (KV v2 max_versions).'

    def _state(self):
        live, version = self._read(self.path)
        staged, staged_version = self._read(self.staged_path)
        return {'live': live, 'version': version, 'staged': staged, 'staged_version': staged_version}

    def _places(self):
        return self.describe(), self.describe(self.staged_path)

    def _drop_staged(self, state, doing):
        self._delete(self.staged_path, doing)

    def _staged(self, args, check_mode):
        private, kid = args['private_key'], args['kid']
        refused = self._refused_key(args)
        if refused:
            return refused
        state = self._state()
        if _kid(state['staged']) == kid:
            return self._result(state['live'], state['staged'])
        new = {'private_key': private, 'kid': kid, 'staged_at': _now()}
        if not check_mode:
            self._write(self.staged_path, new, state['staged_version'], 'staging the new key')
        return self._result(state['live'], new, changed=True, diff=_diff(_kid(state['staged']), kid))

    def _promoted(self, args, check_mode):
        kid = args['kid']
        state = self._state()
        live, staged = state['live'], state['staged']
        live_kid = _kid(live)
        if live_kid == kid:
            removed = []
            if _kid(staged) == kid:
                if not check_mode:
                    self._drop_staged(state, 'removing the staged copy of the current key')
                removed = [self.describe(self.staged_path)]
            return self._result(live, None if removed else staged, changed=bool(removed), removed=removed)
        if _kid(staged) != kid:
            return self._cannot_promote(state, kid, check_mode)
        data = dict(_others(live), **dict(args.get('metadata') or {}, private_key=staged['private_key'], kid=kid, rotated_at=_now()))
        data.setdefault('previous_kid', live_kid)
        if not check_mode:
            self._write(self.path, data, state['version'], 'making the new key current')
            self._drop_staged(state, 'removing the staged key after its promotion')
        return self._result(data, None, changed=True, removed=[self.describe(self.staged_path)], diff=_diff(live_kid, kid))

    def _restored(self, args, check_mode):
        kid = args['kid']
        state = self._state()
        live = state['live']
        if _kid(live) != kid:
            return self._result(live, state['staged'])
        previous = self._previous(state['version'])
        if not previous or not _key_view('', previous)['usable']:
            return {'failed': True, 'msg': '%s has no earlier version with a usable key to restore.' % self.describe()}
        data = dict(previous, **dict((k, v) for k, v in (args.get('metadata') or {}).items() if k != 'private_key'))
        data['restored_at'] = _now()
        if not check_mode:
            self._write(self.path, data, state['version'], 'putting the previous key back')
            self._write(self.staged_path, {'private_key': live['private_key'], 'kid': kid, 'staged_at': _now()},
                        state['staged_version'], 'keeping the replaced key staged')
        return self._result(data, live, changed=True, diff=_diff(kid, _kid(previous)))


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _boto3():
    try:
        import boto3  # pylint: disable=import-outside-toplevel
        import botocore.exceptions  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise StoreError('The aws_secretsmanager destination needs the Python library boto3 on the controller: pip '
                         'install boto3 (the execution environment lists it).') from None
    return boto3, botocore.exceptions


PENDING, CURRENT, PREVIOUS = 'AWSPENDING', 'AWSCURRENT', 'AWSPREVIOUS'


class SecretsManagerStore(_Store):
    """The key of one client in an AWS Secrets Manager secret (see the module docstring)."""

    kind = 'aws_secretsmanager'

    def __init__(self, secret_id, region=None, endpoint_url=None, client=None):
        self.secret_id = secret_id
        # boto3 itself reads AWS_DEFAULT_REGION only; AWS_REGION is what amazon.aws and the AWS CLI read first
        self._region = region or os.environ.get('AWS_REGION') or os.environ.get('AWS_DEFAULT_REGION') or None
        self._endpoint_url = endpoint_url or None
        self._client = client

    def describe(self, stage=None):
        return 'aws_secretsmanager:%s%s' % (self.secret_id, ' (%s)' % stage if stage else '')

    def _connect(self):
        if self._client is None:
            boto3, errors = _boto3()
            try:
                session = boto3.session.Session(region_name=self._region)
                self._client = session.client('secretsmanager', endpoint_url=self._endpoint_url)
            except errors.NoRegionError:
                raise StoreError('%s: no AWS region. Set AWS_REGION (or credential_rotation_aws_region).'
                                 % self.describe()) from None
            except ValueError as error:  # e.g. an endpoint URL that is no URL
                raise StoreError('%s: %s; check AWS_ENDPOINT_URL (or credential_rotation_aws_endpoint_url).'
                                 % (self.describe(), _first_line(error))) from None
            except errors.BotoCoreError as error:
                raise StoreError('%s: %s' % (self.describe(), _first_line(error))) from None
        return self._client

    def _call(self, doing, method, missing=None, exists=None, **kwargs):
        """client.METHOD(**kwargs); ``missing``, when given, is returned for a secret that does not exist, ``exists``
        for a version (ClientRequestToken) that exists with another content."""
        client = self._connect()
        dummy, errors = _boto3()
        try:
            return getattr(client, method)(**kwargs)
        except errors.ClientError as error:
            code = error.response.get('Error', {}).get('Code', '')
            text = error.response.get('Error', {}).get('Message', '') or code
            found = re.search(r'<Code>([^<]*)</Code>.*<Message>([^<]*)</Message>', text, re.DOTALL)
            if found:  # an answer in XML where JSON was expected (an endpoint in front of the service, a test server)
                code, text = code or found.group(1), found.group(2)
            status = error.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
            if code == 'ResourceNotFoundException' and missing is not None:
                return missing
            if code == 'ResourceExistsException' and exists is not None:
                return exists
            if status == 403 or code in ('AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException',
                                         'InvalidSignatureException', 'InvalidClientTokenId', 'ExpiredTokenException'):
                raise StoreError('%s refused %s: permission denied (%s). Allow secretsmanager:DescribeSecret, '
                                 'GetSecretValue, PutSecretValue, UpdateSecretVersionStage and CreateSecret on it.'
                                 % (self.describe(), doing, text)) from None
            if code in ('ThrottlingException', 'TooManyRequestsException', 'LimitExceededException'):
                raise StoreError('%s throttled %s (%s); run again later.' % (self.describe(), doing, text)) from None
            raise StoreError('%s refused %s: %s (%s).' % (self.describe(), doing, text, code)) from None
        except errors.NoCredentialsError:
            raise StoreError('%s: no AWS credentials. Give them as amazon.aws users do: AWS_ACCESS_KEY_ID and '
                             'AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance or task role.' % self.describe()) from None
        except errors.NoRegionError:
            raise StoreError('%s: no AWS region. Set AWS_REGION (or credential_rotation_aws_region).' % self.describe()) from None
        except errors.BotoCoreError as error:
            raise StoreError('%s could not be reached while %s: %s' % (self.describe(), doing, _first_line(error))) from None

    def _stages(self):
        """({stage: version id}, exists) of the secret."""
        answer = self._call('reading the secret', 'describe_secret', missing={}, SecretId=self.secret_id)
        if answer == {}:
            return {}, False
        stages = {}
        for version, labels in (answer.get('VersionIdsToStages') or {}).items():
            for label in labels:
                stages[label] = version
        return stages, True

    def _value(self, version):
        if not version:
            return None
        answer = self._call('reading the key', 'get_secret_value', SecretId=self.secret_id, VersionId=version)
        try:
            data = json.loads(answer.get('SecretString') or '')
        except ValueError:
            return {'private_key': answer.get('SecretString')}
        return data if isinstance(data, dict) else {'private_key': None}

    RETENTION = 'Secrets Manager keeps earlier versions itself.'

    def _state(self):
        stages, exists = self._stages()
        staged = None
        if stages.get(PENDING) and stages.get(PENDING) != stages.get(CURRENT):
            staged = self._value(stages[PENDING])
        return {'live': self._value(stages.get(CURRENT)), 'staged': staged, 'stages': stages, 'exists': exists}

    def _places(self):
        return self.describe(CURRENT), self.describe(PENDING)

    def _drop_staged(self, state, doing):
        self._call(doing, 'update_secret_version_stage', SecretId=self.secret_id, VersionStage=PENDING,
                   RemoveFromVersionId=state['stages'][PENDING])

    @staticmethod
    def _token(kid, purpose='stage'):
        """The ClientRequestToken of a version: the same key gives the same token (a repeated write adds nothing)."""
        return hashlib.sha256(('%s:%s' % (purpose, kid)).encode('utf-8')).hexdigest()[:64]

    def _staged(self, args, check_mode):
        private, kid = args['private_key'], args['kid']
        refused = self._refused_key(args)
        if refused:
            return refused
        state = self._state()
        live, staged = state['live'], state['staged']
        if _kid(staged) == kid:
            return self._result(live, staged)
        if _kid(live) == kid:
            # a new secret's first version: Secrets Manager labels it AWSCURRENT as well (no application read the
            # secret before it existed)
            return self._result(live, None)
        new = dict(_others(live), private_key=private, kid=kid, staged_at=_now())
        if args.get('client_id'):
            new['client_id'] = args['client_id']
        if not check_mode:
            if not state['exists']:
                self._call('creating the secret', 'create_secret', Name=self.secret_id,
                           Description='Private key of an Auth0 client (Private Key JWT), rotated by keyops.auth0')
            token = self._token(kid)
            # written, or a version of this key exists already (a write with the same token adds nothing)
            self._call('staging the new key', 'put_secret_value', exists='exists', SecretId=self.secret_id,
                       SecretString=json.dumps(new), ClientRequestToken=token, VersionStages=[PENDING])
            after, dummy = self._stages()
            if after.get(PENDING) != token:
                # this key was staged before (its version is the token) and its label was removed since: label it
                # again (Secrets Manager answers a repeated write of a version without relabelling it)
                move = dict(SecretId=self.secret_id, VersionStage=PENDING, MoveToVersionId=token)
                if after.get(PENDING):
                    move['RemoveFromVersionId'] = after[PENDING]
                self._call('labelling the staged key again', 'update_secret_version_stage', **move)
        return self._result(live, new, changed=True, diff=_diff(_kid(staged), kid))

    def _promoted(self, args, check_mode):
        kid = args['kid']
        state = self._state()
        stages, live, staged = state['stages'], state['live'], state['staged']
        live_kid = _kid(live)
        if live_kid == kid:
            if stages.get(PENDING) and stages.get(PENDING) == stages.get(CURRENT) and not check_mode:
                # a new secret's first version carries both labels: AWSPENDING goes, as after any promotion
                self._drop_staged(state, 'removing the pending label')
            return self._result(live, staged)
        if _kid(staged) != kid:
            return self._cannot_promote(state, kid, check_mode)
        if not check_mode:
            move = dict(SecretId=self.secret_id, VersionStage=CURRENT, MoveToVersionId=stages[PENDING])
            if stages.get(CURRENT):
                move['RemoveFromVersionId'] = stages[CURRENT]  # refused when another writer moved AWSCURRENT since the read
            self._call('making the new key current', 'update_secret_version_stage', **move)
            self._drop_staged(state, 'removing the pending label')
        return self._result(staged, None, changed=True, removed=[self.describe(PENDING)], diff=_diff(live_kid, kid))

    def _restored(self, args, check_mode):
        kid = args['kid']
        state = self._state()
        stages, live = state['stages'], state['live']
        if _kid(live) != kid:
            return self._result(live, state['staged'])
        previous = self._value(stages.get(PREVIOUS))
        if not previous or not _key_view('', previous)['usable']:
            return {'failed': True, 'msg': '%s has no AWSPREVIOUS version with a usable key to restore.' % self.describe()}
        if not check_mode:
            self._call('putting the previous key back', 'update_secret_version_stage', SecretId=self.secret_id,
                       VersionStage=CURRENT, MoveToVersionId=stages[PREVIOUS], RemoveFromVersionId=stages[CURRENT])
            self._call('keeping the replaced key pending', 'update_secret_version_stage', SecretId=self.secret_id,
                       VersionStage=PENDING, MoveToVersionId=stages[CURRENT],
                       **({'RemoveFromVersionId': stages[PENDING]} if stages.get(PENDING) else {}))
        return self._result(previous, live, changed=True)


def key_from_read_back(settings, kid):
    """(private key or None, where) of the key ``kid`` an earlier run left in the store of a read-back entry (the
    host settings of the store entry that holds it, with its ``key_path``). Raises StoreError."""
    key_path = settings.get('key_path') or ''
    store = open_store(settings, key_path, key_path + (settings.get('staged_suffix') or ''))
    return store.staged_key(kid), store.describe()


def open_store(settings, path, staged_path):
    """The store of a host's settings (its credential_rotation_* values without the prefix), or None for files."""
    destination = settings.get('destination') or 'file'
    if destination == 'file':
        return None
    if destination == 'vault':
        return VaultKV2Store(path, staged_path, mount=settings.get('vault_mount') or 'secret',
                             addr=settings.get('vault_addr') or None, namespace=settings.get('vault_namespace') or None,
                             ca_cert=settings.get('vault_ca_cert') or None,
                             approle_mount=settings.get('vault_approle_mount') or 'approle')
    if destination == 'aws_secretsmanager':
        return SecretsManagerStore(path, region=settings.get('aws_region') or None,
                                   endpoint_url=settings.get('aws_endpoint_url') or None)
    raise StoreError('credential_rotation_destination is %r; use one of %s.' % (destination, ', '.join(DESTINATIONS)))
