#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2154
# (SC2034, SC2154: variables shared with ../auth0_common/tasks/store_lib.sh, which this sources)
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
name=credential_rotation_vault store=vault probe_key=vault:apps/billing
# shellcheck source=../auth0_common/tasks/store_lib.sh
. ../auth0_common/tasks/store_lib.sh
bao=$bindir/bao
[ -x "$bao" ] || bao=$(command -v bao)
port=$(free_port)
root_token=$(python -c 'import secrets; print("root-" + secrets.token_urlsafe(18))')
needles+=("$root_token")
"$bao" server -dev -dev-root-token-id="$root_token" -dev-listen-address="127.0.0.1:$port" > "$out/$name-bao.log" 2>&1 &
pids+=($!)
export VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN="$root_token"
wait_for "$VAULT_ADDR/v1/sys/health" "$out/$name-bao.log" "OpenBao"
auth0_environment

rotate_and_resume
stops_at_registration_and_retirement
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
VAULT_ADDR="http://127.0.0.1:$(free_port)" run unreachable 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
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
needles+=("$read_token")
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
consumer_checks
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
