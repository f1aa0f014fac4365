# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault destination (module_utils/_stores.py) over an in-memory KV version 2 engine with hvac's answers and
errors: the credential_key_file contract, check-and-set, check mode, and errors that name the secret."""

from __future__ import annotations

import json

import pytest

hvac = pytest.importorskip('hvac')  # an optional library: the core-floor venv runs without it

from ansible_collections.keyops.auth0.plugins.module_utils import _keys, _stores  # noqa: E402


class FakeKV2:
    """secrets.kv.v2 of hvac over a dict: versions, check-and-set, deleted metadata; ``refuse`` raises on a call."""

    def __init__(self):
        self.secrets = {}  # path -> [data of each version]
        self.refuse = {}  # method name -> exception
        self.calls = []

    def _check(self, name):
        self.calls.append(name)
        if name in self.refuse:
            raise self.refuse[name]

    def read_secret_version(self, path, mount_point, version=None, raise_on_deleted_version=None):
        self._check('read_secret_version')
        versions = self.secrets.get(path)
        if not versions:
            raise hvac.exceptions.InvalidPath('no secret')
        number = version or len(versions)
        return {'data': {'data': dict(versions[number - 1]), 'metadata': {'version': number}}}

    def read_secret_metadata(self, path, mount_point):
        self._check('read_secret_metadata')
        if path not in self.secrets:
            raise hvac.exceptions.InvalidPath('no metadata')
        return {'data': {'current_version': len(self.secrets[path])}}

    def create_or_update_secret(self, path, secret, cas, mount_point):
        self._check('create_or_update_secret')
        if cas != len(self.secrets.get(path, [])):
            raise hvac.exceptions.InvalidRequest('check-and-set parameter did not match the current version')
        self.secrets.setdefault(path, []).append(dict(secret))

    def delete_metadata_and_all_versions(self, path, mount_point):
        self._check('delete_metadata_and_all_versions')
        self.secrets.pop(path, None)


class FakeClient:
    def __init__(self):
        self.kv = FakeKV2()
        self.secrets = type('Secrets', (), {'kv': type('KV', (), {'v2': self.kv})()})()


@pytest.fixture
def store():
    return _stores.VaultKV2Store('apps/billing', 'apps/billing.next', client=FakeClient())


@pytest.fixture(scope='module')
def keys():
    return [_keys.generate_private_key_pem(2048) for dummy in range(2)]


def kid(private):
    return _keys.kid_for_public_key(private)


def current(store):
    return store._client.kv.secrets.get('apps/billing', [])  # pylint: disable=protected-access


def test_stage_promote_and_again(store, keys):
    first = store.run({'state': 'read'})
    assert first['key'] == {'path': 'vault:secret/apps/billing', 'exists': False, 'kid': None, 'usable': False, 'store': 'vault'}
    staged = store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert staged['changed'] and staged['staged']['kid'] == kid(keys[0]) and staged['diff']['after'] == {'kid': kid(keys[0])}
    assert store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})['changed'] is False
    promoted = store.run({'state': 'promoted', 'kid': kid(keys[0]), 'metadata': {'credential_id': 'cred_1', 'client_id': 'app'}})
    assert promoted['changed'] and promoted['key']['kid'] == kid(keys[0]) and promoted['staged']['exists'] is False
    assert promoted['metadata']['credential_id'] == 'cred_1' and 'private_key' not in promoted['metadata']
    assert current(store)[-1]['private_key'] == keys[0]
    assert store.run({'state': 'promoted', 'kid': kid(keys[0])})['changed'] is False
    assert 'apps/billing.next' not in store._client.kv.secrets  # pylint: disable=protected-access


def test_second_rotation_keeps_the_previous_version_and_restore_puts_it_back(store, keys):
    for key in keys:
        store.run({'state': 'staged', 'private_key': key, 'kid': kid(key)})
        store.run({'state': 'promoted', 'kid': kid(key), 'metadata': {'credential_id': 'c-' + kid(key)[:4]}})
    assert len(current(store)) == 2 and current(store)[-1]['previous_kid'] == kid(keys[0])
    restored = store.run({'state': 'restored', 'kid': kid(keys[1]), 'metadata': {'credential_id': 'old'}})
    assert restored['changed'] and restored['key']['kid'] == kid(keys[0]) and restored['staged']['kid'] == kid(keys[1])
    assert current(store)[-1]['credential_id'] == 'old' and len(current(store)) == 3
    # restored only while the current key is the one named
    assert store.run({'state': 'restored', 'kid': kid(keys[1])})['changed'] is False
    assert store.staged_key(kid(keys[1])) == keys[1] and store.staged_key(kid(keys[0])) == keys[0]
    assert store.staged_key('nope') is None


def test_promote_without_the_staged_key_fails_as_the_key_file_module_does(store, keys):
    out = store.run({'state': 'promoted', 'kid': kid(keys[0])})
    assert out['failed'] and out['msg'].startswith('Neither the live key nor the staged key of vault:secret/apps/billing')


def test_a_key_with_another_kid_is_not_staged(store, keys):
    out = store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[1])})
    assert out['failed'] and 'another kid' in out['msg'] and not store._client.kv.secrets  # pylint: disable=protected-access


def test_check_mode_writes_nothing(store, keys):
    out = store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])}, check_mode=True)
    assert out['changed'] and store._client.kv.calls.count('create_or_update_secret') == 0  # pylint: disable=protected-access


def test_cleaned_removes_only_the_named_staged_key(store, keys):
    store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert store.run({'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[1])})['changed'] is False
    out = store.run({'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[0])})
    assert out['changed'] and out['removed'] == ['vault:secret/apps/billing.next']
    assert store.run({'state': 'pruned'})['changed'] is False


def test_a_secret_without_a_usable_key_is_reported_not_raised(store):
    store._client.kv.secrets['apps/billing'] = [{'private_key': 'not a key'}]  # pylint: disable=protected-access
    key = store.run({'state': 'read'})['key']
    assert key['exists'] and not key['usable'] and key['kid'] is None and key['found'] == 'not a PEM file'


@pytest.mark.parametrize('error, message', [
    (hvac.exceptions.Forbidden('permission denied'), 'vault:secret/apps/billing.next refused staging the new key: permission '
                                                     'denied (an invalid or expired token, or one without the policy). Give '
                                                     'the token a policy with create, read and update on secret/data/apps/billing'),
    (hvac.exceptions.InvalidRequest('check-and-set parameter did not match the current version'),
     'vault:secret/apps/billing.next changed while staging the new key (another writer; check-and-set refused it)'),
    (hvac.exceptions.RateLimitExceeded('slow down'), 'throttled staging the new key (rate limit)'),
    (hvac.exceptions.VaultDown('sealed'), 'could not answer staging the new key: sealed'),
    (ConnectionError('Connection refused'), 'could not be reached while staging the new key: Connection refused'),
])
def test_store_failures_name_the_secret(store, keys, error, message):
    store._client.kv.refuse['create_or_update_secret'] = error  # pylint: disable=protected-access
    out = store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert out['failed'] and message in out['msg']
    assert keys[0] not in out['msg']


def test_a_concurrent_writer_is_not_overwritten(store, keys):
    store.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    real = store._client.kv.read_secret_version  # pylint: disable=protected-access

    def stale(path, mount_point, version=None, raise_on_deleted_version=None):
        answer = real(path, mount_point, version, raise_on_deleted_version)
        if path == 'apps/billing':  # another writer adds a version after this read
            store._client.kv.secrets['apps/billing'].append({'private_key': keys[1]})  # pylint: disable=protected-access
        return answer
    store._client.kv.secrets['apps/billing'] = [{'private_key': keys[1]}]  # pylint: disable=protected-access
    store._client.kv.read_secret_version = stale  # pylint: disable=protected-access
    out = store.run({'state': 'promoted', 'kid': kid(keys[0])})
    assert out['failed'] and 'check-and-set refused it' in out['msg']
    assert [v['private_key'] for v in current(store)] == [keys[1], keys[1]]


def test_connection_settings_come_from_the_environment(monkeypatch):
    for name in ('VAULT_ADDR', 'BAO_ADDR', 'VAULT_TOKEN', 'BAO_TOKEN', 'VAULT_ROLE_ID', 'VAULT_SECRET_ID'):
        monkeypatch.delenv(name, raising=False)
    out = _stores.VaultKV2Store('a', 'a.next').run({'state': 'read'})
    assert out['failed'] and 'has no address: set VAULT_ADDR' in out['msg']
    monkeypatch.setenv('VAULT_ADDR', 'http://127.0.0.1:1')
    out = _stores.VaultKV2Store('a', 'a.next').run({'state': 'read'})
    assert out['failed'] and 'has no credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID' in out['msg']


def test_open_store():
    assert _stores.open_store({'destination': 'file'}, '/k', '/k.next') is None
    store = _stores.open_store({'destination': 'vault', 'vault_mount': 'kv'}, 'apps/x', 'apps/x.next')
    assert store.describe() == 'vault:kv/apps/x'
    with pytest.raises(_stores.StoreError, match="credential_rotation_destination is 's3'"):
        _stores.open_store({'destination': 's3'}, 'a', 'b')


# -- aws_secretsmanager ----------------------------------------------------------------------------------

botocore_exceptions = pytest.importorskip('botocore.exceptions')


def client_error(code, message='refused'):
    return botocore_exceptions.ClientError({'Error': {'Code': code, 'Message': message}}, 'Operation')


class FakeSecretsManager:
    """The Secrets Manager calls the store makes, over one secret's versions and labels, as AWS answers them."""

    def __init__(self):
        self.exists = False
        self.versions = {}  # id -> SecretString
        self.labels = {}  # label -> id
        self.refuse = {}
        self.calls = []

    def _check(self, name):
        self.calls.append(name)
        if name in self.refuse:
            raise self.refuse[name]

    def describe_secret(self, SecretId):  # noqa: N803 (boto3's argument names)
        self._check('describe_secret')
        if not self.exists:
            raise client_error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
        stages = dict((v, []) for v in self.versions)
        for label, version in self.labels.items():
            stages[version].append(label)
        return {'VersionIdsToStages': stages}

    def get_secret_value(self, SecretId, VersionId):  # noqa: N803
        self._check('get_secret_value')
        return {'SecretString': self.versions[VersionId]}

    def create_secret(self, Name, Description=None, SecretString=None):  # noqa: N803
        self._check('create_secret')
        self.exists = True

    def put_secret_value(self, SecretId, SecretString, ClientRequestToken, VersionStages):  # noqa: N803
        self._check('put_secret_value')
        if ClientRequestToken in self.versions:
            if self.versions[ClientRequestToken] != SecretString:  # as AWS answers a token reused with other content
                raise client_error('ResourceExistsException', 'A resource with the ID you requested already exists.')
            return
        first = not self.versions
        self.versions[ClientRequestToken] = SecretString
        for label in VersionStages + (['AWSCURRENT'] if first else []):  # AWS labels a first version AWSCURRENT
            self.labels[label] = ClientRequestToken

    def update_secret_version_stage(self, SecretId, VersionStage, MoveToVersionId=None, RemoveFromVersionId=None):  # noqa: N803
        self._check('update_secret_version_stage')
        if RemoveFromVersionId and self.labels.get(VersionStage) != RemoveFromVersionId:
            raise client_error('InvalidParameterException', 'The staging label is not attached to that version.')
        if VersionStage == 'AWSCURRENT' and MoveToVersionId and self.labels.get('AWSCURRENT'):
            self.labels['AWSPREVIOUS'] = self.labels['AWSCURRENT']
        if MoveToVersionId:
            self.labels[VersionStage] = MoveToVersionId
        else:
            self.labels.pop(VersionStage, None)


