#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the execution environment's build files against the built collection.

Usage: check_ee.py --context DIR --introspect FILE --galaxy galaxy.yml [--python-requirement NAME ...]

- ``--context``: what ``ansible-builder create`` wrote: its galaxy requirements must name the tarball of
  the version in galaxy.yml, and its Containerfile must install collections with ansible-galaxy;
- ``--introspect``: what ``ansible-builder introspect`` found in the installed collection: each
  ``--python-requirement`` must be among its Python requirements.

Every problem is printed; the exit code is 1 when there is one. (This replaces ``grep -q`` pipelines,
which under ``pipefail`` fail at random when grep exits before the writer is done.)
"""

import argparse
import os
import re
import sys

import yaml


def requirement_names(lines):
    """The distribution names of requirement lines ('httpx>=0.24  # from ...' -> 'httpx')."""
    names = set()
    for line in lines or []:
        match = re.match(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)', str(line))
        if match:
            names.add(match.group(1).lower().replace('_', '-'))
    return names


def problems_of(context, introspect, galaxy, python_requirements):
    """The list of problems found (empty when all is well)."""
    problems = []
    with open(galaxy, encoding='utf-8') as handle:
        meta = yaml.safe_load(handle)
    tarball = '%s-%s-%s.tar.gz' % (meta['namespace'], meta['name'], meta['version'])
    requirements = os.path.join(context, '_build', 'requirements.yml')
    try:
        with open(requirements, encoding='utf-8') as handle:
            text = handle.read()
        if tarball not in text:
            problems.append('%s does not name %s (the version in galaxy.yml)' % (requirements, tarball))
    except OSError as exc:
        problems.append('no galaxy requirements in the build context: %s' % exc)
    containerfile = os.path.join(context, 'Containerfile')
    try:
        with open(containerfile, encoding='utf-8') as handle:
            if 'ansible-galaxy' not in handle.read():
                problems.append('%s does not install collections with ansible-galaxy' % containerfile)
    except OSError as exc:
        problems.append('no Containerfile in the build context: %s' % exc)
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
    args = parser.parse_args(argv)
    problems = problems_of(args.context, args.introspect, args.galaxy, args.python_requirement)
    for problem in problems:
        print('execution environment: %s' % problem)
    if not problems:
        print('execution environment: build files name the collection tarball and its Python requirements (%s)'
              % ', '.join(args.python_requirement))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
