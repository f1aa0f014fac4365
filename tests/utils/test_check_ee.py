# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_ee.py fails when the execution environment's build files miss what the collection needs."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_ee  # noqa: E402  pylint: disable=wrong-import-position,import-error

INTROSPECT = """# Dependency data for /x/installed
---
python:
- 'httpx>=0.24  # from collection keyops.auth0'
- 'cryptography>=3.4  # from collection keyops.auth0'
system: []
"""


@pytest.fixture
def ee(tmp_path):
    """A build context and introspection output as ansible-builder writes them for version 1.2.3."""
    (tmp_path / 'galaxy.yml').write_text('namespace: keyops\nname: auth0\nversion: 1.2.3\n')
    build = tmp_path / 'context' / '_build'
    build.mkdir(parents=True)
    (build / 'requirements.yml').write_text('collections:\n  - name: /build/collections/keyops-auth0-1.2.3.tar.gz\n')
    (tmp_path / 'context' / 'Containerfile').write_text('RUN ansible-galaxy collection install -r requirements.yml\n')
    (tmp_path / 'introspect.txt').write_text(INTROSPECT)

    def run(*extra):
        return check_ee.main(['--context', str(tmp_path / 'context'), '--introspect', str(tmp_path / 'introspect.txt'),
                              '--galaxy', str(tmp_path / 'galaxy.yml'), '--python-requirement', 'httpx',
                              '--python-requirement', 'cryptography'] + list(extra))
    run.path = tmp_path
    return run


def test_complete_build_files_pass(ee, capsys):
    assert ee() == 0
    assert 'httpx, cryptography' in capsys.readouterr().out


@pytest.mark.parametrize('missing', ['httpx', 'cryptography'])
def test_a_missing_python_requirement_fails(ee, capsys, missing):
    kept = [line for line in INTROSPECT.splitlines() if missing not in line]
    (ee.path / 'introspect.txt').write_text('\n'.join(kept) + '\n')
    assert ee() == 1
    assert 'lack %s' % missing in capsys.readouterr().out


def test_no_python_requirements_at_all_fails(ee, capsys):
    (ee.path / 'introspect.txt').write_text('# Dependency data\n---\npython: []\nsystem: []\n')
    assert ee() == 1
    assert capsys.readouterr().out.count('lack') == 2


def test_a_tarball_of_another_version_fails(ee, capsys):
    (ee.path / 'galaxy.yml').write_text('namespace: keyops\nname: auth0\nversion: 2.0.0\n')
    assert ee() == 1
    assert 'keyops-auth0-2.0.0.tar.gz' in capsys.readouterr().out


def test_a_containerfile_without_ansible_galaxy_fails(ee, capsys):
    (ee.path / 'context' / 'Containerfile').write_text('FROM scratch\n')
    assert ee() == 1
    assert 'ansible-galaxy' in capsys.readouterr().out
