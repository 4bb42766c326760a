#!/usr/bin/env bash
# Precision survey: run `pystd check` over real projects from PyPI and count findings per rule.
#
#   bench/precision.sh bench/precision/django-flask.txt   # one `name==version` per line
#   SELECT=ALL bench/precision.sh LIST                     # every rule, not the defaults
#
# Each project's source distribution (its wheel when PyPI has no sdist) is downloaded into
# .bench/precision/dl and unpacked into .bench/precision/src/<name>; the findings go to
# .bench/precision/<name>.json (pystd's JSON format) and a count per rule is printed.
# The verdicts (true or false positive, read by a person) live beside the list, in the
# matching .md file. Idempotent: downloaded and unpacked projects are reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIST="${1:?usage: bench/precision.sh LIST}"
OUT="$ROOT/.bench/precision"
PYTHON="${PYTHON:-python3}"
PYSTD="${PYSTD:-$ROOT/.venv/bin/pystd}"
mkdir -p "$OUT/dl" "$OUT/src"

while read -r spec _; do
    [[ -z "$spec" || "$spec" == \#* ]] && continue
    name="${spec%%==*}"
    dest="$OUT/src/$name"
    # A folder unpacked for another version of the project (or before the spec was
    # recorded) is fetched again, so the findings always belong to the pinned version.
    if [[ -d "$dest" && "$(cat "$dest/.precision-spec" 2>/dev/null)" != "$spec" ]]; then
        rm -rf "$dest"
    fi
    if [[ ! -d "$dest" ]]; then
        tmp="$(mktemp -d "$OUT/dl/.get.XXXXXX")"
        if ! "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
                --dest "$tmp" "$spec" 2>/dev/null; then
            "$PYTHON" -m pip download --quiet --no-deps --only-binary :all: --dest "$tmp" "$spec"
        fi
        archive="$(find "$tmp" -maxdepth 1 -type f | head -n 1)"
        unpack="$(mktemp -d "$OUT/src/.unpack.XXXXXX")"
        case "$archive" in
            *.tar.gz|*.tgz) tar -xzf "$archive" -C "$unpack" ;;
            *) "$PYTHON" -m zipfile -e "$archive" "$unpack" ;;
        esac
        mv "$archive" "$OUT/dl/"
        rm -rf "$tmp"
        echo "$spec" >"$unpack/.precision-spec"
        mv "$unpack" "$dest"
    fi
    # Exit 1 means "findings", which is what we are here for.
    # --select: what a repository without pystd configuration gets (SELECT=ALL for every
    # rule); without it, pystd's own pyproject.toml above .bench/ would choose the rules.
    (cd "$OUT/src" && "$PYSTD" check "$name" --select "${SELECT:-DEFAULT}" --no-cache \
        --format json >"$OUT/$name.json") || [[ $? -eq 1 ]]
    "$PYTHON" - "$OUT/$name.json" "$spec" <<'EOF'
import collections, json, sys
findings = json.load(open(sys.argv[1]))
counts = collections.Counter(f["code"] for f in findings)
print(f"{sys.argv[2]}: {len(findings)} findings " + " ".join(
    f"{code}={n}" for code, n in sorted(counts.items())))
EOF
done <"$LIST"
