#!/usr/bin/env bash
# The check step of pystd's GitHub Action (action.yml): `pystd check` on what the pull
# request changed, as workflow commands (annotations on the changed lines), and optionally
# a SARIF file for code scanning. Inputs come as environment variables:
#   PYSTD_PATHS   folders or files to check (space-separated; default .)
#   PYSTD_BASE    the pull request's base commit; empty: check the whole tree
#   PYSTD_ARGS    more options for `pystd check` (--select ..., --config ...)
#   PYSTD_SARIF   a file to write SARIF to as well (empty: none)
# Exits as `pystd check` does: 1 when findings reach the configured fail-on gate.
set -euo pipefail

read -r -a paths <<<"${PYSTD_PATHS:-.}"
read -r -a extra <<<"${PYSTD_ARGS:-}"
diff=()
if [[ -n "${PYSTD_BASE:-}" ]]; then
    # actions/checkout fetches one commit unless told otherwise; --diff needs the merge
    # base of the base commit and HEAD, so fetch the history it needs.
    if [[ "$(git rev-parse --is-shallow-repository)" == "true" ]]; then
        git fetch --quiet --no-tags --unshallow origin
    fi
    if ! git cat-file -e "${PYSTD_BASE}^{commit}" 2>/dev/null; then
        git fetch --quiet --no-tags origin "$PYSTD_BASE"
    fi
    diff=(--diff "$PYSTD_BASE")
fi

status=0
pystd check "${paths[@]}" "${diff[@]}" "${extra[@]}" --format github || status=$?
if [[ $status -gt 1 ]]; then
    exit "$status"  # a usage or configuration error, already explained on stderr
fi
if [[ -n "${PYSTD_SARIF:-}" ]]; then
    pystd check "${paths[@]}" "${diff[@]}" "${extra[@]}" --format sarif --exit-zero \
        --output-file "$PYSTD_SARIF"
    echo "sarif-file=$PYSTD_SARIF" >>"${GITHUB_OUTPUT:-/dev/null}"
fi
exit "$status"
