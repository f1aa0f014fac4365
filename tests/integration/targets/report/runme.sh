#!/usr/bin/env bash
# The report playbook (keyops.auth0.report) against seeded credentials at controlled dates (setup.yml):
# 1. report_format=json,csv and report_dir write both files; every seeded credential has its status (check.yml), and
#    with an inventory the destinations of its client's key;
# 2. in check mode nothing is written;
# 3. report_fail_on_due fails the play, naming the expired and the due credential, after writing the files;
#    it passes for a client whose credentials are all ok;
# 4. an unknown format, a number that is none and a flag that is none are refused, naming the option.
# Every run is made at -vvvv, and no secret may reach the output.
set -eu -o pipefail
config=../../integration_config.yml
out="${OUTPUT_DIR:?run through ansible-test: make integration TARGET=name}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
value() { sed -n "s/^$1: //p" "$config" | tr -d '"'; }
AUTH0_DOMAIN=$(value auth0_emulator_domain)
AUTH0_CA_PATH=$(value auth0_emulator_ca_path)
AUTH0_CLIENT_ID=$(value auth0_emulator_management_client_id)
AUTH0_CLIENT_SECRET=$(value auth0_emulator_management_client_secret)
export AUTH0_DOMAIN AUTH0_CA_PATH AUTH0_CLIENT_ID AUTH0_CLIENT_SECRET

run() {  # run LABEL EXPECTED_RC ansible-playbook args...
    local label=$1 expected=$2 rc=0
    shift 2
    ansible-playbook "$@" -vvvv > "$out/report-$label.log" 2>&1 || rc=$?
    if [ "$rc" != "$expected" ]; then
        grep -E '^(TASK|fatal|failed|FAILED|ERROR|\[ERROR\]|  "msg"|PLAY RECAP)' "$out/report-$label.log" | tail -n 60
        echo "report $label: rc $rc, expected $expected; full output in $out/report-$label.log"
        exit 1
    fi
    ../auth0_common/tasks/leak_check.sh "$out/report-$label.log" "$config"
}
ids() { python -c "import json,sys; print(json.load(open('$work/ids.json'))[sys.argv[1]])" "$1"; }

run setup 0 -i "${INVENTORY_PATH:?}" setup.yml -e "@${config}" -e "work_dir=${work}"
# 1. the files, for the whole tenant
# (with an inventory, the report names where each client's key goes)
run files 0 keyops.auth0.report -i "$work/inventory.yml" -e report_format=json,csv -e "report_dir=$work/out" -e report_max_age_days=365
run check 0 -i "${INVENTORY_PATH:?}" check.yml -e "work_dir=${work}"
[ ! -e "$work/out/auth0-credentials.md" ] || { echo "a Markdown file was written without being asked for"; exit 1; }
grep -qE '^expired +report-late \(' "$out/report-files.log" || { echo "the console table lacks the expired row"; exit 1; }
# 2. check mode writes nothing
run check-mode 0 keyops.auth0.report --check -e report_format=md -e "report_dir=$work/dry"
[ ! -e "$work/dry" ] || { echo "check mode wrote $work/dry"; exit 1; }
grep -q "would write $work/dry/auth0-credentials.md" "$out/report-check-mode.log" \
    || { echo "check mode does not say what it would write"; exit 1; }
# 3. fail on due: fails for report-late (expired and due), after writing the files; passes for report-ok
run fail-on-due 2 keyops.auth0.report -e report_fail_on_due=true -e "report_client_id=$(ids late)" -e report_max_age_days=365 \
    -e report_format=json -e "report_dir=$work/late"
grep -q '1 credential(s) expired and 1 due' "$out/report-fail-on-due.log" \
    || { echo "the failed play does not count the expired and the due credential"; exit 1; }
grep -q 'is 400 days old (max_age_days 365)' "$out/report-fail-on-due.log" || { echo "the failed play does not say why"; exit 1; }
[ -s "$work/late/auth0-credentials.json" ] || { echo "the failing play wrote no file before failing"; exit 1; }
run all-ok 0 keyops.auth0.report -e report_fail_on_due=true -e "report_client_id=$(ids ok)"
# 4. bad input
run bad-format 2 keyops.auth0.report -e report_format=json,xml -e "report_dir=$work/bad"
grep -q "formats: 'xml' is not a report format; use one or more of json, csv, md" "$out/report-bad-format.log" \
    || { echo "the unknown format is not named"; exit 1; }
[ ! -e "$work/bad" ] || { echo "a refused report wrote $work/bad"; exit 1; }
# a typo in a number is refused, not read as 0 (which would hide due credentials from report_fail_on_due)
run bad-days 2 keyops.auth0.report -e report_rotate_before_days=thirty -e report_fail_on_due=true
if ! grep -q "argument 'rotate_before_days' is of type str .*thirty" "$out/report-bad-days.log"; then
    echo "the bad number is not named"
    exit 1
fi
run bad-flag 2 keyops.auth0.report -e report_fail_on_due=treu
grep -q 'report_fail_on_due must be true or false, not \\"treu\\"' "$out/report-bad-flag.log" \
    || { echo "the bad report_fail_on_due is not named"; exit 1; }
echo "report: every check passed"
