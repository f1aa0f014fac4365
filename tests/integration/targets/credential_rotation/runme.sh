#!/usr/bin/env bash
# The credential_rotation role end to end, through the tenant's custom domain (AUTH0_DOMAIN localhost:PORT, the
# canonical Management API identifier in AUTH0_AUDIENCE), on one host whose key file lives in a temporary folder:
# 0. ad hoc, auth0_client_token without client_id returns the management client's token (issue 11);
#    without AUTH0_AUDIENCE the run is refused before any change (Auth0 has no API https://CUSTOM/api/v2/) and
#    says to set it;
# 1. a forced run whose proof of the new key Auth0 only ever throttles (403 "Rate limit reached") fails, names the
#    throttling, and leaves the old credential enabled and the host's key file as it was;
# 2. once the throttling has passed, a plain run finishes that rotation: the host holds the new key, the old
#    credential is retired;
# 3. with the connection options only in module_defaults (AUTH0_* empty), a forced run rotates and asks for one
#    management token in all. Every run is made at -vvvv with --diff, and no secret may reach the output.
set -eu -o pipefail
config=../../integration_config.yml
out="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
value() { sed -n "s/^$1: //p" "$config"; }
url=$(value auth0_emulator_url | tr -d '"')
custom=$(value auth0_emulator_custom_domains | sed 's/^\["\([^"]*\)".*/\1/')
export AUTH0_DOMAIN="$custom" AUTH0_AUDIENCE="${url}/api/v2/"
AUTH0_CA_PATH=$(value auth0_emulator_ca_path | tr -d '"')
AUTH0_CLIENT_ID=$(value auth0_emulator_management_client_id | tr -d '"')
AUTH0_CLIENT_SECRET=$(value auth0_emulator_management_client_secret | tr -d '"')
export AUTH0_CA_PATH AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET
export ANSIBLE_ROLES_PATH=..

run() {  # run LABEL EXPECTED_RC ansible-playbook args...
    local label=$1 expected=$2 rc=0
    shift 2
    ansible-playbook "$@" -e "@${config}" -e "work_dir=${work}" -vvvv --diff > "$out/credential_rotation-$label.log" 2>&1 || rc=$?
    if [ "$rc" != "$expected" ]; then
        grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$out/credential_rotation-$label.log" | tail -n 60
        echo "credential_rotation $label: rc $rc, expected $expected; full output in $out/credential_rotation-$label.log"
        exit 1
    fi
    ../auth0_common/tasks/leak_check.sh "$out/credential_rotation-$label.log" "$config"
}

run setup 0 -i "${INVENTORY_PATH:?}" setup.yml
# ad hoc, with only AUTH0_* set: the management client's own token (no client_id given)
ansible testhost -i "${INVENTORY_PATH:?}" -m keyops.auth0.auth0_client_token -a return_token=true > "$work/adhoc.out" 2>&1 \
    || { cat "$work/adhoc.out"; echo "the ad hoc token check failed"; exit 1; }
if ! grep -q '"client_id": "'"$AUTH0_CLIENT_ID"'"' "$work/adhoc.out" || ! grep -q '"access_token": "ey' "$work/adhoc.out"; then
    echo "the ad hoc token check returned no management token"
    exit 1
fi
# through the custom domain without AUTH0_AUDIENCE: refused before any change, saying what to set
AUTH0_AUDIENCE='' run no-audience 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'set auth0_audience (or AUTH0_AUDIENCE)' "$out/credential_rotation-no-audience.log" \
    || { echo "the run without AUTH0_AUDIENCE does not say to set it"; exit 1; }
run throttle 0 -i "${INVENTORY_PATH:?}" throttle.yml
run throttled 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'throttled the request (rate limit) on every attempt' "$out/credential_rotation-throttled.log" \
    || { echo "the failed run does not name the throttling"; exit 1; }
run after-throttled 0 -i "${INVENTORY_PATH:?}" check.yml -e phase=throttled
run resume 0 -i "$work/inventory.yml" rotate.yml
run after-resume 0 -i "${INVENTORY_PATH:?}" check.yml -e phase=resumed
# 3. the connection options only in module_defaults: one management token for the whole run
AUTH0_DOMAIN='' AUTH0_AUDIENCE='' AUTH0_CA_PATH='' AUTH0_CLIENT_ID='' AUTH0_CLIENT_SECRET='' \
    run module-defaults 0 -i "${INVENTORY_PATH:?}" -i "$work/inventory.yml" defaults.yml -e credential_rotation_force=true