@pytest.fixture
def aws():
    return _stores.SecretsManagerStore('apps/billing', region='eu-west-1', client=FakeSecretsManager())


def test_aws_first_rotation_creates_the_secret(aws, keys):
    staged = aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert staged['changed'] and aws._client.calls[-3:] == ['create_secret', 'put_secret_value', 'describe_secret']  # pylint: disable=protected-access
    again = aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert again['changed'] is False and again['key']['kid'] == kid(keys[0])  # a first version is AWSCURRENT at once
    assert aws.run({'state': 'promoted', 'kid': kid(keys[0])})['changed'] is False


def test_aws_pending_then_current_then_previous(aws, keys):
    for key in keys:
        aws.run({'state': 'staged', 'private_key': key, 'kid': kid(key)})
        aws.run({'state': 'promoted', 'kid': kid(key)})
    fake = aws._client  # pylint: disable=protected-access
    value = json.loads(fake.versions[fake.labels['AWSCURRENT']])
    assert value['private_key'] == keys[1] and value['kid'] == kid(keys[1])
    assert json.loads(fake.versions[fake.labels['AWSPREVIOUS']])['private_key'] == keys[0]
    assert 'AWSPENDING' not in fake.labels
    read = aws.run({'state': 'read'})
    assert read['key']['kid'] == kid(keys[1]) and read['staged']['exists'] is False and read['key']['store'] == 'aws_secretsmanager'
    restored = aws.run({'state': 'restored', 'kid': kid(keys[1])})
    assert restored['changed'] and restored['key']['kid'] == kid(keys[0]) and restored['staged']['kid'] == kid(keys[1])
    assert aws.staged_key(kid(keys[1])) == keys[1]
    cleaned = aws.run({'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[1])})
    assert cleaned['changed'] and 'AWSPENDING' not in fake.labels


def test_aws_promotion_refused_when_another_writer_moved_awscurrent(aws, keys):
    aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    aws.run({'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[1])})
    fake = aws._client  # pylint: disable=protected-access
    real = fake.describe_secret

    def stale(SecretId):  # noqa: N803
        answer = real(SecretId)
        fake.labels['AWSCURRENT'] = fake.labels['AWSPENDING']  # another writer moves the label after this read
        return answer
    fake.describe_secret = stale
    out = aws.run({'state': 'promoted', 'kid': kid(keys[1])})
    assert out['failed'] and 'refused making the new key current: The staging label is not attached' in out['msg']


@pytest.mark.parametrize('error, message', [
    (client_error('AccessDeniedException', 'not authorized'),
     'refused staging the new key: permission denied (not authorized). Allow secretsmanager:DescribeSecret'),
    (client_error('ThrottlingException', 'Rate exceeded'), 'throttled staging the new key (Rate exceeded)'),
    (client_error('InternalServiceError', 'boom'), 'refused staging the new key: boom (InternalServiceError).'),
    (botocore_exceptions.NoCredentialsError(), 'no AWS credentials. Give them as amazon.aws users do'),
    (botocore_exceptions.EndpointConnectionError(endpoint_url='https://x'), 'could not be reached while staging the new key'),
])
def test_aws_failures_name_the_secret(aws, keys, error, message):
    aws._client.refuse['put_secret_value'] = error  # pylint: disable=protected-access
    out = aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    assert out['failed'] and out['msg'].startswith('aws_secretsmanager:apps/billing') and message in out['msg']
    assert keys[0] not in out['msg']


def test_aws_region_comes_from_aws_region_first(monkeypatch):
    monkeypatch.setenv('AWS_REGION', 'eu-central-1')
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1')
    assert _stores.SecretsManagerStore('s')._region == 'eu-central-1'  # pylint: disable=protected-access
    monkeypatch.delenv('AWS_REGION')
    assert _stores.SecretsManagerStore('s')._region == 'us-east-1'  # pylint: disable=protected-access
    assert _stores.open_store({'destination': 'aws_secretsmanager', 'aws_region': 'ap-south-1'}, 's', 'x')._region == 'ap-south-1'


def test_missing_libraries_say_how_to_install(monkeypatch):
    monkeypatch.setitem(__import__('sys').modules, 'hvac', None)
    monkeypatch.setitem(__import__('sys').modules, 'boto3', None)
    out = _stores.VaultKV2Store('a', 'a.next').run({'state': 'read'})
    assert out == {'failed': True, 'msg': 'The vault destination needs the Python library hvac on the controller: pip install '
                                          'hvac (the execution environment lists it).'}
    out = _stores.SecretsManagerStore('a').run({'state': 'read'})
    assert out['failed'] and 'needs the Python library boto3 on the controller: pip install boto3' in out['msg']


class Adapter:
    def __init__(self, answer=None, error=None):
        self.answer, self.error = answer, error

    def get(self, url):
        if self.error:
            raise self.error
        return self.answer


@pytest.mark.parametrize('adapter, message', [
    (Adapter({'data': {'type': 'kv', 'options': {'version': '2'}, 'path': 'secret/'}}), None),
    (Adapter({'data': {'type': 'kv', 'options': {'version': '1'}, 'path': 'kv1/'}}),
     'the mount kv1 is KV version 1, not a KV version 2 secret engine'),
    (Adapter({'data': {'type': 'transit', 'options': None, 'path': 'transit/'}}), 'the mount transit is a transit engine'),
    (Adapter(error=hvac.exceptions.Forbidden('preflight')), 'the token may use no mount secret at apps/billing'),
])
def test_the_mount_must_be_kv_version_2(adapter, message):
    store = _stores.VaultKV2Store('apps/billing', 'apps/billing.next')
    client = type('Client', (), {'adapter': adapter})()
    if message is None:
        store.check_mount(client)
    else:
        with pytest.raises(_stores.StoreError, match=message):
            store.check_mount(client)


def test_check_mode_promotion_of_a_key_check_mode_did_not_stage(store, aws, keys):
    for target in (store, aws):
        out = target.run({'state': 'promoted', 'kid': kid(keys[0])}, check_mode=True)
        assert out['changed'] and out['diff']['after'] == {'kid': kid(keys[0])} and 'failed' not in out


def test_other_fields_of_the_secret_are_kept_and_never_shown(store, aws, keys):
    store._client.kv.secrets['apps/billing'] = [{'private_key': keys[0], 'db_password': 'hunter2'}]  # pylint: disable=protected-access
    assert 'hunter2' not in repr(store.run({'state': 'read'}))
    store.run({'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[1])})
    out = store.run({'state': 'promoted', 'kid': kid(keys[1]), 'metadata': {'credential_id': 'c2'}})
    assert 'hunter2' not in repr(out) and current(store)[-1]['db_password'] == 'hunter2'
    aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0]), 'client_id': 'app'})
    fake = aws._client  # pylint: disable=protected-access
    first = fake.labels['AWSCURRENT']
    fake.versions[first] = json.dumps(dict(json.loads(fake.versions[first]), api_token='s3cr3t'))
    aws.run({'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[1]), 'client_id': 'app'})
    out = aws.run({'state': 'promoted', 'kid': kid(keys[1])})
    value = json.loads(fake.versions[fake.labels['AWSCURRENT']])
    assert value['api_token'] == 's3cr3t' and value['client_id'] == 'app' and 's3cr3t' not in repr(out)


def test_a_new_secrets_first_version_loses_its_pending_label(aws, keys):
    aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    fake = aws._client  # pylint: disable=protected-access
    assert fake.labels['AWSPENDING'] == fake.labels['AWSCURRENT']
    aws.run({'state': 'promoted', 'kid': kid(keys[0])})
    assert 'AWSPENDING' not in fake.labels


def test_aws_refusals_in_xml_and_by_status_are_permission_denied(aws, keys):
    xml = ('<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security '
           'token included in the request is invalid.</Message></Error></Errors></ErrorResponse>')
    error = botocore_exceptions.ClientError({'Error': {'Code': '', 'Message': xml}, 'ResponseMetadata': {'HTTPStatusCode': 403}},
                                            'DescribeSecret')
    aws._client.refuse['describe_secret'] = error  # pylint: disable=protected-access
    out = aws.run({'state': 'read'})
    assert out['msg'].startswith('aws_secretsmanager:apps/billing refused reading the secret: permission denied (The security '
                                 'token included in the request is invalid.)')


def test_aws_a_staged_key_that_lost_its_label_is_labelled_again(aws, keys):
    aws.run({'state': 'staged', 'private_key': keys[0], 'kid': kid(keys[0])})
    aws.run({'state': 'promoted', 'kid': kid(keys[0])})
    aws.run({'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[1])})
    fake = aws._client  # pylint: disable=protected-access
    staged_version = fake.labels.pop('AWSPENDING')  # someone removed the label; the version stays
    out = aws.run({'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[1])})
    assert 'failed' not in out and fake.labels['AWSPENDING'] == staged_version
    assert aws.run({'state': 'promoted', 'kid': kid(keys[1])})['key']['kid'] == kid(keys[1])
