# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034, SC2154: variables set here for the runme.sh that sources this, and set there for these functions)
# What the secret-store targets (credential_rotation_vault, credential_rotation_aws) share; sourced by their
# runme.sh after they set: name (the target), store (vault or aws), probe_key (the probe's --key). They add the
# store's own secrets to needles (an array) and the PIDs of what they start to pids; cleanup stops those by PID.
config=../../integration_config.yml
out="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}"
work=$(mktemp -d)
needles=()
pids=()
probe_pid=
value() { sed -n "s/^$1: //p" "$config" | tr -d '"'; }
free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# where the venv's console scripts (bao, moto_server) are
bindir=$(dirname "$(readlink -f "$(command -v python)")")

admin() {  # admin PATH METHOD [JSON]: a call to the emulator's admin API (tests/emulator/README.md)
    python - "$(value auth0_emulator_url)" "$(value auth0_emulator_ca_path)" "$1" "$2" "${3:-}" <<'PY'
import ssl, sys, urllib.request
url, ca, path, method, body = sys.argv[1:6]
request = urllib.request.Request(url + '/__emulator__/' + path, data=body.encode() if body else None,
                                 headers={'Content-Type': 'application/json'}, method=method)
urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca)).read()
PY
}
faults() { if [ "$1" = clear ]; then admin faults DELETE; else admin faults POST "$1"; fi; }  # inject one, or clear all
# every token request after the next one (the run's management token) is answered 403 "Rate limit reached"
THROTTLE='{"method": "POST", "path": "^/oauth/token$", "status": 403, "after": 1, "count": 50, "body": {"error": "Rate limit reached", "error_description": "Access Denied"}}'
clock() { admin config POST "{\"clock_offset\": $1}"; }  # move Auth0's clock (the Date of the emulator's answers)

wait_for() {  # wait_for URL LOG WHAT [any]: until URL answers 2xx, or any HTTP status with "any" (10 s at most)
    local _
    for _ in $(seq 100); do
        if python -c '
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1])
except urllib.error.HTTPError:
    if sys.argv[2] != "any":
        raise' "$1" "${4:-}" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$2"
    echo "$3 did not start"
    exit 1
}

probe_start() {  # probe_start LABEL: an application that reads its key from the store every 0.5 s and asks for a token
    local client_id
    client_id=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["client_id"])' "$work/client.json")
    # the probe of the collection's tests (ansible-test copies only the targets into its working folder)
    python "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keyops/auth0/tests/probe/fleet_probe.py" --key "$probe_key" \
        --client-id "$client_id" --url "$(value auth0_emulator_url)" --audience "$(value auth0_emulator_management_audience)" \
        --ca "$(value auth0_emulator_ca_path)" --interval 0.5 --out "$work/probe-$1.json" > "$out/$name-probe-$1.log" 2>&1 &
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

