#!/usr/bin/env bash
# The credential_rotation role with the aws_secretsmanager destination: the client's key is the AWSCURRENT version
# of a Secrets Manager secret in moto's server (started here on a free loopback port, stopped at the end by its
# PID), written from the controller's memory. store_check.py computes every kid from the keys it reads.
# 1. a forced run rotates: a new version labelled AWSCURRENT holds the new key, AWSPREVIOUS the first key, no
#    AWSPENDING version is left, Auth0 holds only the new credential;
# 2. a plain run then changes nothing;
# 3. a forced run whose proof of the new key Auth0 throttles stops after staging (AWSPENDING) and registering;
# 4. a plain run resumes it with the pending key (no second new credential) and retires the old one;
# 5. with an endpoint nobody answers, or credentials Secrets Manager does not know, a forced run fails naming the
#    secret, before Auth0 learns of a new key;
# 6. with credential_rotation_overlap 1h, the old credential stays enabled until Auth0's clock (the emulator's,
#    moved by its admin API) is past the window (the vault target checks runs inside the window, the same engine).
# An application that reads its key from the store every 0.5 s and asks the emulator for a token (tests/probe)
# runs through the rotation and through the overlap window: none of its requests may fail.
# Every run is made at -vvvv with --diff; neither a private key nor the AWS secret key may reach the output.
set -eu -o pipefail
config=../../integration_config.yml
out="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}"
work=$(mktemp -d)
moto_pid=
value() { sed -n "s/^$1: //p" "$config" | tr -d '"'; }
faults() {  # faults JSON|clear: inject an emulator fault (tests/emulator/README.md), or clear them all, without a playbook
    python - "$1" "$(value auth0_emulator_url)" "$(value auth0_emulator_ca_path)" <<'PY'
import json, ssl, sys, urllib.request
spec, url, ca = sys.argv[1:4]
request = urllib.request.Request(url + '/__emulator__/faults', method='DELETE') if spec == 'clear' else urllib.request.Request(
    url + '/__emulator__/faults', data=spec.encode(), headers={'Content-Type': 'application/json'}, method='POST')
urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca)).read()
PY
}
# every token request after the next one (the run's management token) is answered 403 "Rate limit reached"
THROTTLE='{"method": "POST", "path": "^/oauth/token$", "status": 403, "after": 1, "count": 50, "body": {"error": "Rate limit reached", "error_description": "Access Denied"}}'
clock() {  # clock SECONDS: move the emulator's clock (the Date of its answers), as Auth0's would have moved
    python - "$1" "$(value auth0_emulator_url)" "$(value auth0_emulator_ca_path)" <<'PY'
import json, ssl, sys, urllib.request
offset, url, ca = float(sys.argv[1]), sys.argv[2], sys.argv[3]
request = urllib.request.Request(url + '/__emulator__/config', data=json.dumps({'clock_offset': offset}).encode(),
                                 headers={'Content-Type': 'application/json'}, method='POST')
urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca)).read()
PY
}
probe_pid=
probe_start() {  # probe_start LABEL: an application that reads its key from the store every 0.5 s and asks for a token
    local client_id
    client_id=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["client_id"])' "$work/client.json")
    # the probe of the collection's tests (ansible-test copies only the target into its working folder)
    python "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keyops/auth0/tests/probe/fleet_probe.py" --key aws:apps/billing --client-id "$client_id" --url "$(value auth0_emulator_url)" \
        --audience "$(value auth0_emulator_management_audience)" --ca "$(value auth0_emulator_ca_path)" \
        --interval 0.5 --out "$work/probe-$1.json" > "$out/credential_rotation_aws-probe-$1.log" 2>&1 &
    probe_pid=$!
}
probe_stop() {  # probe_stop LABEL: zero failed token requests, and tokens obtained with the old and the new key
    kill "$probe_pid"
    wait "$probe_pid" || true
    probe_pid=
    python - "$work/probe-$1.json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
used = sorted(kid for kid, counts in stats['kids'].items() if counts['succeeded'])
if stats['failed'] or len(used) < 2:
    sys.exit('probe: %d of %d token requests failed, tokens with %d keys: %s' % (
        stats['failed'], stats['requests'], len(used), stats['last_errors'][-3:]))
print('probe: %d token requests, none failed, with the keys %s' % (stats['requests'], ', '.join(used)))
PY
}
cleanup() { clock 0 || true; if [ -n "$probe_pid" ]; then kill "$probe_pid" 2>/dev/null || true; fi; if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
python=$(command -v python)
moto=$(dirname "$(readlink -f "$python")")/moto_server
[ -x "$moto" ] || moto=$(command -v moto_server)
free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
"$moto" -H 127.0.0.1 -p "$port" > "$out/credential_rotation_aws-moto.log" 2>&1 &
moto_pid=$!
aws_secret=$(python -c 'import secrets; print("aws-secret-" + secrets.token_urlsafe(24))')
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIAKEYOPSTEST000001 AWS_SECRET_ACCESS_KEY="$aws_secret" \
    AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
ready=
for _ in $(seq 100); do
    if python -c 'import os, urllib.request; urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/")' 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { tail -n 20 "$out/credential_rotation_aws-moto.log"; echo "moto's server did not start"; exit 1; }
AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
AUTH0_DOMAIN=$(value auth0_emulator_domain)
AUTH0_CA_PATH=$(value auth0_emulator_ca_path)
AUTH0_CLIENT_ID=$(value auth0_emulator_management_client_id)
AUTH0_CLIENT_SECRET=$(value auth0_emulator_management_client_secret)
export AUTH0_DOMAIN AUTH0_CA_PATH AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET
export ANSIBLE_ROLES_PATH=..

run() {  # run LABEL EXPECTED_RC ansible-playbook args...
    local label=$1 expected=$2 rc=0 log
    shift 2
    log="$out/credential_rotation_aws-$label.log"
    ansible-playbook "$@" -e "@${config}" -e "work_dir=${work}" -vvvv --diff > "$log" 2>&1 || rc=$?
    if [ "$rc" != "$expected" ]; then
        grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$log" | tail -n 60
        echo "credential_rotation_aws $label: rc $rc, expected $expected; full output in $log"
        exit 1
    fi
    ../auth0_common/tasks/leak_check.sh "$log" "$config"
    if grep -qF -- "$aws_secret" "$log"; then
        echo "LEAK: the AWS secret access key in $log"
        exit 1
    fi
}
check() { python ../auth0_common/tasks/store_check.py aws "$1" "$work" "$config"; }

run setup 0 -i "${INVENTORY_PATH:?}" setup.yml
probe_start rotation
run rotate 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
check rotated
run again 0 -i "$work/inventory.yml" rotate.yml
check unchanged
run check-mode 0 -i "$work/inventory.yml" rotate.yml --check -e credential_rotation_force=true
grep -q 'would rotate to the key' "$out/credential_rotation_aws-check-mode.log" || { echo "check mode does not say it would rotate"; exit 1; }
check unchanged
probe_stop rotation
faults "$THROTTLE"
run stopped 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'throttled the request (rate limit) on every attempt' "$out/credential_rotation_aws-stopped.log" \
    || { echo "the stopped run does not name the throttling"; exit 1; }
check stopped
faults clear
run resume 0 -i "$work/inventory.yml" rotate.yml
check resumed
# an endpoint nobody answers: the read fails, naming the secret, before any change
AWS_ENDPOINT_URL="http://127.0.0.1:$(free_port)" run unreachable 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'aws_secretsmanager:apps/billing could not be reached while reading the secret' "$out/credential_rotation_aws-unreachable.log" \
    || { echo "the failed run does not name the unreachable secret"; exit 1; }
check denied
# credentials Secrets Manager does not know (moto's server that checks them, started here too): refused, naming it
auth_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=0 "$moto" -H 127.0.0.1 -p "$auth_port" > "$out/credential_rotation_aws-moto-auth.log" 2>&1 &
auth_pid=$!
for _ in $(seq 100); do
    python -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/moto-api/" % sys.argv[1])' "$auth_port" 2>/dev/null && break
    sleep 0.1
done
AWS_ENDPOINT_URL="http://127.0.0.1:$auth_port" run denied 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
kill "$auth_pid"
wait "$auth_pid" 2>/dev/null || true
grep -q 'aws_secretsmanager:apps/billing refused reading the secret: permission denied' "$out/credential_rotation_aws-denied.log" \
    || { echo "the refused run does not name the secret and the permission"; exit 1; }
check denied
# the overlap window, measured by Auth0's clock
probe_start overlap
run overlap 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_overlap=1h
check waiting
probe_stop overlap
clock 3700
run after-window 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_overlap=1h
check after-window
clock 0
echo "credential_rotation_aws: every check passed"
