# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.keyops.auth0.plugins.module_utils import _keys
from ansible_collections.keyops.auth0.plugins.modules import credential_key_file
from ansible_collections.keyops.auth0.tests.unit.utils import patch_module_args


@pytest.fixture
def keys():
    """Three 2048-bit keys (from the pool of tests/unit/conftest.py: key generation is the slow part of these tests)."""
    return [_keys.generate_private_key_pem(2048) for dummy in range(3)]


@pytest.fixture(autouse=True)
def any_temporary_file_is_a_leftover(monkeypatch):
    """The tests below write their leftovers just before the module runs; a real one is older than LEFTOVER_AGE."""
    monkeypatch.setattr(credential_key_file, 'LEFTOVER_AGE', -1)


@pytest.fixture
def key_path(tmp_path):
    return str(tmp_path / 'app.key')


def run(capsys, args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            credential_key_file.main()
    return json.loads(capsys.readouterr().out)


def write(path, text, mode=0o600):
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


def kid(pem):
    return _keys.kid_for_public_key(pem)


def listing(path):
    return sorted(os.listdir(os.path.dirname(path)))


def assert_no_secret(result, *pems):
    text = json.dumps(result)
    for pem in pems:
        for line in pem.strip().splitlines()[1:-1]:
            assert line not in text


def test_info_of_missing_files(capsys, key_path):
    result = run(capsys, {'path': key_path})
    assert result['changed'] is False
    assert result['key'] == {'path': key_path, 'exists': False, 'kid': None, 'usable': False, 'symlink': None}
    assert result['staged']['exists'] is False
    assert result['metadata'] is None
    assert result['backups'] == [] and result['previous_kid'] is None


def test_info_reads_kid_checksum_mode_and_public_key(capsys, keys, key_path):
    write(key_path, keys[0], 0o640)
    result = run(capsys, {'path': key_path})
    info = result['key']
    assert info['exists'] is True
    assert info['kid'] == kid(keys[0])
    assert info['mode'] == '0640'
    assert info['bits'] == 2048
    assert info['public_key'] == _keys.public_key_pem(keys[0])
    assert len(info['checksum']) == 64
    assert 'uid' not in info
    assert_no_secret(result, keys[0])


def test_info_reports_a_file_that_is_not_a_private_key(capsys, keys, key_path):
    write(key_path, _keys.public_key_pem(keys[0]))
    result = run(capsys, {'path': key_path})
    assert result['key']['kid'] is None
    assert 'private key' in result['key']['error']


def test_stage_writes_atomically_with_mode_and_is_idempotent(capsys, keys, key_path):
    write(key_path, keys[0])
    args = {'path': key_path, 'state': 'staged', 'private_key': keys[1], 'mode': '0640', 'kid': kid(keys[1])}
    result = run(capsys, args, diff=True)
    assert result['changed'] is True
    assert result['staged']['kid'] == kid(keys[1])
    assert result['staged']['mode'] == '0640'
    assert result['key']['kid'] == kid(keys[0])
    assert result['diff']['after']['staged']['kid'] == kid(keys[1])
    assert_no_secret(result, keys[0], keys[1])
    assert listing(key_path) == ['app.key', 'app.key.next']
    again = run(capsys, args)
    assert again['changed'] is False


def test_stage_fixes_mode_of_an_existing_staged_key(capsys, keys, key_path):
    write(key_path + '.next', keys[1].strip() + '\n', 0o644)
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1]})
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(key_path + '.next').st_mode) == 0o600


def test_stage_replaces_another_staged_key(capsys, keys, key_path):
    write(key_path + '.next', keys[2])
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1]})
    assert result['changed'] is True
    assert result['staged']['kid'] == kid(keys[1])


def test_stage_is_a_no_op_when_the_key_is_already_live(capsys, keys, key_path):
    write(key_path, keys[1])
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1]})
    assert result['changed'] is False
    assert not os.path.exists(key_path + '.next')


def test_stage_check_mode_writes_nothing(capsys, keys, key_path):
    write(key_path, keys[0])
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1]}, check_mode=True, diff=True)
    assert result['changed'] is True
    assert listing(key_path) == ['app.key']
    assert_no_secret(result, keys[1])


