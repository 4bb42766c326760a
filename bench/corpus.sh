#!/usr/bin/env bash
# Build the standard benchmark corpus: the django, flask and fastapi wheels, unpacked.
#
#   bench/corpus.sh                        # download into .bench/wheels, unpack into .bench/corpus
#   WHEELHOUSE=/some/dir bench/corpus.sh   # copy wheels already downloaded there instead
#   PYTHON=/path/to/python bench/corpus.sh # interpreter whose pip downloads (default: python3)
#
# Idempotent: a wheel already in .bench/wheels is not downloaded again and a package already
# unpacked in .bench/corpus/<name> is left alone. Delete .bench/ to start over.
# Versions are pinned so that numbers from different days measure the same code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHEELS="$ROOT/.bench/wheels"
CORPUS="$ROOT/.bench/corpus"
PYTHON="${PYTHON:-python3}"
PACKAGES=(django==5.2.19 flask==3.1.3 fastapi==0.165.0)

mkdir -p "$WHEELS" "$CORPUS"

for spec in "${PACKAGES[@]}"; do
    name="${spec%%==*}"
    version="${spec##*==}"
    pattern="${name}-${version}-*.whl"
    # shellcheck disable=SC2086  # the glob is meant to expand
    wheel="$(compgen -G "$WHEELS/$pattern" | head -n 1 || true)"
    if [[ -z "$wheel" && -n "${WHEELHOUSE:-}" ]]; then
        found="$(compgen -G "$WHEELHOUSE/$pattern" | head -n 1 || true)"
        if [[ -n "$found" ]]; then
            echo "copying $(basename "$found") from $WHEELHOUSE"
            cp "$found" "$WHEELS/"
            wheel="$WHEELS/$(basename "$found")"
        fi
    fi
    if [[ -z "$wheel" ]]; then
        echo "downloading $spec"
        "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$spec"
        wheel="$(compgen -G "$WHEELS/$pattern" | head -n 1)"
    fi
    if [[ -d "$CORPUS/$name" ]]; then
        echo "$name: already unpacked"
        continue
    fi
    echo "unpacking $(basename "$wheel") into .bench/corpus/$name"
    # Unpack into a temporary folder first so an interrupted run never leaves half a package.
    tmp="$(mktemp -d "$CORPUS/.unpack.XXXXXX")"
    "$PYTHON" -m zipfile -e "$wheel" "$tmp"
    mv "$tmp" "$CORPUS/$name"
done

# .bench/ is git-ignored, and fixit (through trailrunner) drops every file that matches the
# .gitignore of the nearest folder holding a pyproject.toml or .git, even files named
# explicitly. A pyproject.toml here makes the corpus its own project, so fixit lints it,
# with its default rules and no configuration inherited from pystd's own pyproject.toml.
if [[ ! -f "$CORPUS/pyproject.toml" ]]; then
    printf '[tool.fixit]\nroot = true\n' >"$CORPUS/pyproject.toml"
fi

echo "corpus ready: $CORPUS"
