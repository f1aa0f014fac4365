# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its virtual environments with ``--without-pip`` and then runs a cached
``get_pip_<version>.py`` to install pip.  That script is fetched from a host this machine cannot
reach, so ``make`` seeds the cache with this file instead, and the wheel of the pip version
ansible-test asks for beside it.  Like get-pip.py, it runs pip from that wheel to install the wheel
itself: one pip run, without the index and without compiling pip's files (Python compiles what it
imports), about 3 s of CPU where ensurepip and an upgrade took 10 for each of sanity's ten venvs.
Without the wheel (a cache seeded by hand, a download that failed), or when it does not install,
it installs the pip bundled with the interpreter (ensurepip) and upgrades it to the version asked
for through the package index pip is configured to use.  Arguments are those ansible-test passes to get-pip.
"""

import glob
import os
import subprocess
import sys


def main():
    """Install the requested pip version into the running interpreter's environment."""
    args = sys.argv[1:]
    wanted = [arg for arg in args if arg.startswith('pip==')]
    options = [arg for arg in args if arg.startswith('-') and arg not in ('--no-setuptools', '--no-wheel')]
    here = os.path.dirname(os.path.abspath(__file__))
    version = wanted[0].split('==', 1)[1] if wanted else None
    wheels = glob.glob(os.path.join(here, 'pip-%s-py3-none-any.whl' % version)) if version else []
    if wheels:
        done = subprocess.run([sys.executable, os.path.join(wheels[0], 'pip'), 'install', '--quiet', '--disable-pip-version-check',
                               '--no-index', '--no-deps', '--no-compile'] + options + [wheels[0]], check=False)
        if done.returncode == 0:
            return
        print('get-pip stand-in: the wheel %s did not install; falling back to ensurepip' % wheels[0], file=sys.stderr)
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    if wanted:
        subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'] + options + wanted, check=True)


if __name__ == '__main__':
    main()
