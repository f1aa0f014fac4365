# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its virtual environments with ``--without-pip`` and then runs a cached
``get_pip_<version>.py`` to install pip.  That script is fetched from a host this machine cannot
reach, so ``make`` seeds the cache with this file instead.  It installs the pip bundled with the
interpreter (ensurepip) and then upgrades it to the version ansible-test asked for, through the
package index that pip is configured to use.  Arguments are those ansible-test passes to get-pip.
"""

import subprocess
import sys


def main():
    """Install pip with ensurepip, then the requested pip version."""
    args = sys.argv[1:]
    wanted = [arg for arg in args if arg.startswith('pip==')]
    options = [arg for arg in args if arg.startswith('-') and arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    if wanted:
        subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'] + options + wanted, check=True)


if __name__ == '__main__':
    main()
