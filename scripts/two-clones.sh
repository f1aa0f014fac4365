#!/usr/bin/env bash
# Copyright: (c) 2026, keyops.auth0 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Two runs of `make test` side by side on this machine: HEAD cloned twice into a temporary folder,
# each clone with its own empty HOME, both started at once. Both must pass: the suites share no
# fixed path and no fixed port. Prints each run's suite-time table; exits 0 only when both passed.
#
#   scripts/two-clones.sh            # from anywhere in a checkout
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/keyops-two-clones.XXXXXX")
pids=()

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    for pid in "${pids[@]}"; do
        kill -- "-$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

for n in 1 2; do
    git clone --quiet --no-local "$repo" "$work/clone$n"
    git -C "$work/clone$n" checkout --quiet "$head"
    mkdir "$work/home$n"
done

echo "two-clones: HEAD $head, in $work"
for n in 1 2; do
    # a session of its own, so that cleanup can end the run and everything it started; the
    # single-quoted script gets its paths as arguments
    # shellcheck disable=SC2016
    setsid bash -c 'cd "$1" && HOME="$2" make test > "$3" 2>&1; echo $? > "$4"' _ \
        "$work/clone$n" "$work/home$n" "$work/run$n.log" "$work/rc$n" < /dev/null &
    pids+=("$!")
    echo "two-clones: run $n started at $(date -u +%H:%M:%S)"
done
wait "${pids[@]}" || true
pids=()

status=0
for n in 1 2; do
    rc=$(cat "$work/rc$n" 2>/dev/null || echo missing)
    echo
    echo "two-clones: run $n exited $rc; the end of its output:"
    tail -n 16 "$work/run$n.log"
    if [ "$rc" != 0 ]; then
        status=1
        echo "two-clones: run $n FAILED; the failed suites' output:"
        awk '/^===== .*: FAILED/{show=1} show{print} /^===== end of/{show=0}' "$work/run$n.log"
    fi
done
if [ "$status" = 0 ]; then
    echo "two-clones: both runs passed"
else
    echo "two-clones: a run failed"
fi
exit "$status"
