#!/usr/bin/env bash
# The credential_rotation role with the vault destination: the client's key is a secret of a KV v2 mount in an
# OpenBao dev server (started here on a free loopback port, stopped at the end by its PID), written from the
# controller's memory. store_check.py computes every kid from the keys it reads from the store.
# 1. a forced run rotates: the secret's new version holds the new key and names its credential, the previous
#    version the first key, nothing stays staged, Auth0 holds only the new credential;
# 2. a plain run then changes nothing (no new version);
# 3. a forced run whose proof of the new key Auth0 throttles stops after staging and registering: the secret's
#    current version is untouched, the new key is staged in the store and enabled beside the old one;
# 4. a plain run resumes it with the staged key (no second new credential) and retires the old one;
# 5. stopped at the registration, the key stays staged in the store and the next run registers it; stopped at the
#    retirement, the store holds the new key and the next run retires; a missing mount, a KV version 1 mount, an
#    address nobody answers, a store that throttles and a token that may only read are refused naming the secret,
#    before Auth0 learns of any new key;
# 6. with credential_rotation_overlap 1h, a rotation writes the new key as current and keeps the old credential
#    enabled; a run inside the window changes nothing, writes no run marker and says until when; once Auth0's
#    clock (the emulator's, moved by its admin API) is past the window, a run retires the old credential; inside
#    the window of a later rotation, a forced run retires the old credential at once;
# 7. with a consumer check (a URL that answers the kid an application uses), a run inside the window waits while
#    the consumer names the old key and retires the old credential as soon as it names the new one.
# An application that reads its key from the store every 0.5 s and asks the emulator for a token (tests/probe)
# runs through the rotation and through the overlap window: none of its requests may fail.
# Every run is made at -vvvv with --diff; neither a private key nor the store's token may reach the output.
set -eu -o pipefail
config=../../integration_config.yml
out="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}"
work=$(mktemp -d)
bao_pid=
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
    python "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keyops/auth0/tests/probe/fleet_probe.py" --key vault:apps/billing --client-id "$client_id" --url "$(value auth0_emulator_url)" \
        --audience "$(value auth0_emulator_management_audience)" --ca "$(value auth0_emulator_ca_path)" \
        --interval 0.5 --out "$work/probe-$1.json" > "$out/credential_rotation_vault-probe-$1.log" 2>&1 &
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
consumer_pid=
cleanup() { clock 0 || true; if [ -n "$consumer_pid" ]; then kill "$consumer_pid" 2>/dev/null || true; fi; if [ -n "$probe_pid" ]; then kill "$probe_pid" 2>/dev/null || true; fi; if [ -n "$bao_pid" ]; then kill "$bao_pid" 2>/dev/null || true; wait "$bao_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
value() { sed -n "s/^$1: //p" "$config" | tr -d '"'; }
python=$(command -v python)
bao=$(dirname "$(readlink -f "$python")")/bao
[ -x "$bao" ] || bao=$(command -v bao)
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
root_token=$(python -c 'import secrets; print("root-" + secrets.token_urlsafe(18))')
"$bao" server -dev -dev-root-token-id="$root_token" -dev-listen-address="127.0.0.1:$port" > "$out/credential_rotation_vault-bao.log" 2>&1 &
bao_pid=$!
export VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN="$root_token"
ready=
for _ in $(seq 100); do
    if python -c 'import os, urllib.request; urllib.request.urlopen(os.environ["VAULT_ADDR"] + "/v1/sys/health")' 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { tail -n 20 "$out/credential_rotation_vault-bao.log"; echo "OpenBao did not start"; exit 1; }
AUTH0_DOMAIN=$(value auth0_emulator_domain)
AUTH0_CA_PATH=$(value auth0_emulator_ca_path)
AUTH0_CLIENT_ID=$(value auth0_emulator_management_client_id)
AUTH0_CLIENT_SECRET=$(value auth0_emulator_management_client_secret)
export AUTH0_DOMAIN AUTH0_CA_PATH AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET
export ANSIBLE_ROLES_PATH=..

run() {  # run LABEL EXPECTED_RC ansible-playbook args...
    local label=$1 expected=$2 rc=0 log
    shift 2
    log="$out/credential_rotation_vault-$label.log"
    ansible-playbook "$@" -e "@${config}" -e "work_dir=${work}" -vvvv --diff > "$log" 2>&1 || rc=$?
    if [ "$rc" != "$expected" ]; then
        grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$log" | tail -n 60
        echo "credential_rotation_vault $label: rc $rc, expected $expected; full output in $log"
        exit 1
    fi
    ../auth0_common/tasks/leak_check.sh "$log" "$config"
    if grep -qF -- "$root_token" "$log" || { [ -n "${read_token:-}" ] && grep -qF -- "$read_token" "$log"; }; then
        echo "LEAK: the store's token in $log"
        exit 1
    fi
}
check() { python ../auth0_common/tasks/store_check.py vault "$1" "$work" "$config"; }

run setup 0 -i "${INVENTORY_PATH:?}" setup.yml
probe_start rotation
run rotate 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
check rotated
run again 0 -i "$work/inventory.yml" rotate.yml
check unchanged
run check-mode 0 -i "$work/inventory.yml" rotate.yml --check -e credential_rotation_force=true
grep -q 'would rotate to the key' "$out/credential_rotation_vault-check-mode.log" || { echo "check mode does not say it would rotate"; exit 1; }
check unchanged
probe_stop rotation
faults "$THROTTLE"
run stopped 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'throttled the request (rate limit) on every attempt' "$out/credential_rotation_vault-stopped.log" \
    || { echo "the stopped run does not name the throttling"; exit 1; }
check stopped
faults clear
run resume 0 -i "$work/inventory.yml" rotate.yml
check resumed
# stopped at the registration (Auth0 answers 500 to the credential's creation): the key stays staged in the store;
# the next run registers that key (read from the store) and finishes
faults '{"method": "POST", "path": "^/api/v2/clients/[^/]+/credentials$", "status": 500, "count": 20}'
run stopped-register 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
check staged-only
faults clear
run resume-register 0 -i "$work/inventory.yml" rotate.yml
check resumed
# stopped at the retirement (the PATCH that disables the old credential is refused): the store already holds the
# new key as current; the next run retires the old credential without writing the store again
faults '{"method": "PATCH", "path": "^/api/v2/clients/[^/]+$", "status": 500, "count": 20, "after": 2}'
run stopped-retire 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
check promoted-not-retired
faults clear
run finish-retire 0 -i "$work/inventory.yml" rotate.yml
check after-window
# a mount that does not exist: refused before Auth0 learns of a new key, naming the mount
run no-mount 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_vault_mount=nosuch
grep -q 'the token may use no mount nosuch at apps/billing' "$out/credential_rotation_vault-no-mount.log" \
    || { echo "the run does not say the mount is missing"; exit 1; }
check denied
# a KV version 1 mount: refused before anything is written (its writes would land where no consumer reads)
"$bao" secrets enable -path=kv1 -version=1 kv > /dev/null
run kv1 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_vault_mount=kv1
grep -q 'the mount kv1 is KV version 1, not a KV version 2 secret engine' "$out/credential_rotation_vault-kv1.log" \
    || { echo "the run does not refuse the KV version 1 mount"; exit 1; }
check denied
# an address nobody answers, and a store that throttles: refused before any change, naming the secret
VAULT_ADDR="http://127.0.0.1:$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
    run unreachable 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'vault:secret/apps/billing could not be reached while checking its mount' "$out/credential_rotation_vault-unreachable.log" \
    || { echo "the run does not name the unreachable store"; exit 1; }
"$bao" write sys/quotas/rate-limit/slow rate=1 interval=30s path=secret/ > /dev/null
run throttled-store 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
"$bao" delete sys/quotas/rate-limit/slow > /dev/null
grep -q 'vault:secret/apps/billing[.a-z]* throttled reading the [a-z]* (rate limit); run again later' "$out/credential_rotation_vault-throttled-store.log" \
    || { echo "the run does not say the store throttled it"; exit 1; }
check denied
# a token that may only read: staging fails before Auth0 learns of a new key
printf 'path "secret/*" { capabilities = ["read"] }\n' | "$bao" policy write read-only - > /dev/null
read_token=$("$bao" token create -policy=read-only -field=token)
VAULT_TOKEN="$read_token" run denied 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'vault:secret/apps/billing.next refused staging the new key: permission denied' "$out/credential_rotation_vault-denied.log" \
    || { echo "the refused run does not name the secret and the permission"; exit 1; }
check denied
# 6. the overlap window, measured by Auth0's clock
probe_start overlap
run overlap 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_overlap=1h
grep -q 'retired after the overlap window of the new key, at ' "$out/credential_rotation_vault-overlap.log" \
    || { echo "the rotation does not say the old credential waits for the overlap window"; exit 1; }
check waiting
run in-window 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_overlap=1h
grep -q 'waiting until .* to retire the earlier credential' "$out/credential_rotation_vault-in-window.log" \
    || { echo "a run inside the window does not say until when it waits"; exit 1; }
check in-window
probe_stop overlap
clock 3700
run after-window 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_overlap=1h
check after-window
clock 0
# a forced run inside the window finishes the rotation waiting there at once (and starts no new one)
run overlap-again 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_overlap=1h
check waiting
run forced-in-window 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_overlap=1h
grep -q 'finished the earlier rotation' "$out/credential_rotation_vault-forced-in-window.log" \
    || { echo "the forced run inside the window did not finish the rotation"; exit 1; }
check after-window
# consumer checks: the window ends early once every consumer says it uses the new key
mkdir "$work/consumer"
current_kid() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))["current_kid"])' "$work/last.json"; }
current_kid > "$work/consumer/kid"
consumer_port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python -m http.server --bind 127.0.0.1 --directory "$work/consumer" "$consumer_port" > "$out/credential_rotation_vault-consumer.log" 2>&1 &
consumer_pid=$!
checks='{"credential_rotation_overlap": "1h", "credential_rotation_consumer_checks": ["http://127.0.0.1:'"$consumer_port"'/kid"]}'
run consumers-old 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e "$checks"
grep -q "consumer checks: http://127.0.0.1:$consumer_port/kid uses the key $(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["current_kid"])' "$work/last.json")" \
    "$out/credential_rotation_vault-consumers-old.log" || { echo "the run does not say which consumer uses the old key"; exit 1; }
check waiting
current_kid > "$work/consumer/kid"
run consumers-new 0 -i "$work/inventory.yml" rotate.yml -e "$checks"
grep -q 'every consumer check reports the new key .*, so the overlap window ends early' "$out/credential_rotation_vault-consumers-new.log" \
    || { echo "the run does not say the consumers ended the window"; exit 1; }
check after-window
kill "$consumer_pid"
wait "$consumer_pid" 2>/dev/null || true
consumer_pid=
# a rotation resumed after its window (counted from the credential's creation) has passed still gives consumers the
# whole window from the moment it makes the key current, and records its end on the client for later runs
faults "$THROTTLE"
run stopped-window 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true -e credential_rotation_overlap=10s
check stopped
sleep 11
faults clear
run resume-window 0 -i "$work/inventory.yml" rotate.yml -e credential_rotation_overlap=10s
grep -q 'retired after the overlap window of the new key' "$out/credential_rotation_vault-resume-window.log" \
    || { echo "the resumed rotation retired the old credential without a window"; exit 1; }
check waiting-recorded
echo "credential_rotation_vault: every check passed"
