#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the execution environment's build files against the built collection.

Usage: check_ee.py --context DIR --introspect FILE --galaxy galaxy.yml [--python-requirement NAME ...]
                   [--base-image NAME] [--system-package NAME ...]

- ``--context``: what ``ansible-builder create`` wrote: its galaxy requirements must name a collection
  tarball that the context holds, of the version in galaxy.yml; its Containerfile must start from the
  ``--base-image`` and install collections with ansible-galaxy; each ``--system-package`` must be among
  the system packages it installs (``_build/bindep.txt``, or the Containerfile for the Python interpreter);
- ``--introspect``: what ``ansible-builder introspect`` found in the installed collection: each
  ``--python-requirement`` must be among its Python requirements.

Every problem is printed; the exit code is 1 when there is one. (This replaces ``grep -q`` pipelines,
which under ``pipefail`` fail at random when grep exits before the writer is done.)
"""

import argparse
import json
import os
import re
import sys
import tarfile

import yaml


def requirement_names(lines):
    """The distribution names of requirement lines ('httpx>=0.24  # from ...' -> 'httpx')."""
    names = set()
    for line in lines or []:
        match = re.match(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)', str(line))
        if match:
            names.add(match.group(1).lower().replace('_', '-'))
    return names


def tarball_version(path):
    """The collection version in a collection tarball's MANIFEST.json."""
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile('MANIFEST.json'))
    return manifest['collection_info']['version']


def problems_of(context, introspect, galaxy, python_requirements, base_image=None, system_packages=()):
    """The list of problems found (empty when all is well)."""
    problems = []
    with open(galaxy, encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    requirements = os.path.join(context, '_build', 'requirements.yml')
    try:
        with open(requirements, encoding='utf-8') as handle:
            named = [c.get('name') for c in (yaml.safe_load(handle) or {}).get('collections') or [] if isinstance(c, dict)]
        tarballs = [n for n in named if str(n).endswith('.tar.gz')]
        if not tarballs:
            problems.append('%s names no collection tarball' % requirements)
        for name in tarballs:
            local = os.path.join(context, '_build', 'collections', os.path.basename(name))
            if not os.path.exists(local):
                problems.append('%s names %s, which the build context does not hold' % (requirements, name))
                continue
            version = tarball_version(local)
            if version != meta['version']:
                problems.append('%s holds version %s, not %s (galaxy.yml)' % (local, version, meta['version']))
    except OSError as exc:
        problems.append('no galaxy requirements in the build context: %s' % exc)
    containerfile = os.path.join(context, 'Containerfile')
    text = ''
    try:
        with open(containerfile, encoding='utf-8') as handle:
            text = handle.read()
        if 'ansible-galaxy' not in text:
            problems.append('%s does not install collections with ansible-galaxy' % containerfile)
        if base_image and not re.search(r'EE_BASE_IMAGE="?%s"?\s*$' % re.escape(base_image), text, re.MULTILINE):
            problems.append('%s does not start from %s' % (containerfile, base_image))
    except OSError as exc:
        problems.append('no Containerfile in the build context: %s' % exc)
    try:
        with open(os.path.join(context, '_build', 'bindep.txt'), encoding='utf-8') as handle:
            bindep = handle.read()
    except OSError:
        bindep = ''
    packages = set(re.findall(r'^\s*([A-Za-z0-9][A-Za-z0-9._+-]*)', bindep, re.MULTILINE))
    packages |= set(re.findall(r'PYPKG="?([A-Za-z0-9._+-]+)', text))  # the Python interpreter's system package
    for wanted in system_packages:
        if wanted not in packages:
            problems.append('the execution environment installs no system package %s (found: %s)'
                            % (wanted, ', '.join(sorted(packages)) or 'none'))
    with open(introspect, encoding='utf-8') as handle:
        found = yaml.safe_load(handle) or {}
    names = requirement_names(found.get('python') if isinstance(found, dict) else None)
    for wanted in python_requirements:
        if wanted.lower() not in names:
            problems.append('the introspected Python requirements lack %s (found: %s)' % (wanted, ', '.join(sorted(names)) or 'none'))
    return problems


def main(argv=None):
    """Check; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--context', required=True)
    parser.add_argument('--introspect', required=True)
    parser.add_argument('--galaxy', required=True)
    parser.add_argument('--python-requirement', action='append', default=[])
    parser.add_argument('--base-image')
    parser.add_argument('--system-package', action='append', default=[])
    args = parser.parse_args(argv)
    problems = problems_of(args.context, args.introspect, args.galaxy, args.python_requirement, args.base_image,
                           args.system_package)
    for problem in problems:
        print('execution environment: %s' % problem)
    if not problems:
        with open(args.galaxy, encoding='utf-8') as handle:
            version = yaml.safe_load(handle)['version']
        print('execution environment: build files name the collection tarball of version %s, its Python requirements '
              '(%s), the base image %s and the system packages %s' % (version, ', '.join(args.python_requirement),
                                                                      args.base_image, ', '.join(args.system_package)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