def test_stage_rejects_a_kid_mismatch_and_bad_keys_without_echoing_them(capsys, keys, key_path):
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1], 'kid': kid(keys[0])})
    assert result['failed'] is True and 'not the kid' in result['msg']
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': 'not a key'})
    assert result['failed'] is True and 'not usable' in result['msg']
    assert not os.path.exists(key_path + '.next')


def test_stage_sets_owner_and_group(capsys, keys, key_path):
    uid, gid = os.getuid(), os.getgid()
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1],
                          'owner': str(uid), 'group': str(gid)})
    st = os.stat(key_path + '.next')
    assert (st.st_uid, st.st_gid) == (uid, gid)
    assert result['staged']['owner'] == credential_key_file.user_name(uid)


def test_unknown_owner_fails(capsys, keys, key_path):
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1], 'owner': 'no-such-user-xyz'})
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_promote_keeps_a_backup_and_writes_metadata(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    metadata = {'client_id': 'abc', 'kid': kid(keys[1]), 'alg': 'RS256', 'credential_id': 'cred_1'}
    args = {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'metadata': metadata}
    result = run(capsys, args, diff=True)
    assert result['changed'] is True
    assert result['key']['kid'] == kid(keys[1])
    assert result['staged']['exists'] is False
    assert result['metadata'] == metadata
    assert result['previous_kid'] == kid(keys[0])
    assert len(result['backups']) == 1
    assert stat.S_IMODE(os.stat(key_path + '.json').st_mode) == 0o644
    assert_no_secret(result, keys[0], keys[1])
    names = listing(key_path)
    assert len(names) == 3 and names[0] == 'app.key' and names[2] == 'app.key.json'
    assert names[1].endswith('.bak')
    again = run(capsys, args)
    assert again['changed'] is False


def test_promote_without_a_live_key_and_without_backup(capsys, keys, key_path):
    write(key_path + '.next', keys[1])
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'backup': False})
    assert result['changed'] is True
    assert listing(key_path) == ['app.key']


def test_promote_fails_when_no_key_has_the_kid(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[2])
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1])})
    assert result['failed'] is True
    assert 'nothing was changed' in result['msg']


def test_promote_in_check_mode_after_a_check_mode_stage(capsys, keys, key_path):
    write(key_path, keys[0])
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'metadata': {'kid': 'x'}},
                 check_mode=True, diff=True)
    assert result['changed'] is True
    assert listing(key_path) == ['app.key']


def test_promote_in_check_mode_changes_nothing(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'metadata': {'kid': 'x'}},
                 check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['key']['kid'] == kid(keys[0])
    assert listing(key_path) == ['app.key', 'app.key.next']


def test_promote_fixes_metadata_mode(capsys, keys, key_path):
    write(key_path, keys[1])
    write(key_path + '.json', json.dumps({'kid': 'x'}, sort_keys=True, indent=2) + '\n', 0o600)
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'metadata': {'kid': 'x'}})
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(key_path + '.json').st_mode) == 0o644


def test_leftover_temporary_files_are_removed(capsys, keys, key_path):
    write(key_path, keys[0])
    leftover = os.path.join(os.path.dirname(key_path), '.app.key.next.abc123.tmp')
    write(leftover, 'partial')
    unrelated = os.path.join(os.path.dirname(key_path), '.other.tmp')
    write(unrelated, 'not ours')
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[0]})
    assert result['changed'] is True
    assert result['removed'] == [leftover]
    assert os.path.exists(unrelated)


def test_restore_rolls_back_and_keeps_the_new_key_staged(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'metadata': {'kid': kid(keys[1])}})
    result = run(capsys, {'path': key_path, 'state': 'restored', 'kid': kid(keys[1]), 'metadata': {'kid': kid(keys[0])}})
    assert result['changed'] is True
    assert result['key']['kid'] == kid(keys[0])
    assert result['metadata'] == {'kid': kid(keys[0])}
    os.unlink(key_path + '.json')
    assert result['staged']['kid'] == kid(keys[1])
    assert result['backups'] == []
    assert listing(key_path) == ['app.key', 'app.key.next']
    again = run(capsys, {'path': key_path, 'state': 'restored', 'kid': kid(keys[1])})
    assert again['changed'] is False


def test_restore_without_backup_fails(capsys, keys, key_path):
    write(key_path, keys[1])
    result = run(capsys, {'path': key_path, 'state': 'restored', 'kid': kid(keys[1])})
    assert result['failed'] is True


