# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stateful emulator of an Auth0 tenant for tests of the keyops.auth0 collection.

The state model (:mod:`auth0_emulator.model`) knows nothing about HTTP; the Starlette application
(:mod:`auth0_emulator.http`) renders it as Auth0's Management API and ``/oauth/token``, and the admin
layer (:mod:`auth0_emulator.admin`) exposes test controls under ``/__emulator__/``.
"""

__version__ = '0.1.0'
