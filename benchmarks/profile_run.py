#!/usr/bin/env python
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""profile_run.py OUT.prof SCRIPT [ARGS...]: run a Python script under cProfile, keeping its exit code.

``python -m cProfile`` swallows the script's SystemExit (a failed playbook would look like rc 0); this
writes the profile and exits with the script's own code. Used by ``bench.py --profile``.
"""

import cProfile
import runpy
import sys


def main():
    out, script = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    profiler = cProfile.Profile()
    code = 0
    profiler.enable()
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        profiler.disable()
        profiler.dump_stats(out)
    return code


if __name__ == '__main__':
    sys.exit(main())
