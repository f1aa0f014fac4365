#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command beside a freshly started Auth0 emulator, then stop the emulator.

Usage: with_emulator.py [--config FILE] [emulator serve options...] -- COMMAND [ARGS...]

The emulator is started with ``--port 0`` plus the given options; its ready line is exported to
the command as AUTH0_EMULATOR_URL, AUTH0_EMULATOR_DOMAIN, AUTH0_EMULATOR_CA_PATH,
AUTH0_EMULATOR_MANAGEMENT_CLIENT_ID, AUTH0_EMULATOR_MANAGEMENT_CLIENT_SECRET,
AUTH0_EMULATOR_MANAGEMENT_AUDIENCE and AUTH0_EMULATOR_CUSTOM_DOMAINS (JSON), and with
``--config FILE`` also written as YAML variables (auth0_emulator_url, ...) for ansible-test's
integration_config.yml.  The emulator is stopped by its PID whatever the command's outcome, and the
command's exit code is returned.
"""

import json
import os
import shutil
import signal
import subprocess
import sys


def main():
    """Start the emulator, run the command, stop the emulator."""
    args = sys.argv[1:]
    if '--' not in args:
        sys.exit(__doc__)
    split = args.index('--')
    options, command = args[:split], args[split + 1:]
    config = None
    if options[:1] == ['--config']:
        config, options = options[1], options[2:]
    emulator = shutil.which('auth0-emulator', path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    proc = subprocess.Popen([emulator, 'serve', '--port', '0'] + options, stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
    try:
        line = proc.stdout.readline()
        if not line:
            sys.exit('auth0-emulator exited before it was ready (code %s)' % proc.wait())
        ready = json.loads(line)
        env = dict(os.environ)
        for key, value in ready.items():
            env['AUTH0_EMULATOR_' + key.upper()] = '' if value is None else value if isinstance(value, str) else json.dumps(value)
        if config:
            with open(config, 'w', encoding='utf-8') as handle:
                for key, value in ready.items():
                    handle.write('auth0_emulator_%s: %s\n' % (key, json.dumps(value)))
        return subprocess.call(command, env=env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == '__main__':
    sys.exit(main())
