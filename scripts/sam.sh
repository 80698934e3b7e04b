#!/usr/bin/env bash
# AWS SAM CLI from its own tool environment, with python3.13 (the Lambda runtime) for `sam build`.
#
#   scripts/sam.sh install        create .tools/sam (aws-sam-cli in its own venv: its pins would
#                                 fight the app's dependencies in .venv)
#   scripts/sam.sh check          what `make test` runs: `sam validate --lint` on template.yaml and
#                                 every infra/*.yaml, then `sam build`, each step timed
#   scripts/sam.sh python313      print the python3.13 interpreter sam build will use
#   scripts/sam.sh ARGS...        any sam command: scripts/sam.sh build, scripts/sam.sh deploy --guided,
#                                 scripts/sam.sh local invoke Entrypoint/EntrypointFunction -e events/Discover.json
#
# python3.13 is looked up at run time, never hard-coded: $PYTHON313, then python3.13 on PATH, then
# pyenv's versions (the newest 3.13.x), then `uv python find 3.13`. Its directory goes first on PATH
# and PYTHON313 is exported for infra/lambda/Makefile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${SAM_TOOL_DIR:-$ROOT/.tools/sam}"
SAM_CLI_SPEC="${SAM_CLI_SPEC:-aws-sam-cli>=1.130,<2}"
BASE_PYTHON="${PYTHON:-python3}"
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_UPDATE_CHECK=1  # no phoning home

die() { echo "scripts/sam.sh: $*" >&2; exit 1; }

install_sam() {
    if [[ -x "$TOOLS/bin/sam" ]] && "$TOOLS/bin/sam" --version >/dev/null 2>&1; then
        return 0
    fi
    command -v "$BASE_PYTHON" >/dev/null || die "no $BASE_PYTHON to create $TOOLS (set PYTHON=...)"
    echo "scripts/sam.sh: installing $SAM_CLI_SPEC into $TOOLS" >&2
    rm -rf "$TOOLS"
    "$BASE_PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "$SAM_CLI_SPEC"
    "$TOOLS/bin/sam" --version >&2
}

# Print the real path of a python3.13 that runs (a pyenv shim may exist and still fail).
is_313() { [[ -n "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; }
find_python313() {
    local candidate
    for candidate in "${PYTHON313:-}" "$(command -v python3.13 2>/dev/null || true)"; do
        if is_313 "$candidate"; then "$candidate" -c 'import sys; print(sys.executable)'; return 0; fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root)"
        while read -r candidate; do
            if is_313 "$candidate"; then echo "$candidate"; return 0; fi
        done < <(ls -d "$root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV)
    fi
    if command -v uv >/dev/null 2>&1; then
        candidate="$(uv python find 3.13 2>/dev/null || true)"
        if is_313 "$candidate"; then echo "$candidate"; return 0; fi
    fi
    return 1
}

use_python313() {
    local python
    python="$(find_python313)" || die "sam build needs python3.13 (the Lambda runtime): none found.
  Install one (e.g. 'pyenv install 3.13' or 'uv python install 3.13') or set PYTHON313=/path/to/python3.13."
    export PYTHON313="$python"
    export PATH="$(dirname "$python"):$PATH"
}

sam() { "$TOOLS/bin/sam" "$@"; }

# Offline, account-free settings for the checks: a region, dummy credentials, no instance metadata.
offline() {
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check \
        AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true "$@"
}

timed() {  # timed LABEL CMD...: run, print how long it took
    local label="$1" start end
    shift
    start=$(date +%s)
    "$@"
    end=$(date +%s)
    echo "scripts/sam.sh: $label: $((end - start)) s" >&2
}

check() {
    cd "$ROOT"
    local template total_start start logs failed=0
    total_start=$(date +%s)
    # sam validate --lint on every template, as many at once as there are CPUs
    start=$(date +%s)
    logs="$(mktemp -d)"
    local -a pids=() templates=(template.yaml infra/*.yaml)
    local max_jobs
    max_jobs="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
    for template in "${templates[@]}"; do
        while (( $(jobs -rp | wc -l) >= max_jobs )); do sleep 0.2; done
        offline "$TOOLS/bin/sam" validate --lint --region us-east-1 -t "$template" \
            >"$logs/$(basename "$template").log" 2>&1 &
        pids+=($!)
    done
    for i in "${!templates[@]}"; do
        if ! wait "${pids[$i]}"; then
            failed=1
            echo "scripts/sam.sh: sam validate --lint ${templates[$i]} FAILED:" >&2
        fi
        cat "$logs/$(basename "${templates[$i]}").log" >&2
    done
    rm -rf "$logs"
    [[ $failed == 0 ]] || die "sam validate --lint failed"
    echo "scripts/sam.sh: sam validate --lint (${#templates[@]} templates): $(($(date +%s) - start)) s" >&2
    use_python313
    timed "sam build (python $("$PYTHON313" -c 'import platform; print(platform.python_version())'))" \
        offline "$TOOLS/bin/sam" build --template template.yaml
    echo "scripts/sam.sh: template checks passed in $(($(date +%s) - total_start)) s" >&2
}

case "${1:-}" in
    install) install_sam ;;
    check) install_sam; check ;;
    python313) find_python313 || die "no python3.13 found" ;;
    "") die "usage: scripts/sam.sh install | check | python313 | <sam arguments>" ;;
    *)
        install_sam
        cd "$ROOT"
        if [[ "$1" == build || ( "$1" == local && "${2:-}" != generate-event ) || "$1" == sync ]]; then
            use_python313
        fi
        sam "$@"
        ;;
esac
