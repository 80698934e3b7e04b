#!/usr/bin/env bash
# Update a deployed stack with the answers its guided deploy saved, never the repository's defaults.
#
#   scripts/update.sh                                  # [default] of samconfig.local.toml (us-east-1)
#   scripts/update.sh --config-env eu                  # [eu]: the Europe and India stack
#   scripts/update.sh --config-env fe                  # [fe]: the Far East stack
#   scripts/update.sh --set AlexaRedirectUrls="https://pitangui.amazon.com/...,https://layla.amazon.com/...,https://alexa.amazon.co.jp/..."
#   scripts/update.sh --dry-run                        # show what would be deployed, deploy nothing
#
# Options: --config-file FILE (samconfig.local.toml), --config-env ENV (default), --set NAME=VALUE
# (repeatable), --no-build, --dry-run; anything after -- goes to `sam deploy` as it is.
#
# Why: `scripts/sam.sh deploy` alone reads samconfig.toml, whose parameters are the repository's
# defaults (LIFX only): it would switch a Hue, SwitchBot or Govee stack back to LIFX and delete its
# queues. This script
#   1. refuses an environment that is not a saved guided deploy (no SkillId in its
#      parameter_overrides), and one that names parameters template.yaml does not have;
#   2. with --set, writes the new values into the saved file first (the rest kept), so that the
#      next update keeps them too: never pass --parameter-overrides to a deploy from a saved file,
#      it would replace every saved parameter for that run;
#   3. builds (sam build), then runs `sam deploy --config-file FILE --config-env ENV`, adding the
#      tags of samconfig.toml and --no-fail-on-empty-changeset when the saved file has neither
#      (a guided save keeps neither: without tags an update would remove the stack's tags).
# Parameters the saved file does not name (added to the template since) keep their deployed value.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SAM_SH="${SAM_SH:-$ROOT/scripts/sam.sh}"   # tests replace sam with a recorder
CONFIG_FILE="samconfig.local.toml"
CONFIG_ENV="default"
BUILD=1
DRY_RUN=0
SETS=()
EXTRA=()

die() { echo "scripts/update.sh: $*" >&2; exit 2; }

while (($#)); do
    case "$1" in
        --config-file) CONFIG_FILE="${2:?--config-file needs a file}"; shift 2 ;;
        --config-file=*) CONFIG_FILE="${1#*=}"; shift ;;
        --config-env) CONFIG_ENV="${2:?--config-env needs an environment}"; shift 2 ;;
        --config-env=*) CONFIG_ENV="${1#*=}"; shift ;;
        --set) SETS+=("${2:?--set needs NAME=VALUE}"); shift 2 ;;
        --set=*) SETS+=("${1#*=}"); shift ;;
        --no-build) BUILD=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --parameter-overrides*) die "not with --parameter-overrides (it would replace every saved parameter for this run): use --set NAME=VALUE" ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; EXTRA+=("$@"); break ;;
        *) die "unknown option $1 (sam deploy options go after --)" ;;
    esac
done

pick_python() {
    local candidate
    for candidate in "${PYTHON:-}" "$ROOT/.venv/bin/python" python3 python3.13 python3.12 python3.11; do
        [[ -n "$candidate" ]] || continue
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import tomllib' >/dev/null 2>&1; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}
PY="$(pick_python)" || die "needs Python 3.11+ (tomllib) to read $CONFIG_FILE"

[[ "$CONFIG_FILE" = /* ]] || CONFIG_FILE="$ROOT/$CONFIG_FILE"
TEMPLATE="$ROOT/template.yaml"

if ((${#SETS[@]})); then
    if ((DRY_RUN)); then
        echo "scripts/update.sh: --dry-run: would save ${SETS[*]} into [$CONFIG_ENV] of $CONFIG_FILE" >&2
    else
        "$PY" "$ROOT/scripts/saved_config.py" set "$CONFIG_FILE" "$CONFIG_ENV" "$TEMPLATE" "${SETS[@]}" >/dev/null \
            || exit 2
        echo "scripts/update.sh: saved ${#SETS[@]} value(s) into [$CONFIG_ENV] of $CONFIG_FILE (previous: $(dirname "$CONFIG_FILE")/.aws-sam/$(basename "$CONFIG_FILE").bak)" >&2
    fi
fi

SUMMARY="$("$PY" "$ROOT/scripts/saved_config.py" check "$CONFIG_FILE" "$CONFIG_ENV" "$TEMPLATE")" || exit 2
read_summary() { "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$SUMMARY" "$1"; }

DEPLOY=(deploy --config-file "$CONFIG_FILE" --config-env "$CONFIG_ENV")
if [[ "$(read_summary has_tags)" != True ]]; then
    TAGS="$("$PY" -c 'import sys, tomllib; c = tomllib.load(open(sys.argv[1], "rb")); e = sys.argv[2]
print(((c.get(e) or c.get("default") or {}).get("deploy") or {}).get("parameters", {}).get("tags", ""))' \
        "$ROOT/samconfig.toml" "$CONFIG_ENV")"
    [[ -z "$TAGS" ]] || DEPLOY+=(--tags "$TAGS")
fi
[[ "$(read_summary has_fail_on_empty_changeset)" == True ]] || DEPLOY+=(--no-fail-on-empty-changeset)
DEPLOY+=("${EXTRA[@]+"${EXTRA[@]}"}")

echo "scripts/update.sh: stack $(read_summary stack_name) in $(read_summary region), parameters of [$CONFIG_ENV] in $CONFIG_FILE:" >&2
read_summary '"\n".join(f"  {k} = {v}" for k, v in parameters.items())' >&2
UNNAMED="$(read_summary '", ".join(unnamed)')"
[[ -z "$UNNAMED" ]] || echo "scripts/update.sh: not saved, so kept as deployed: $UNNAMED" >&2

if ((DRY_RUN)); then
    ((BUILD)) && printf '%q ' "$SAM_SH" build && echo
    printf '%q ' "$SAM_SH" "${DEPLOY[@]}"; echo
    exit 0
fi
if ((BUILD)); then
    "$SAM_SH" build
fi
exec "$SAM_SH" "${DEPLOY[@]}"
