#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2154
# (SC2034, SC2154: variables shared with ../auth0_common/tasks/store_lib.sh, which this sources)
# The credential_rotation role with the aws_secretsmanager destination: the client's key is the AWSCURRENT version
# of a Secrets Manager secret in moto's server (started here on a free loopback port, stopped at the end by its
# PID), written from the controller's memory. store_check.py computes every kid from the keys it reads.
# 1. a forced run rotates: a new version labelled AWSCURRENT holds the new key, AWSPREVIOUS the first key, no
#    AWSPENDING version is left, Auth0 holds only the new credential;
# 2. a plain run then changes nothing;
# 3. a forced run whose proof of the new key Auth0 throttles stops after staging (AWSPENDING) and registering;
# 4. a plain run resumes it with the pending key (no second new credential) and retires the old one;
# 5. stopped at the registration, the key stays pending in the store and the next run registers it; stopped at the
#    retirement, the store holds the new key as AWSCURRENT and the next run retires;
# 6. with an endpoint nobody answers, one that keeps throttling (ThrottlingException, as AWS answers) or
#    credentials Secrets Manager does not know, a forced run fails naming the secret, before Auth0 learns of a new key;
# 7. with credential_rotation_overlap 1h, the old credential stays enabled until Auth0's clock (the emulator's,
#    moved by its admin API) is past the window (the vault target checks runs inside the window, the same engine);
# 8. with a consumer check (a URL that answers the kid an application uses), a run inside the window waits while
#    the consumer names the old key and retires the old credential as soon as it names the new one.
# An application that reads its key from the store every 0.5 s and asks the emulator for a token (tests/probe)
# runs through the rotation and through the overlap window: none of its requests may fail.
# Every run is made at -vvvv with --diff; neither a private key nor the AWS secret key may reach the output.
set -eu -o pipefail
name=credential_rotation_aws store=aws probe_key=aws:apps/billing
# shellcheck source=../auth0_common/tasks/store_lib.sh
. ../auth0_common/tasks/store_lib.sh
moto=$bindir/moto_server
[ -x "$moto" ] || moto=$(command -v moto_server)
port=$(free_port)
"$moto" -H 127.0.0.1 -p "$port" > "$out/$name-moto.log" 2>&1 &
pids+=($!)
aws_secret=$(python -c 'import secrets; print("aws-secret-" + secrets.token_urlsafe(24))')
needles+=("$aws_secret")
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIAKEYOPSTEST000001 AWS_SECRET_ACCESS_KEY="$aws_secret" \
    AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
wait_for "$AWS_ENDPOINT_URL/moto-api/" "$out/$name-moto.log" "moto's server"
auth0_environment

rotate_and_resume
stops_at_registration_and_retirement
# an endpoint nobody answers: the read fails, naming the secret, before any change
AWS_ENDPOINT_URL="http://127.0.0.1:$(free_port)" run unreachable 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'aws_secretsmanager:apps/billing could not be reached while reading the secret' "$out/credential_rotation_aws-unreachable.log" \
    || { echo "the failed run does not name the unreachable secret"; exit 1; }
check denied
# an endpoint that answers every call with ThrottlingException: refused once botocore's retries are spent
throttle_port=$(free_port)
python ../auth0_common/tasks/aws_throttling.py "$throttle_port" > "$out/$name-throttling.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$throttle_port/" "$out/$name-throttling.log" "the throttling endpoint" any
AWS_ENDPOINT_URL="http://127.0.0.1:$throttle_port" run throttled-store 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
grep -q 'aws_secretsmanager:apps/billing throttled reading the secret (Rate exceeded); run again later' "$out/$name-throttled-store.log" \
    || { echo "the run does not say the store throttled it"; exit 1; }
# the refusal came after botocore's own retries, not on the first answer
[ "$(grep -c '"POST / ' "$out/$name-throttling.log")" -ge 2 ] \
    || { echo "the throttled call was not retried before the run gave up"; cat "$out/$name-throttling.log"; exit 1; }
check denied
# credentials Secrets Manager does not know (moto's server that checks them, started here too): refused, naming it
auth_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=0 "$moto" -H 127.0.0.1 -p "$auth_port" > "$out/$name-moto-auth.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$auth_port/moto-api/" "$out/$name-moto-auth.log" "moto's checking server"
AWS_ENDPOINT_URL="http://127.0.0.1:$auth_port" run denied 2 -i "$work/inventory.yml" rotate.yml -e credential_rotation_force=true
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
consumer_checks
echo "credential_rotation_aws: every check passed"
