#!/usr/bin/env bash
# Run the auth0_client_credential tests at -vvvv with --diff, then check that no secret reached the output.
set -eu -o pipefail
config=../../integration_config.yml
log="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}/auth0_client_credential.log"
if ! ANSIBLE_ROLES_PATH=.. ansible-playbook -i "${INVENTORY_PATH:-localhost,}" runme.yml -e "@${config}" -vvvv --diff "$@" > "$log" 2>&1; then
    grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$log" | tail -n 80
    echo "auth0_client_credential failed; full output in $log"
    exit 1
fi
grep -A3 'PLAY RECAP' "$log"
../auth0_common/tasks/leak_check.sh "$log" "$config"
