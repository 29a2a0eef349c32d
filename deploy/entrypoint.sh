#!/bin/sh
# Container entrypoint: every VAR_FILE=/run/secrets/NAME in the environment (a docker secret) becomes VAR,
# so keys and passwords never sit in the compose file, the image or `docker inspect`; then runs the command.
# Other *_FILE variables (SSL_CERT_FILE, ...) are left as they are.
set -eu
SECRETS=${SECRETS_DIR:-/run/secrets}
for name in $(awk 'BEGIN { for (k in ENVIRON) if (k ~ /^[A-Za-z_][A-Za-z0-9_]*_FILE$/) print substr(k, 1, length(k) - 5) }'); do
    eval "file=\${${name}_FILE}"
    case "$file" in
        "$SECRETS"/*) ;;
        *) continue ;;
    esac
    if [ ! -r "$file" ]; then
        echo "entrypoint: ${name}_FILE points to ${file}, which cannot be read" >&2
        exit 1
    fi
    value=$(cat "$file")
    export "$name=$value"
    unset "${name}_FILE"
done
exec "$@"
