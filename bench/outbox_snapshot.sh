#!/usr/bin/env bash
# The outbox a checkout publishes for a fixed town, to compare two versions byte for byte:
#   bench/outbox_snapshot.sh CODE_DIR HOME [DATABASE_URL]      (twice, then: diff -r HOME1/outbox HOME2/outbox)
# A 300-resident town, seed 11, written by `mimamori demo` and run day by day (2026-11-01..06) in process
# with fixed development keys (list entry ids are keyed), on SQLite or on the PostgreSQL database given.
# The code of CODE_DIR runs on this checkout's environment (PYTHON, default .venv/bin/python here).
set -euo pipefail
code=$(cd "$1" && pwd); home=$2; url=${3:-}
py=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}
export PYTHONPATH="$code:$code/demo" MIMAMORI_HOME="$home" MIMAMORI_ACTOR=compare
export MIMAMORI_PSEUDONYM_KEYS="p1:$(printf 'p%.0s' $(seq 32) | base64 -w0)"
export MIMAMORI_VAULT_KEYS="v1:$(printf 'v%.0s' $(seq 32) | base64 -w0)"
export MIMAMORI_AUDIT_KEYS="a1:$(printf 'a%.0s' $(seq 32) | base64 -w0)"
unset MIMAMORI_DATABASE_URL
[ -n "$url" ] && export MIMAMORI_DATABASE_URL="$url"
cli() { "$py" -c "from mimamori.cli import main; main()" "$@"; }
rm -rf "$home" "$home.truth.json" "$home.consents"
cli demo --residents 300 --days 6 --seed 11 --force --truth "$home.truth.json" >/dev/null
for d in 01 02 03 04 05 06; do cli run --date "2026-11-$d" >/dev/null; done
(cd "$home/outbox" && find . -type f | sort | xargs sha256sum | sha256sum)
