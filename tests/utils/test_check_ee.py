# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""check_ee.py fails when the execution environment's build files miss what the collection needs."""

import io
import json
import os
import sys
import tarfile

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


def write_tarball(path, version):
    """A collection tarball with the MANIFEST.json of keyops.auth0 ``version``."""
    data = json.dumps({'collection_info': {'namespace': 'keyops', 'name': 'auth0', 'version': version}}).encode()
    with tarfile.open(str(path), 'w:gz') as archive:
        info = tarfile.TarInfo('MANIFEST.json')
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


CONTAINERFILE = """ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"
ARG PYPKG="python3.11"
FROM $EE_BASE_IMAGE AS base
RUN ansible-galaxy collection install -r requirements.yml
"""


@pytest.fixture
def ee(tmp_path):
    """A build context and introspection output as ansible-builder writes them for version 1.2.3."""
    (tmp_path / 'galaxy.yml').write_text('namespace: keyops\nname: auth0\nversion: 1.2.3\n')
    build = tmp_path / 'context' / '_build'
    (build / 'collections').mkdir(parents=True)
    (build / 'requirements.yml').write_text('collections:\n  - name: /build/collections/keyops-auth0.tar.gz\n    type: file\n')
    write_tarball(build / 'collections' / 'keyops-auth0.tar.gz', '1.2.3')
    (build / 'bindep.txt').write_text('openssh-clients [platform:rpm]\npython3.11-pip [platform:rpm]')
    (tmp_path / 'context' / 'Containerfile').write_text(CONTAINERFILE)
    (tmp_path / 'introspect.txt').write_text(INTROSPECT)

    def run(*extra):
        return check_ee.main(['--context', str(tmp_path / 'context'), '--introspect', str(tmp_path / 'introspect.txt'),
                              '--galaxy', str(tmp_path / 'galaxy.yml'), '--python-requirement', 'httpx',
                              '--python-requirement', 'cryptography', '--base-image', 'quay.io/centos/centos:stream9',
                              '--system-package', 'openssh-clients', '--system-package', 'python3.11'] + list(extra))
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
    assert 'holds version 1.2.3, not 2.0.0 (galaxy.yml)' in capsys.readouterr().out


def test_a_tarball_the_context_does_not_hold_fails(ee, capsys):
    os.unlink(str(ee.path / 'context' / '_build' / 'collections' / 'keyops-auth0.tar.gz'))
    assert ee() == 1
    assert 'which the build context does not hold' in capsys.readouterr().out


def test_another_base_image_fails(ee, capsys):
    (ee.path / 'context' / 'Containerfile').write_text(CONTAINERFILE.replace('centos:stream9', 'centos:stream8'))
    assert ee() == 1
    assert 'does not start from quay.io/centos/centos:stream9' in capsys.readouterr().out


@pytest.mark.parametrize('package, where', [('openssh-clients', 'bindep.txt'), ('python3.11', 'Containerfile')])
def test_a_missing_system_package_fails(ee, capsys, package, where):
    path = ee.path / 'context' / ('_build' if where == 'bindep.txt' else '') / where
    path.write_text(path.read_text().replace(package, 'something-else'))
    assert ee() == 1
    assert 'installs no system package %s' % package in capsys.readouterr().out


def test_a_containerfile_without_ansible_galaxy_fails(ee, capsys):
    (ee.path / 'context' / 'Containerfile').write_text('FROM scratch\n')
    assert ee() == 1
    assert 'ansible-galaxy' in capsys.readouterr().out