def test_prune_keeps_the_newest_backups(capsys, keys, key_path):
    write(key_path, keys[0])
    stamps = ['20260101T000000000000Z', '20260201T000000000000Z', '20260301T000000000000Z']
    for index, stamp in enumerate(stamps):
        write('%s.%s.bak' % (key_path, stamp), keys[index])
    result = run(capsys, {'path': key_path, 'state': 'pruned', 'keep_backups': 1}, diff=True)
    assert result['changed'] is True
    assert [os.path.basename(p) for p in result['removed']] == ['app.key.%s.bak' % s for s in stamps[1::-1]]
    assert result['previous_kid'] == kid(keys[2])
    again = run(capsys, {'path': key_path, 'state': 'pruned', 'keep_backups': 1})
    assert again['changed'] is False
    result = run(capsys, {'path': key_path, 'state': 'pruned', 'keep_backups': -1})
    assert result['failed'] is True


def test_prune_check_mode_deletes_nothing(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.20260101T000000000000Z.bak', keys[1])
    result = run(capsys, {'path': key_path, 'state': 'pruned', 'keep_backups': 0}, check_mode=True)
    assert result['changed'] is True
    assert len(listing(key_path)) == 2


@pytest.mark.parametrize('args, message', [
    ({'staged_path': '/elsewhere/app.key.next'}, 'same directory'),
    ({'mode': 'u=rw'}, 'octal'),
    ({'mode': '77777'}, 'out of range'),
])
def test_invalid_arguments(capsys, key_path, args, message):
    result = run(capsys, dict(args, path=key_path, state='read'))
    assert result['failed'] is True
    assert message in result['msg'] or 'directory' in result['msg']


def test_missing_directory_fails_for_writes(capsys, keys, tmp_path):
    path = str(tmp_path / 'missing' / 'app.key')
    result = run(capsys, {'path': path, 'state': 'staged', 'private_key': keys[0]})
    assert result['failed'] is True and 'does not exist' in result['msg']


def test_integer_mode_is_accepted(capsys, keys, key_path):
    run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[0], 'mode': 0o640})
    assert stat.S_IMODE(os.stat(key_path + '.next').st_mode) == 0o640


def test_missing_cryptography_is_reported(capsys, monkeypatch, key_path):
    monkeypatch.setattr(credential_key_file, 'HAS_CRYPTOGRAPHY', False)
    result = run(capsys, {'path': key_path})
    assert result['failed'] is True
    assert 'cryptography' in result['msg']


def test_owner_of_an_existing_file_is_fixed(capsys, keys, key_path):
    if os.getuid() != 0:
        pytest.skip('changing owners needs root')
    write(key_path + '.next', keys[1].strip() + '\n')
    result = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1], 'owner': '65534', 'group': '65534'})
    assert result['changed'] is True
    assert os.stat(key_path + '.next').st_uid == 65534


def test_a_failed_write_leaves_no_temporary_file(capsys, keys, key_path, monkeypatch):
    def broken_rename(src, dst):
        raise OSError('disk gone')
    monkeypatch.setattr(credential_key_file.os, 'rename', broken_rename)
    with pytest.raises(OSError):
        with patch_module_args({'path': key_path, 'state': 'staged', 'private_key': keys[1]}):
            credential_key_file.main()
    assert listing(key_path) == []


def test_backup_is_copied_where_hard_links_are_not_possible(capsys, keys, key_path, monkeypatch):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])

    def no_link(src, dst):
        raise OSError('no hard links here')
    monkeypatch.setattr(credential_key_file.os, 'link', no_link)
    result = run(capsys, {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1])})
    assert result['previous_kid'] == kid(keys[0])
    assert stat.S_IMODE(os.stat(result['backups'][0]['path']).st_mode) == 0o600


def test_names_fall_back_to_numeric_ids():
    assert credential_key_file.user_name(987654) == '987654'
    assert credential_key_file.group_name(987654) == '987654'


