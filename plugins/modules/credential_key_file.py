#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: credential_key_file
short_description: Read, stage, promote and back up the private key file of an Auth0 Private Key JWT credential
version_added: 1.0.0
description:
  - Manages the private key file that an application uses to sign its Private Key JWT client assertions,
    on the host where the application runs. It never talks to Auth0.
  - C(state=read) reads the live key (O(path)), the staged key (O(staged_path)), the metadata file and the
    backups, and returns for each key its C(kid) (RFC 7638 thumbprint, computed from the key itself), its
    checksum, mode and owner, and its public key.
  - C(state=staged) writes a new key beside the live one, atomically (temporary file and rename in the same
    directory), with owner, group and mode set before the key is written.
  - C(state=promoted) renames the staged key onto the live path (an atomic replace, so readers always find
    a complete key), keeps the previous key as a timestamped backup (a hard link, no copy of the secret
    is made), and writes the metadata file (client id, kid, alg, credential id) for applications that
    send a C(kid).
  - C(state=restored) puts the newest backup back in place of the live key and keeps the key it replaces
    staged, so that a later C(state=promoted) can promote it again.
  - C(state=pruned) deletes all but the newest O(keep_backups) backups. C(state=promoted) does the same after
    the promotion when O(keep_backups) is given, always keeping the backup of the key it just replaced.
  - C(state=cleaned) deletes the temporary files that an interrupted run left behind and, with
    O(remove_staged=true), the staged key.
  - Every state but C(state=read) removes temporary files that an interrupted run of this module left behind;
    C(state=read) changes nothing and lists them in RV(leftovers).
  - Every state reports whether each key file is usable (an unencrypted RSA private key of 2048 to 4096 bits)
    and, when it is not, what it holds; which files are symbolic links; and whether the key directory exists
    and is writable, so that a caller can refuse a rotation before any change.
  - The states that write (all but C(state=read)) fail before any change when O(path), O(staged_path) and
    O(metadata_path) are not three distinct paths, or when one of them is a symbolic link (the module replaces
    files by renaming, which would replace the link and leave its target as it was).
  - C(state=staged) and C(state=promoted) also fail before any change when the live key exists but is not a
    usable key, unless O(replace_unusable=true).
  - The private key is never returned, never logged and never shown in a diff.
author:
  - keyops.auth0 contributors (@keyops)
requirements:
  - cryptography >= 3.4 on the managed host (the module computes the kid of the keys it reads)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode, C(state=promoted) with a missing staged key reports the change it would make when
        the staging step before it ran for real.
  diff_mode:
    support: full
    details:
      - The diff shows kids, modes, owners and the metadata file, never key material.
  platform:
    platforms: posix
  idempotent:
    description: When run twice with the same arguments, the second run reports no change.
    support: full
