#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy the collection into DEST/ansible_collections/keyops/auth0 for ansible-test.

ansible-test needs the collection under an ``ansible_collections/<namespace>/<name>`` path and
resolves symlinks, so the tree is copied afresh: every file git tracks or would track (untracked
files that are not ignored are included, as ansible-test itself would see them), minus deleted ones.
"""

import os
import shutil
import subprocess
import sys


def main():
    """Copy the working tree into the build tree, make it a git work tree, and print its path."""
    dest_root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build')
    source = subprocess.run(['git', 'rev-parse', '--show-toplevel'], check=True, capture_output=True, text=True).stdout.strip()
    listing = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             cwd=source, check=True, capture_output=True).stdout.decode()
    files = sorted({name for name in listing.split('\0') if name and os.path.isfile(os.path.join(source, name))})
    dest = os.path.join(dest_root, 'ansible_collections', 'keyops', 'auth0')
    shutil.rmtree(dest, ignore_errors=True)
    for name in files:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(source, name), target)
    # ansible-test lists files through git when it runs in a git work tree; the copy lives below
    # an ignored folder of the source repository, so it gets a repository of its own.
    subprocess.run(['git', 'init', '--quiet', dest], check=True)
    print(dest)


if __name__ == '__main__':
    main()
