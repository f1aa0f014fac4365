#!/usr/bin/env bash
# Usage: leak_check.sh LOGFILE CONFIG
# Fails when the playbook output holds a secret: the management client secret, the seeded
# application secret, any private key, or a bearer token.
set -eu -o pipefail
log=$1
config=$2
secret=$(sed -n 's/^auth0_emulator_management_client_secret: "\(.*\)"$/\1/p' "$config")
found=0
if [ -n "$secret" ] && grep -qF -- "$secret" "$log"; then echo "LEAK: management client secret in output"; found=1; fi
if grep -qF -- "app-secret-never-shown" "$log"; then echo "LEAK: application secret in output"; found=1; fi
if grep -qE -- "BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY" "$log"; then echo "LEAK: a private key in output"; found=1; fi
if grep -qE -- "Bearer [A-Za-z0-9_-]{10,}" "$log"; then echo "LEAK: a bearer token in output"; found=1; fi
if grep -qE -- '"access_token": "[^"*]' "$log"; then echo "LEAK: an access token in output"; found=1; fi
[ "$found" = 0 ] && echo "no secret found in $(wc -l < "$log") lines of output"
exit "$found"