options:
  path:
    description:
      - Path of the live private key file that the application reads.
    type: path
    required: true
  state:
    description:
      - What to do with the key file. See the description.
    type: str
    choices: [read, staged, promoted, restored, pruned, cleaned]
    default: read
  private_key:
    description:
      - The PEM private key to stage. Required with O(state=staged).
      - Pass it from a C(no_log) source with C(ansible_pipelining=true) so that it is never written to a
        temporary file on the controller.
    type: str
  kid:
    description:
      - The kid the key must have.
      - With O(state=staged), the module fails if O(private_key) has another kid; the key's RSA consistency check is
        then left to its first use (the C(keyops.auth0.credential_rotation) role obtains a token with the key before
        any host switches to it), which saves about 0.1 s of CPU per host at 3072 bits.
      - With O(state=promoted), required; the key with this kid (live or staged) ends up live, and the
        module fails if neither has it.
      - With O(state=restored), required; the live key is only rolled back while it has this kid.
      - With O(state=cleaned) and O(remove_staged=true), the staged key is only removed when it has this kid or is
        not a usable key, so that a key that another run staged in the meantime is kept.
    type: str
  staged_path:
    description:
      - Path of the staged key. Must be in the same directory as O(path), so that promotion is a rename.
      - Defaults to O(path) followed by C(.next).
    type: path
  owner:
    description:
      - Owner of the key files (name or numeric id). Defaults to the owner of the live key, or the user the
        module runs as.
    type: str
  group:
    description:
      - Group of the key files (name or numeric id). Defaults to the group of the live key, or the group of
        the user the module runs as.
    type: str
  mode:
    description:
      - Permissions of the key files, as an octal string such as C('0600'). Symbolic modes are not supported.
    type: raw
    default: '0600'
  backup:
    description:
      - With O(state=promoted), keep the previous live key as O(path)C(.<UTC timestamp>.bak).
    type: bool
    default: true
  keep_backups:
    description:
      - With O(state=pruned), how many of the newest backups to keep. C(0) deletes them all.
      - With O(state=promoted), how many to keep after the promotion, at least one (the key it replaced, which
        C(state=restored) needs). Omitted, no backup is deleted.
    type: int
  metadata:
    description:
      - With O(state=promoted), the content of the metadata file, written as JSON (keys sorted).
      - With O(state=restored), the content the metadata file must have again (that of the restored key).
      - Typically C(client_id), C(kid), C(alg) and C(credential_id). Must not contain secrets.
      - When not given, no metadata file is written.
    type: dict
  metadata_path:
    description:
      - Path of the metadata file. Defaults to O(path)C(.json).
    type: path
  metadata_mode:
    description:
      - Permissions of the metadata file, as an octal string. Owner and group are those of the key.
    type: raw
    default: '0644'
  remove_staged:
    description:
      - With O(state=cleaned), also remove the staged key (O(staged_path)); see O(kid).
      - Ignored in the other states.
    type: bool
    default: false
  replace_unusable:
    description:
      - With O(state=staged) and O(state=promoted), go on when the live key file exists but is not a usable key
        (not an unencrypted RSA private key of 2048 to 4096 bits, see RV(key.found)); without it, the module
        fails before any change.
      - The promotion then replaces that file with the new key and always keeps the old file as a backup, whatever
        O(backup) says.
      - The C(keyops.auth0.credential_rotation) role sets it from C(credential_rotation_replace_unusable_key).
    type: bool
    default: false
notes:
  - Applications should re-read the key file for each assertion (or on reload) and compute the kid from the
    key they read. The metadata file is written right after the key is promoted; an application that reads
    both may briefly see the previous kid beside the new key. During a rotation both keys are enabled in
    Auth0, so an assertion without a kid always works.
seealso:
  - module: keyops.auth0.credential_key
'''

EXAMPLES = r'''
- name: Read the key that the application uses now
  keyops.auth0.credential_key_file:
    path: /etc/myapp/auth0.key
  register: key_state

- name: Stage the next key beside the live one
  keyops.auth0.credential_key_file:
    path: /etc/myapp/auth0.key
    state: staged
    private_key: "{{ next_key.private_key }}"
    kid: "{{ next_key.kid }}"
    owner: myapp
    group: myapp
    mode: '0600'
  no_log: true
  vars:
    ansible_pipelining: true

- name: Promote it, keep a backup and write the metadata file
  keyops.auth0.credential_key_file:
    path: /etc/myapp/auth0.key
    state: promoted
    kid: "{{ next_key.kid }}"
    metadata:
      client_id: "{{ client_id }}"
      kid: "{{ next_key.kid }}"
      alg: RS256
      credential_id: "{{ credential.credential.id }}"

- name: Keep the three newest backups
  keyops.auth0.credential_key_file:
    path: /etc/myapp/auth0.key
    state: pruned
    keep_backups: 3

- name: Remove what an interrupted rotation left, and the key it staged
  keyops.auth0.credential_key_file:
    path: /etc/myapp/auth0.key
    state: cleaned
    remove_staged: true
    kid: "{{ next_key.kid }}"