cleanup() {
    local pid
    clock 0 || true
    for pid in "$probe_pid" "${pids[@]}"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

auth0_environment() {  # the management client's access, as AWX's Auth0 credential type injects it
    AUTH0_DOMAIN=$(value auth0_emulator_domain)
    AUTH0_CA_PATH=$(value auth0_emulator_ca_path)
    AUTH0_CLIENT_ID=$(value auth0_emulator_management_client_id)
    AUTH0_CLIENT_SECRET=$(value auth0_emulator_management_client_secret)
    export AUTH0_DOMAIN AUTH0_CA_PATH AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET
    export ANSIBLE_ROLES_PATH=..
}

run() {  # run LABEL EXPECTED_RC ansible-playbook args...: at -vvvv with --diff; no secret may reach the output
    local label=$1 expected=$2 rc=0 log needle
    shift 2
    log="$out/$name-$label.log"
    ansible-playbook "$@" -e "@${config}" -e "work_dir=${work}" -vvvv --diff > "$log" 2>&1 || rc=$?
    if [ "$rc" != "$expected" ]; then
        grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$log" | tail -n 60
        echo "$name $label: rc $rc, expected $expected; full output in $log"
        exit 1
    fi
    ../auth0_common/tasks/leak_check.sh "$log" "$config"
    for needle in "${needles[@]}"; do
        if grep -qF -- "$needle" "$log"; then
            echo "LEAK: a secret of the store in $log"
            exit 1
        fi
    done
}
check() { python ../auth0_common/tasks/store_check.py "$store" "$1" "$work" "$config"; }

rotate_and_resume() {  # what both stores go through: setup, a rotation and a no-op with the probe, check mode, a stop
    # after the registration (Auth0 throttles the proof of the new key) and the run that resumes it from the store
    run setup 0 -i "${INVENTORY_PATH:?}" setup.yml
    probe_start rotation
    run rotate 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
    check rotated
    run again 0 -i "$work/inventory.yml" rotate.yml
    check unchanged
    run check-mode 0 -i "$work/inventory.yml" rotate.yml --check -e credential_rotation_force=true
    grep -q 'would rotate to the key' "$out/$name-check-mode.log" || { echo "check mode does not say it would rotate"; exit 1; }
    check unchanged
    probe_stop rotation
    faults "$THROTTLE"
    run stopped 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
    grep -q 'throttled the request (rate limit) on every attempt' "$out/$name-stopped.log" \
        || { echo "the stopped run does not name the throttling"; exit 1; }
    check stopped
    faults clear
    run resume 0 -i "$work/inventory.yml" rotate.yml
    check resumed
}

stops_at_registration_and_retirement() {  # a stop at either end of the Auth0 steps, and the run that finishes it
    # stopped at the registration (Auth0 answers 500 to the credential's creation): the key stays staged in the store;
    # the next run registers that key (read from the store) and finishes. Both faults here say Retry-After: 0, so the
    # client's retries (the same 500 each time) do not wait their back-off (unit-tested), about 30 s per stop.
    faults '{"method": "POST", "path": "^/api/v2/clients/[^/]+/credentials$", "status": 500, "count": 20, "headers": {"Retry-After": "0"}}'
    run stopped-register 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
    check staged-only
    faults clear
    run resume-register 0 -i "$work/inventory.yml" rotate.yml
    check resumed
    # stopped at the retirement (the PATCH that disables the old credential is refused): the store already holds the
    # new key as current; the next run retires the old credential without writing the store again
    faults '{"method": "PATCH", "path": "^/api/v2/clients/[^/]+$", "status": 500, "count": 20, "after": 2, "headers": {"Retry-After": "0"}}'
    run stopped-retire 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
    check promoted-not-retired
    faults clear
    run finish-retire 0 -i "$work/inventory.yml" rotate.yml
    check after-window
}

consumer_checks() {  # the overlap window ends early once every consumer (a URL that answers its kid) uses the new key
    mkdir "$work/consumer"
    current_kid() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))["current_kid"])' "$work/last.json"; }
    current_kid > "$work/consumer/kid"
    consumer_port=$(free_port)
    python -m http.server --bind 127.0.0.1 --directory "$work/consumer" "$consumer_port" > "$out/$name-consumer.log" 2>&1 &
    pids+=($!)
    checks='{"credential_rotation_overlap": "1h", "credential_rotation_consumer_checks": ["http://127.0.0.1:'"$consumer_port"'/kid"]}'
    run consumers-old 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e "$checks"
    grep -q "consumer checks: http://127.0.0.1:$consumer_port/kid uses the key $(current_kid)" \
        "$out/$name-consumers-old.log" || { echo "the run does not say which consumer uses the old key"; exit 1; }
    check waiting
    current_kid > "$work/consumer/kid"
    run consumers-new 0 -i "$work/inventory.yml" rotate.yml -e "$checks"
    grep -q 'every consumer check reports the new key .*, so the overlap window ends early' "$out/$name-consumers-new.log" \
        || { echo "the run does not say the consumers ended the window"; exit 1; }
    check after-window
}