@pytest.mark.parametrize('keep, kept', [(2, 2), (1, 1), (0, 1)])
def test_promote_prunes_but_keeps_the_backup_it_made(capsys, keys, key_path, keep, kept):
    """keep_backups with state=promoted: one module run switches and prunes; the backup needed to roll back stays."""
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    for stamp in ('20260101T000000000000Z', '20260201T000000000000Z'):
        write('%s.%s.bak' % (key_path, stamp), keys[2])
    args = {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'keep_backups': keep}
    predicted = run(capsys, args, check_mode=True)
    assert predicted['changed'] is True and len(listing(key_path)) == 4
    result = run(capsys, args)
    assert result['changed'] is True and result['key']['kid'] == kid(keys[1])
    assert len(result['backups']) == kept and result['previous_kid'] == kid(keys[0])
    assert [os.path.basename(p) for p in result['removed']] == [os.path.basename(p) for p in predicted['removed']]
    assert len(result['removed']) == 3 - kept
    assert sorted(os.path.basename(b['path']) for b in result['backups']) == [
        n for n in listing(key_path) if n.endswith('.bak')]
    restored = run(capsys, {'path': key_path, 'state': 'restored', 'kid': kid(keys[1])})
    assert restored['changed'] is True and restored['key']['kid'] == kid(keys[0])
    assert run(capsys, dict(args, keep_backups=-1))['failed'] is True


# -- what the rotation role reads before any change: usability, symlinks, directory, leftovers ----------------------

def pkcs8(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def self_signed(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'app')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def unusable_files(keys):
    """(content, what the module must say the file holds) for files that are not usable keys."""
    rsa_key = serialization.load_pem_private_key(keys[2].encode(), password=None)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return [
        (pkcs8(ec.generate_private_key(ec.SECP256R1())), 'an EC private key'),
        (pkcs8(ed25519.Ed25519PrivateKey.generate()), 'an Ed25519 private key'),
        (_keys.public_key_pem(keys[2]), 'a public key'),
        (self_signed(rsa_key), 'a certificate'),
        (pkcs8(rsa_key, password=b'secret'), 'an encrypted private key'),
        (pkcs8(small), 'an RSA private key of 1024 bits'),
        ('client_id: abc123\nprivate_key_path: /etc/myapp/auth0.key\n', 'not a PEM file'),
        ('', 'not a PEM file'),
        ('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', 'a PEM block of another kind'),
    ]


def snapshot(directory):
    """Every file of a directory with its bytes (symbolic links as their target)."""
    files = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.islink(path):
            files[name] = ('link', os.readlink(path))
        elif os.path.isdir(path):
            files[name] = ('directory', snapshot(path))
        else:
            with open(path, 'rb') as handle:
                files[name] = handle.read()
    return files


def test_read_reports_usable_keys(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    result = run(capsys, {'path': key_path})
    assert result['key']['usable'] is True and result['staged']['usable'] is True
    assert 'found' not in result['key'] and 'found' not in result['staged']
    assert result['key']['symlink'] is None and result['staged']['symlink'] is None
    assert result['metadata_symlink'] is None


def test_read_says_what_an_unusable_key_file_holds(capsys, keys, key_path):
    for content, found in unusable_files(keys):
        write(key_path, content)
        write(key_path + '.next', content)
        result = run(capsys, {'path': key_path})
        for info in (result['key'], result['staged']):
            assert info['exists'] is True and info['usable'] is False and info['kid'] is None
            assert info['found'] == found, (found, info['found'])
        assert result['changed'] is False
        assert_no_secret(result, content)


def test_read_reports_symbolic_links(capsys, keys, tmp_path):
    real = tmp_path / 'real'
    real.mkdir()
    write(str(real / 'app.key'), keys[0])
    write(str(real / 'app.key.json'), '{"kid": "x"}\n')
    path = str(tmp_path / 'app.key')
    os.symlink(str(real / 'app.key'), path)
    os.symlink('real/app.key.json', path + '.json')
    os.symlink(str(real / 'gone'), path + '.next')
    result = run(capsys, {'path': path})
    assert result['key']['symlink'] == str(real / 'app.key')
    assert result['key']['kid'] == kid(keys[0]) and result['key']['usable'] is True
    assert result['staged']['symlink'] == str(real / 'gone') and result['staged']['exists'] is False
    assert result['metadata_symlink'] == 'real/app.key.json'
    assert result['metadata'] == {'kid': 'x'}


def test_read_reports_the_directory(capsys, keys, key_path, tmp_path, monkeypatch):
    result = run(capsys, {'path': key_path})
    assert result['directory'] == {'path': str(tmp_path), 'exists': True, 'writable': True}
    missing = str(tmp_path / 'missing' / 'app.key')
    result = run(capsys, {'path': missing})
    assert result['directory'] == {'path': str(tmp_path / 'missing'), 'exists': False, 'writable': False}
    asked = []

    def no_access(path, mode):
        if path == str(tmp_path):
            asked.append(mode)
            return False
        return access(path, mode)
    access = os.access
    monkeypatch.setattr(credential_key_file.os, 'access', no_access)
    result = run(capsys, {'path': key_path})
    assert result['directory']['writable'] is False
    assert asked == [os.W_OK | os.X_OK]


def test_read_lists_leftovers_and_removes_nothing(capsys, keys, key_path):
    write(key_path, keys[0])
    directory = os.path.dirname(key_path)
    leftovers = [os.path.join(directory, n) for n in ('.app.key.json.q1.tmp', '.app.key.next.abc123.tmp', '.app.key.z9.tmp')]
    for leftover in reversed(leftovers):
        write(leftover, 'partial')
    write(os.path.join(directory, '.other.tmp'), 'not ours')
    before = snapshot(directory)
    result = run(capsys, {'path': key_path})
    assert result['leftovers'] == leftovers
    assert result['changed'] is False and result['removed'] == []
    assert snapshot(directory) == before
    staged = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1]})
    assert staged['removed'] == leftovers and staged['leftovers'] == []