'''

RETURN = r'''
key:
  description: The live key after the module ran (what C(state=read) read, or what the change produced).
  returned: always
  type: dict
  contains:
    path:
      description: Path of the file.
      type: str
      sample: /etc/myapp/auth0.key
    exists:
      description: Whether the file exists.
      type: bool
      sample: true
    kid:
      description: RFC 7638 thumbprint of the key, or null when the file is missing or is not a usable key.
      type: str
      sample: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs
    checksum:
      description: SHA-256 of the file's bytes (hexadecimal).
      type: str
      sample: 5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef
    bits:
      description: RSA key size.
      type: int
      sample: 3072
    public_key:
      description: The PEM public key of the key (never the private key).
      type: str
      sample: "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
    mode:
      description: Permissions as an octal string.
      type: str
      sample: '0600'
    owner:
      description: Owner name (or numeric id when it has no name).
      type: str
      sample: myapp
    group:
      description: Group name (or numeric id when it has no name).
      type: str
      sample: myapp
    error:
      description: Why no kid could be computed, when the file exists but holds no usable RSA private key.
      type: str
      returned: when the file is not a usable key
      sample: A PEM private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY) is needed.
    usable:
      description:
        - Whether the file holds a key the application can sign with for Auth0, that is an unencrypted RSA private
          key of 2048 to 4096 bits that loads. False when the file is missing.
      type: bool
      sample: true
    found:
      description:
        - What the file holds, when it exists but is not usable. One of C(not a PEM file), C(an encrypted private
          key), C(an EC private key), C(an Ed25519 private key), C(a DSA private key), C(a non-RSA private key),
          C(an RSA private key of N bits) (outside 2048 to 4096), C(a public key), C(a certificate) or
          C(a PEM block of another kind). Never contains key material.
      type: str
      returned: when the file exists but is not usable
      sample: an EC private key
    symlink:
      description: The target of the symbolic link (as the link holds it) when the path itself is a symbolic link, else null.
      type: str
      sample: /srv/keys/auth0.key
staged:
  description: The staged key, with the same fields as RV(key).
  returned: always
  type: dict
metadata:
  description: The content of the metadata file, or null when it is missing or not JSON.
  returned: always
  type: dict
  sample: {alg: RS256, client_id: abc123, credential_id: cred_1234567890123456789012, kid: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs}
metadata_symlink:
  description: The target of the symbolic link when the metadata path itself is a symbolic link, else null.
  returned: always
  type: str
  sample: null
directory:
  description: The directory of the key files.
  returned: always
  type: dict
  contains:
    path:
      description: Path of the directory.
      type: str
      sample: /etc/myapp
    exists:
      description: Whether it exists (as a directory).
      type: bool
      sample: true
    writable:
      description: Whether the user the module runs as may create and rename files in it (write and search permission).
      type: bool
      sample: true
leftovers:
  description:
    - Temporary files (older than two minutes) that an interrupted run of this module left in the directory, sorted, as they are after the
      module ran. C(state=read) only lists them; the other states remove them (see RV(removed)).
  returned: always
  type: list
  elements: str
  sample: [/etc/myapp/.auth0.key.next.x8d2k1.tmp]
backups:
  description: Backups of previous keys, newest first, with their kid.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/myapp/auth0.key.20260101T120000123456Z.bak, kid: hL0wRbwWCb3sE3mhtr5PVxYqVFk8fd0Vq2vC5pqK3aA}]
previous_kid:
  description: The kid of the newest backup, that is of the key the host used before the last promotion.
  returned: always
  type: str
  sample: hL0wRbwWCb3sE3mhtr5PVxYqVFk8fd0Vq2vC5pqK3aA
