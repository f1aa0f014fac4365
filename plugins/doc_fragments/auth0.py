# -*- coding: utf-8 -*-
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Connection and management access options, shared by every module of the auth0 action group.
    DOCUMENTATION = r"""
options:
  auth0_domain:
    description:
      - The Auth0 tenant to talk to.
      - A tenant host such as V(acme.eu.auth0.com), a custom domain, C(host:port), or an C(https://) URL
        with an optional port and no path.
      - Plain C(http://) is refused unless the host is a loopback address (V(localhost), C(127.0.0.0/8), V(::1)).
      - A value with a path (such as V(https://acme.eu.auth0.com/api/v2/)) is refused.
      - Audiences are derived from it, C(https://DOMAIN/api/v2/) for the Management API (unless
        O(auth0_audience) is set) and C(https://DOMAIN/) for client assertions, with the port when one other than
        the default (443) is given; an explicit V(:443) is left out.
      - If not set, the environment variable E(AUTH0_DOMAIN) is used.
    type: str
    required: true
  auth0_audience:
    description:
      - The identifier of the Auth0 Management API, sent as the C(audience) of every management token request
        (and of key checks that name no audience of their own).
      - Defaults to C(https://DOMAIN/api/v2/), built from O(auth0_domain).
      - Set it when O(auth0_domain) is a custom domain. The Management API identifier stays the tenant's
        canonical C(https://TENANT.REGION.auth0.com/api/v2/) behind a custom domain (the Auth0 Management API
        row of U(https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens) gives
        C(https://{tenant}.auth0.com/api/v2/)), so the derived default would be refused. Copy it from the
        dashboard (Applications, APIs, Auth0 Management API) with its trailing slash. The Auth0 Terraform
        provider calls the same setting C(audience) (E(AUTH0_AUDIENCE)).
      - Must be an C(https://) URL; anything else fails before any request is sent.
      - The client assertion signed with O(auth0_client_assertion_private_key) does not use it. Its C(aud) is
        always C(https://DOMAIN/), the host the token request goes to, custom domain included. Auth0 documents
        C(aud) as the URL of the tenant or of the custom domain that receives the assertion, trailing slash
        included, and recommends the custom domain when one is configured
        (U(https://auth0.com/docs/get-started/authentication-and-authorization-flow/authenticate-with-private-key-jwt));
        Auth0's SDKs do the same (auth0-python, go-auth0).
      - If not set, the environment variable E(AUTH0_AUDIENCE) is used.
    type: str
    version_added: 2.0.0
  auth0_client_id:
    description:
      - Client ID of the machine-to-machine application that holds a client grant for the Management API.
      - Used with O(auth0_client_secret) or O(auth0_client_assertion_private_key) to obtain one management token
        per module run. Not used when O(auth0_token) is set.
      - If not set, the environment variable E(AUTH0_CLIENT_ID) is used.
    type: str
  auth0_client_secret:
    description:
      - Client secret of O(auth0_client_id).
      - If not set, the environment variable E(AUTH0_CLIENT_SECRET) is used.
    type: str
  auth0_client_assertion_private_key:
    description:
      - PEM text of an RSA private key enabled for Private Key JWT on O(auth0_client_id), used instead of
        O(auth0_client_secret) when both are set.
      - The key never leaves the host the module runs on; only a signed, short-lived client assertion is sent.
      - If not set, the environment variable E(AUTH0_CLIENT_ASSERTION_PRIVATE_KEY) is used.
    type: str
  auth0_client_assertion_signing_alg:
    description:
      - Algorithm that signs the client assertion made with O(auth0_client_assertion_private_key).
      - If not set, the environment variable E(AUTH0_CLIENT_ASSERTION_SIGNING_ALG) is used, else V(RS256).
    type: str
    choices: [RS256, RS384, PS256]
  auth0_token:
    description:
      - A Management API access token to use as it is, for example the one M(keyops.auth0.auth0_client_token)
        returned earlier in the play. When set, no token is requested and the client options above are not used.
      - A token that expires during the run is not renewed.
      - If not set, the environment variable E(AUTH0_API_TOKEN) is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of O(auth0_domain). Only set to V(false) for tests you cannot
        give a CA file to; prefer O(auth0_ca_path).
    type: bool
    default: true
  auth0_ca_path:
    description:
      - PEM file of the certificate authorities to trust for O(auth0_domain) instead of the system ones.
      - If not set, the environment variable E(AUTH0_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 30
  retries:
    description:
      - How many times a call is retried after a rate limit (429), a server error (5xx) or a connection error.
      - Waits follow C(Retry-After) or C(x-ratelimit-reset) when Auth0 sends them (at most 60 seconds each),
        else grow exponentially from half a second. They also grow exponentially when C(x-ratelimit-reset) or a
        C(Retry-After) date has already passed by this host's clock (a clock ahead of Auth0's), so retries are
        never spent at once.
      - A credential creation whose outcome is unknown is never repeated blindly; the credential list is read
        back first and the credential matched by kid.
    type: int
    default: 5
notes:
  - Management access comes from, in this order, O(auth0_token), then O(auth0_client_id) with
    O(auth0_client_assertion_private_key), then O(auth0_client_id) with O(auth0_client_secret). At most one
    management token is requested per module run, and a second one only when Auth0 answers 401 because the
    first one expired.
  - Every option has an environment fallback named after the Auth0 tools' conventions, so credentials
    injected as environment variables (for example by an AWX custom credential type) need no playbook change.
  - Secrets are never logged or returned. Failures report the HTTP status, Auth0's C(error), C(errorCode) and
    message, and the call (method and path) in the C(api_error) dictionary of the failed result.
requirements:
  - httpx >= 0.24
  - cryptography >= 3.4
"""

    ACTIONGROUP_AUTH0 = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/keyops.auth0.auth0) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - keyops.auth0.auth0
"""

    # Standard descriptions of the attributes, so that every module only states its support.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the tenant.
  diff_mode:
    description: Will return details on what has changed (or would change in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode with the same arguments, the second run reports no change.
      - This assumes that nothing else changed the tenant in a relevant way between the runs.
"""