# -- defence of the writing states ---------------------------------------------------------------------------------

WRITES = [
    {'state': 'staged', 'private_key': 1},
    {'state': 'promoted', 'kid': 1},
    {'state': 'restored', 'kid': 0},
    {'state': 'cleaned', 'remove_staged': True},
    {'state': 'pruned', 'keep_backups': 0},
]


def writing_args(keys, key_path, write_args, **extra):
    args = dict(write_args, path=key_path, **extra)
    if 'private_key' in args:
        args['private_key'] = keys[args['private_key']]
    if 'kid' in args:
        args['kid'] = kid(keys[args['kid']])
    return args


def populate(keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    write(key_path + '.json', '{"kid": "x"}\n', 0o644)
    write(key_path + '.20260101T000000000000Z.bak', keys[2])
    write(os.path.join(os.path.dirname(key_path), '.app.key.next.abc123.tmp'), 'partial')


@pytest.mark.parametrize('write_args', WRITES, ids=lambda a: a['state'])
@pytest.mark.parametrize('paths, message', [
    ({'staged_path': '{path}'}, 'staged_path must differ from path: an empty staged suffix would write the new key '
                                'over the live one'),
    ({'staged_path': '{dir}/./app.key'}, 'staged_path must differ from path'),
    ({'metadata_path': '{path}'}, 'metadata_path must differ from path: the metadata file would be written over the live key'),
    ({'metadata_path': '{path}.next'}, 'metadata_path must differ from staged_path: the metadata file would be written '
                                       'over the staged key'),
    ({'staged_path': '{path}.new', 'metadata_path': '{path}.new'}, 'metadata_path must differ from staged_path'),
], ids=['staged-is-live', 'staged-is-live-by-another-name', 'metadata-is-live', 'metadata-is-staged',
        'both-given-equal'])
def test_writing_states_refuse_equal_paths_before_any_change(capsys, keys, key_path, write_args, paths, message):
    populate(keys, key_path)
    directory = os.path.dirname(key_path)
    before = snapshot(directory)
    given = {k: v.format(path=key_path, dir=directory) for k, v in paths.items()}
    result = run(capsys, writing_args(keys, key_path, write_args, **given))
    assert result['failed'] is True
    assert message in result['msg'] and 'nothing was changed' in result['msg']
    assert snapshot(directory) == before


@pytest.mark.parametrize('state_args', [
    {'state': 'staged', 'private_key': 1},
    {'state': 'promoted', 'kid': 1},
    {'state': 'cleaned', 'remove_staged': True},
], ids=lambda a: a['state'])
def test_writing_states_refuse_a_symbolic_link_as_live_key(capsys, keys, tmp_path, state_args):
    real = tmp_path / 'real'
    real.mkdir()
    write(str(real / 'app.key'), keys[0])
    key_path = str(tmp_path / 'app.key')
    os.symlink(str(real / 'app.key'), key_path)
    write(key_path + '.next', keys[1])
    before = snapshot(str(tmp_path)), snapshot(str(real))
    result = run(capsys, writing_args(keys, key_path, state_args))
    assert result['failed'] is True
    assert result['msg'] == ('path %s is a symbolic link to %s; give the path of the file itself (the link target) so '
                             'that the key is replaced where the application reads it. Nothing was changed.'
                             % (key_path, real / 'app.key'))
    assert (snapshot(str(tmp_path)), snapshot(str(real))) == before


@pytest.mark.parametrize('link, option', [('.next', 'staged_path'), ('.json', 'metadata_path')])
def test_writing_states_refuse_symbolic_links_as_staged_or_metadata_file(capsys, keys, key_path, link, option):
    write(key_path, keys[0])
    write(key_path + '.elsewhere', keys[1])
    os.symlink(key_path + '.elsewhere', key_path + link)
    before = snapshot(os.path.dirname(key_path))
    for state_args in ({'state': 'staged', 'private_key': 1}, {'state': 'promoted', 'kid': 1}):
        result = run(capsys, writing_args(keys, key_path, state_args))
        assert result['failed'] is True
        assert result['msg'].startswith('%s %s is a symbolic link to %s.elsewhere; give the path of the file itself'
                                        % (option, key_path + link, key_path))
        assert snapshot(os.path.dirname(key_path)) == before


@pytest.mark.parametrize('state_args', [
    {'state': 'staged', 'private_key': 1},
    {'state': 'promoted', 'kid': 1},
], ids=lambda a: a['state'])
def test_staged_and_promoted_refuse_an_unusable_live_key(capsys, keys, key_path, state_args):
    for content, found in unusable_files(keys):
        write(key_path, content)
        write(key_path + '.next', keys[1])
        write(os.path.join(os.path.dirname(key_path), '.app.key.x1.tmp'), 'partial')
        before = snapshot(os.path.dirname(key_path))
        result = run(capsys, writing_args(keys, key_path, state_args))
        assert result['failed'] is True
        assert result['msg'] == (
            'The live key file %s holds %s, not an unencrypted RSA private key of 2048 to 4096 bits: Auth0 accepts RSA '
            'keys for RS256, RS384 and PS256. Nothing was changed. To replace the file with the new key, set '
            'replace_unusable=true (credential_rotation_replace_unusable_key: true in the role); the old file is kept '
            'as a backup.' % (key_path, found))
        assert snapshot(os.path.dirname(key_path)) == before
        assert_no_secret(result, content, keys[1])


@pytest.mark.parametrize('backup', [True, False])
def test_replace_unusable_stages_promotes_and_keeps_the_old_file_as_a_backup(capsys, keys, key_path, backup):
    old = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    write(key_path, old, 0o640)
    staged = run(capsys, {'path': key_path, 'state': 'staged', 'private_key': keys[1], 'replace_unusable': True})
    assert staged['changed'] is True and staged['staged']['kid'] == kid(keys[1])
    assert staged['key']['found'] == 'an EC private key'
    args = {'path': key_path, 'state': 'promoted', 'kid': kid(keys[1]), 'replace_unusable': True, 'backup': backup,
            'keep_backups': 0}
    predicted = run(capsys, args, check_mode=True, diff=True)
    assert predicted['changed'] is True and predicted['removed'] == []
    result = run(capsys, args)
    assert result['changed'] is True
    assert result['key']['kid'] == kid(keys[1]) and result['key']['usable'] is True
    assert 'previous file, an EC private key, kept as' in result['msg']
    assert len(result['backups']) == 1 and result['backups'][0]['kid'] is None and result['previous_kid'] is None
    with open(result['backups'][0]['path']) as handle:
        assert handle.read() == old
    assert stat.S_IMODE(os.stat(result['backups'][0]['path']).st_mode) == 0o640
    assert_no_secret(result, old, keys[1])
    again = run(capsys, args)
    assert again['changed'] is False


def test_an_unusable_live_key_does_not_block_the_other_writing_states(capsys, keys, key_path):
    write(key_path, 'not a key\n')
    write(key_path + '.next', keys[1])
    result = run(capsys, {'path': key_path, 'state': 'cleaned', 'remove_staged': True})
    assert result['changed'] is True and result['removed'] == [key_path + '.next']
    result = run(capsys, {'path': key_path, 'state': 'pruned', 'keep_backups': 0})
    assert result['changed'] is False


# -- state=cleaned ------------------------------------------------------------------------------------------------

def test_cleaned_removes_leftovers_and_keeps_the_staged_key_unless_asked(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    leftover = os.path.join(os.path.dirname(key_path), '.app.key.next.abc123.tmp')
    write(leftover, 'partial')
    result = run(capsys, {'path': key_path, 'state': 'cleaned'})
    assert result['changed'] is True and result['removed'] == [leftover] and result['leftovers'] == []
    assert listing(key_path) == ['app.key', 'app.key.next']
    again = run(capsys, {'path': key_path, 'state': 'cleaned'})
    assert again['changed'] is False and again['removed'] == []


def test_cleaned_removes_the_staged_key(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    leftover = os.path.join(os.path.dirname(key_path), '.app.key.json.x1.tmp')
    write(leftover, 'partial')
    args = {'path': key_path, 'state': 'cleaned', 'remove_staged': True}
    result = run(capsys, args, diff=True)
    assert result['changed'] is True
    assert result['removed'] == [leftover, key_path + '.next']
    assert result['staged']['exists'] is False and result['key']['kid'] == kid(keys[0])
    assert result['diff']['before']['staged']['kid'] == kid(keys[1])
    assert result['diff']['after']['staged'] == {'exists': False}
    assert kid(keys[1]) in result['msg']
    assert_no_secret(result, keys[0], keys[1])
    assert listing(key_path) == ['app.key']
    again = run(capsys, args)
    assert again['changed'] is False and again['removed'] == []


def test_cleaned_with_kid_keeps_a_key_another_run_staged(capsys, keys, key_path):
    write(key_path + '.next', keys[2])
    args = {'path': key_path, 'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[1])}
    result = run(capsys, args)
    assert result['changed'] is False and result['removed'] == []
    assert result['staged']['kid'] == kid(keys[2])
    assert 'kept the staged key %s' % kid(keys[2]) in result['msg']
    result = run(capsys, dict(args, kid=kid(keys[2])))
    assert result['changed'] is True and result['removed'] == [key_path + '.next']
    assert not os.path.exists(key_path + '.next')


def test_cleaned_with_kid_removes_a_staged_file_that_is_not_a_usable_key(capsys, keys, key_path):
    write(key_path + '.next', '-----BEGIN PRIVATE KEY-----\nAAAA\n')
    result = run(capsys, {'path': key_path, 'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[1])})
    assert result['changed'] is True and result['removed'] == [key_path + '.next']
    assert 'a PEM block of another kind' in result['msg']


def test_cleaned_in_check_mode_removes_nothing(capsys, keys, key_path):
    write(key_path, keys[0])
    write(key_path + '.next', keys[1])
    leftover = os.path.join(os.path.dirname(key_path), '.app.key.next.abc123.tmp')
    write(leftover, 'partial')
    before = snapshot(os.path.dirname(key_path))
    result = run(capsys, {'path': key_path, 'state': 'cleaned', 'remove_staged': True, 'kid': kid(keys[1])},
                 check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['removed'] == [leftover, key_path + '.next']
    assert result['diff']['after']['removed'] == result['removed']
    assert result['leftovers'] == [leftover] and result['staged']['kid'] == kid(keys[1])
    assert snapshot(os.path.dirname(key_path)) == before


def test_cleaned_needs_no_other_option(capsys, key_path):
    result = run(capsys, {'path': key_path, 'state': 'cleaned'})
    assert result['changed'] is False and result['removed'] == []
    assert result['msg'] == 'No temporary file to remove.'


def test_a_fresh_temporary_file_is_another_run_s_write_and_is_kept(capsys, keys, key_path, monkeypatch):
    """Two runs staging on one host: one must not remove the other's temporary file while it writes it."""
    monkeypatch.setattr(credential_key_file, 'LEFTOVER_AGE', 120)
    directory = os.path.dirname(key_path)
    fresh = os.path.join(directory, '.app.key.next.fresh1.tmp')
    old = os.path.join(directory, '.app.key.next.old123.tmp')
    write(fresh, 'being written')
    write(old, 'partial')
    moment = datetime.datetime.now().timestamp() - 600
    os.utime(old, (moment, moment))
    assert run(capsys, {'path': key_path})['leftovers'] == [old]
    result = run(capsys, {'path': key_path, 'state': 'cleaned'})
    assert result['removed'] == [old] and os.path.exists(fresh) and not os.path.exists(old)