removed:
  description: Files the module deleted (old backups, leftover temporary files and, with O(state=cleaned), the staged key).
  returned: always
  type: list
  elements: str
  sample: [/etc/myapp/.auth0.key.x8d2k1.tmp]
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: Promoted the staged key NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs onto /etc/myapp/auth0.key.
'''

import datetime
import grp
import hashlib
import json
import os
import pwd
import re
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.keyops.auth0.plugins.module_utils._keys import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    describe_key_file,
    kid_for_public_key,
    load_private_key,
    public_key_pem,
)

TEMP_SUFFIX = '.tmp'
#: A temporary file younger than this may be another run's write in progress (two runs staging on one host):
#: only older ones are leftovers of an interrupted run.
LEFTOVER_AGE = 120
BACKUP_SUFFIX = '.bak'


class KeyFiles:
    """The key files of one application: live key, staged key, metadata, backups."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.path = p['path']
        self.directory = os.path.dirname(self.path) or '.'
        self.staged_path = p['staged_path'] or self.path + '.next'
        self.metadata_path = p['metadata_path'] or self.path + '.json'
        if os.path.abspath(os.path.dirname(self.staged_path) or '.') != os.path.abspath(self.directory):
            module.fail_json(msg='staged_path must be in the directory of path (%s), so that promotion is an atomic rename.'
                             % self.directory)
        self.mode = parse_mode(module, p['mode'], 'mode')
        self.metadata_mode = parse_mode(module, p['metadata_mode'], 'metadata_mode')
        self.changed = False
        # In check mode, the backup a real promotion would have made (so pruning predicts the same count).
        self.pending_backup = False
        self.removed = []
        self.messages = []
        base = re.escape(os.path.basename(self.path))
        self.backup_pattern = re.compile(r'^%s\.(\d{8}T\d{6}\d*Z)%s$' % (base, re.escape(BACKUP_SUFFIX)))
        self.temp_pattern = re.compile(r'^\.(%s|%s|%s)\..+%s$' % (
            base, re.escape(os.path.basename(self.staged_path)), re.escape(os.path.basename(self.metadata_path)),
            re.escape(TEMP_SUFFIX)))

    # reading
    def info(self, path, public=True):
        """Describe one key file: kid, checksum, size, mode, owner; never the private key.

        Only the public part of the key is used, so the consistency check of its private numbers (about
        0.1 s of CPU per 3072-bit key) is skipped; the key given to stage is checked, and a key that
        signs is checked where it signs. ``public=False``: without the public key PEM.
        """
        result = {'path': path, 'exists': False, 'kid': None, 'usable': False, 'symlink': link_target(path)}
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return result
        with open(path, 'rb') as handle:
            data = handle.read()
        result.update(exists=True, checksum=hashlib.sha256(data).hexdigest(), mode='%04o' % stat.S_IMODE(st.st_mode),
                      owner=user_name(st.st_uid), group=group_name(st.st_gid), uid=st.st_uid, gid=st.st_gid)
        try:
            key = load_private_key(data, validate=False)
        except ValueError as error:
            result['error'] = str(error)
            result['found'] = describe_key_file(data)
            return result
        result.update(kid=kid_for_public_key(data, validate=False), bits=key.key_size, usable=True)
        if public:
            result['public_key'] = public_key_pem(data, validate=False)
        return result

    def backups(self):
        """Backups of this key, newest first."""
        names = sorted((n for n in os.listdir(self.directory) if self.backup_pattern.match(n)), reverse=True)
        return [os.path.join(self.directory, n) for n in names]

    def metadata(self):
        try:
            with open(self.metadata_path, 'rb') as handle:
                data = json.loads(handle.read().decode('utf-8'))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def leftovers(self):
        """Temporary files that an interrupted run left in the directory (older than LEFTOVER_AGE s), sorted."""
        if not os.path.isdir(self.directory):
            return []
        now = time.time()
        out = []
        for name in sorted(os.listdir(self.directory)):
            path = os.path.join(self.directory, name)
            try:
                old = now - os.lstat(path).st_mtime > LEFTOVER_AGE
            except OSError:  # gone meanwhile: its writer renamed it
                continue
            if self.temp_pattern.match(name) and old:
                out.append(path)
        return out

    def remove_leftovers(self):
        """Delete temporary files that an interrupted run left in the directory."""
        for path in self.leftovers():
            self.remove(path)

    def directory_info(self):
        exists = os.path.isdir(self.directory)
        return {'path': self.directory, 'exists': exists,
                'writable': exists and os.access(self.directory, os.W_OK | os.X_OK)}

    def check_before_writing(self, state):
        """Fail, before any change, on paths and files that a writing state must not work on."""
        fail = self.module.fail_json
        paths = (('path', self.path), ('staged_path', self.staged_path), ('metadata_path', self.metadata_path))
        reasons = {('path', 'staged_path'): 'an empty staged suffix would write the new key over the live one',
                   ('path', 'metadata_path'): 'the metadata file would be written over the live key',
                   ('staged_path', 'metadata_path'): 'the metadata file would be written over the staged key'}
        for index, (name, path) in enumerate(paths):
            for other, other_path in paths[index + 1:]:
                if os.path.abspath(path) == os.path.abspath(other_path):
                    fail(msg='%s must differ from %s: %s; nothing was changed.' % (other, name, reasons[(name, other)]))
        purposes = {'path': 'the key is replaced where the application reads it',
                    'staged_path': 'the staged key is written where promotion renames it from',
                    'metadata_path': 'the metadata is replaced where the application reads it'}
        for name, path in paths:
            if link_target(path) is not None:
                fail(msg='%s %s is a symbolic link to %s; give the path of the file itself (the link target) so that %s. '
                         'Nothing was changed.' % (name, path, os.path.realpath(path), purposes[name]))
        if not os.path.isdir(self.directory):
            fail(msg='The directory %s does not exist.' % self.directory)
        if state in ('staged', 'promoted') and not self.module.params['replace_unusable']:
            live = self.info(self.path, public=False)
            if live['exists'] and not live['usable']:
                fail(msg='The live key file %s holds %s, not an unencrypted RSA private key of 2048 to 4096 bits: '
                         'Auth0 accepts RSA keys for RS256, RS384 and PS256. Nothing was changed. To replace the file '
                         'with the new key, set replace_unusable=true (credential_rotation_replace_unusable_key: true '
                         'in the role); the old file is kept as a backup.' % (self.path, live['found']))

    def remove(self, path):
        if not self.module.check_mode:
            try:
                os.unlink(path)
            except FileNotFoundError:
                return
        self.removed.append(path)
        self.changed = True

    # writing
    def ids(self, reference=None):
        """The uid and gid the key files must have (-1 keeps the current one)."""
        p = self.module.params
        uid = resolve_id(self.module, p['owner'], pwd.getpwnam, 'owner') if p['owner'] is not None else -1
        gid = resolve_id(self.module, p['group'], grp.getgrnam, 'group') if p['group'] is not None else -1
        if reference and reference.get('exists'):
            uid = reference['uid'] if uid == -1 else uid
            gid = reference['gid'] if gid == -1 else gid
        return uid, gid

    def write(self, path, data, mode, uid, gid):
        """Write data to path atomically: temporary file in the same directory, fsync, rename, fsync dir."""
        self.changed = True
        if self.module.check_mode:
            return
        fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix=TEMP_SUFFIX, dir=self.directory)
        try:
            os.fchmod(fd, 0o600)
            if uid != -1 or gid != -1:
                os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            with os.fdopen(fd, 'wb') as handle:
                fd = None
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(temp, path)
        except BaseException:
            if fd is not None:
                os.close(fd)
            if os.path.lexists(temp):
                os.unlink(temp)
            raise
        self.sync_directory()

    def sync_directory(self):
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def fix_attributes(self, info, mode, uid, gid):
        """Set mode, owner and group of an existing file when they differ."""
        if not info.get('exists'):
            return
        if (uid != -1 and uid != info['uid']) or (gid != -1 and gid != info['gid']):
            self.changed = True
            if not self.module.check_mode:
                os.chown(info['path'], uid, gid)
        if int(info['mode'], 8) != mode:
            self.changed = True
            if not self.module.check_mode:
                os.chmod(info['path'], mode)

    def write_metadata(self, metadata, uid, gid):
        if metadata is None:
            return
        data = to_bytes(json.dumps(metadata, sort_keys=True, indent=2) + '\n')
        current = None
        if os.path.exists(self.metadata_path):
            with open(self.metadata_path, 'rb') as handle:
                current = handle.read()
        if current != data:
            self.write(self.metadata_path, data, self.metadata_mode, uid, gid)
        else:
            self.fix_attributes(self.info(self.metadata_path, public=False), self.metadata_mode, uid, gid)

    def backup_live(self, live):
        """Keep the live key as a timestamped backup: a hard link, so no copy of the secret is written."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')
        backup = '%s.%s%s' % (self.path, stamp, BACKUP_SUFFIX)
        self.pending_backup = self.module.check_mode
        if not self.module.check_mode:
            try:
                os.link(self.path, backup)
            except OSError:
                with open(self.path, 'rb') as handle:
                    self.write(backup, handle.read(), int(live['mode'], 8), live['uid'], live['gid'])
        return backup


def parse_mode(module, value, name):
    if isinstance(value, int):
        return value
    try:
        mode = int(str(value), 8)
    except ValueError:
        module.fail_json(msg='%s must be an octal string such as 0600, not %r.' % (name, value))
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg='%s %r is out of range.' % (name, value))
    return mode


def resolve_id(module, value, lookup, what):
    if str(value).isdigit():
        return int(value)
    try:
        entry = lookup(value)
    except KeyError:
        module.fail_json(msg='The %s %r does not exist on this host.' % (what, value))
    return entry[2]


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def link_target(path):
    """The target of path when path itself is a symbolic link, else None."""
    try:
        return os.readlink(path)
    except OSError:  # not a link (EINVAL), or no such path
        return None


def public_view(info):
    """What a diff may show of a key file."""
    return {k: info.get(k) for k in ('exists', 'kid', 'mode', 'owner', 'group')} if info.get('exists') else {'exists': False}


def stage(files, params):
    try:
        # With a kid to match, the key's RSA consistency check (about 0.1 s of CPU at 3072 bits, on every host)
        # is left to its first signature: the rotation obtains a token with this key before any host uses it.
        load_private_key(params['private_key'], validate=not params['kid'])
        kid = kid_for_public_key(params['private_key'], validate=not params['kid'])
    except ValueError as error:
        files.module.fail_json(msg='private_key is not usable: %s' % error)
    if params['kid'] and params['kid'] != kid:
        files.module.fail_json(msg='private_key has kid %s, not the kid %s that was asked for.' % (kid, params['kid']))
    live = files.info(files.path, public=False)
    staged = files.info(files.staged_path, public=False)
    uid, gid = files.ids(live)
    if live['kid'] == kid:
        return 'The live key already has kid %s; nothing to stage.' % kid
    data = to_bytes(params['private_key'].strip() + '\n')
    if staged.get('checksum') == hashlib.sha256(data).hexdigest():
        files.fix_attributes(staged, files.mode, uid, gid)
        return 'The key %s is already staged at %s.' % (kid, files.staged_path)
    files.write(files.staged_path, data, files.mode, uid, gid)
    return 'Staged the key %s at %s.' % (kid, files.staged_path)


def promote(files, params):
    kid = params['kid']
    live = files.info(files.path, public=False)
    staged = files.info(files.staged_path, public=False)
    uid, gid = files.ids(live if live['exists'] else staged)
    if live['kid'] == kid:
        files.fix_attributes(live, files.mode, uid, gid)
        msg = 'The live key already has kid %s.' % kid
    elif staged['kid'] == kid:
        files.fix_attributes(staged, files.mode, uid, gid)
        msg = 'Promoted the staged key %s onto %s' % (kid, files.path)
        if live['exists'] and not live['usable']:
            # Only with replace_unusable: the file replaced may be anything (a misplaced path), so it is always kept.
            msg += ' (previous file, %s, kept as %s)' % (live['found'], os.path.basename(files.backup_live(live)))
        elif live['exists'] and params['backup']:
            msg += ' (previous key %s kept as %s)' % (live['kid'], os.path.basename(files.backup_live(live)))
        files.changed = True
        if not files.module.check_mode:
            os.rename(files.staged_path, files.path)
            files.sync_directory()
        msg += '.'
    elif files.module.check_mode and not staged['exists']:
        files.changed = True
        return 'Would promote the key %s, which a real run stages first.' % kid
    else:
        files.module.fail_json(msg='Neither the live key (kid %s) nor the staged key (kid %s) has kid %s; nothing was changed.'
                               % (live['kid'], staged['kid'], kid))
    files.write_metadata(params['metadata'], uid, gid)
    return msg


def restore(files, params):
    """Put the newest backup back, keeping the key it replaces staged for a later promotion."""
    kid = params['kid']
    live = files.info(files.path, public=False)
    backups = files.backups()
    if live['kid'] != kid:
        return 'The live key has kid %s, not %s; nothing to roll back.' % (live['kid'], kid)
    if not backups:
        files.module.fail_json(msg='There is no backup of %s to restore.' % files.path)
    files.changed = True
    if not files.module.check_mode:
        # Keep the current key staged (new hard link, then atomic rename over any older staged key);
        # then the backup replaces the live key in one rename, so the live path never disappears.
        temp = '%s/.%s.%d%s' % (files.directory, os.path.basename(files.staged_path), os.getpid(), TEMP_SUFFIX)
        os.link(files.path, temp)
        os.rename(temp, files.staged_path)
        os.rename(backups[0], files.path)
        files.sync_directory()
    files.write_metadata(params['metadata'], *files.ids(live))
    return 'Restored %s onto %s; the key %s is staged again.' % (os.path.basename(backups[0]), files.path, kid)


def clean(files, params):
    """Remove the staged key when asked (temporary leftovers are already removed, as in every writing state)."""
    done = 'Removed %d temporary file(s)' % len(files.removed) if files.removed else 'No temporary file to remove'
    if not params['remove_staged']:
        return done + '.'
    staged = files.info(files.staged_path, public=False)
    if not staged['exists']:
        return done + '; no staged key.'
    if params['kid'] and staged['usable'] and staged['kid'] != params['kid']:
        return done + '; kept the staged key %s, which is not the key %s.' % (staged['kid'], params['kid'])
    files.remove(files.staged_path)
    if staged['usable']:
        return done + '; removed the staged key %s.' % staged['kid']
    return done + '; removed the staged file %s, which held %s.' % (files.staged_path, staged['found'])


def prune(files, params, at_least=0):
    keep = params['keep_backups']
    old = files.backups()[max(max(keep, at_least) - (1 if files.pending_backup else 0), 0):]
    for path in old:
        files.remove(path)
    return 'Deleted %d old backup(s).' % len(old) if old else 'No backup to delete.'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', default='read', choices=['read', 'staged', 'promoted', 'restored', 'pruned', 'cleaned']),
            private_key=dict(type='str', no_log=True),
            kid=dict(type='str'),
            staged_path=dict(type='path'),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0600'),
            backup=dict(type='bool', default=True),
            keep_backups=dict(type='int'),
            metadata=dict(type='dict'),
            metadata_path=dict(type='path'),
            metadata_mode=dict(type='raw', default='0644'),
            remove_staged=dict(type='bool', default=False),
            replace_unusable=dict(type='bool', default=False),
        ),
        required_if=[
            ('state', 'staged', ['private_key']),
            ('state', 'promoted', ['kid']),
            ('state', 'restored', ['kid']),
            ('state', 'pruned', ['keep_backups']),
            ('state', 'cleaned', []),
        ],
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if (module.params['keep_backups'] or 0) < 0:
        module.fail_json(msg='keep_backups must be 0 or more.')
    files = KeyFiles(module)
    state = module.params['state']
    before = {'key': public_view(files.info(files.path, public=False)),
              'staged': public_view(files.info(files.staged_path, public=False)),
              'metadata': files.metadata()}
    if state != 'read':
        files.check_before_writing(state)
        files.remove_leftovers()
    action = {'read': lambda f, p: 'Read the key files.', 'staged': stage, 'promoted': promote,
              'restored': restore, 'pruned': prune, 'cleaned': clean}[state]
    msg = action(files, module.params)
    if state == 'promoted' and module.params['keep_backups'] is not None:
        removed = len(files.removed)
        pruned = prune(files, module.params, at_least=1)
        if len(files.removed) > removed:
            msg += ' ' + pruned
    result = dict(changed=files.changed, msg=msg, removed=files.removed)
    result['key'] = files.info(files.path)
    result['staged'] = files.info(files.staged_path)
    result['metadata'] = files.metadata()
    result['backups'] = [{'path': b, 'kid': files.info(b, public=False)['kid']} for b in
                         (files.backups() if os.path.isdir(files.directory) else [])]
    result['previous_kid'] = result['backups'][0]['kid'] if result['backups'] else None
    result['metadata_symlink'] = link_target(files.metadata_path)
    result['directory'] = files.directory_info()
    result['leftovers'] = files.leftovers()
    for info in (result['key'], result['staged']):
        info.pop('uid', None)
        info.pop('gid', None)
    if module._diff and files.changed:
        after = {'key': public_view(result['key']), 'staged': public_view(result['staged']), 'metadata': result['metadata']}
        if module.check_mode:
            after = dict(before, pending=msg, removed=files.removed)
        result['diff'] = {'before': before, 'after': after}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
