#!/usr/bin/env bash
# Build the demo's git repository: orders-service with a week of history whose last commit,
# "Add order history to /api/orders", brings the bug the incident-response demo investigates.
# A nested .git cannot be committed to wave-sandbox itself, hence this script.
#
# Usage: examples/make_demo_repo.sh [TARGET_DIR]     (default: examples/build/orders-service)
#
# The target is removed and rebuilt on every run. Author and committer names and dates are fixed and
# no user or system git config is read, so the commit ids are the same on every machine: the logs
# and the scripted model (incident-response.script.yaml) cite them.
set -euo pipefail

examples_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
source_dir="$examples_dir/orders-service"             # the service as of the last commit
earlier_dir="$examples_dir/orders-service-history"    # files as they were before the last commit
logs_dir="$examples_dir/logs"                         # production logs, copied in untracked
target="${1:-$examples_dir/build/orders-service}"
expected_head="42c379b"                               # cited by the logs and the scripted model

die() { echo "make_demo_repo.sh: $*" >&2; exit 1; }

# Refuse to wipe anything that is not an earlier build of this script (or empty).
check_target_is_replaceable() {
    case "$(basename -- "$target")" in
        / | . | ..) die "refusing to replace $target: name a directory to create" ;;
    esac
    if [[ "$target" == "$source_dir" || "$target" == "$examples_dir" ]]; then
        die "refusing to replace $target: it holds the demo's sources"
    fi
    if [[ -n "$(ls -A -- "$target" 2>/dev/null)" && ! ( -d "$target/.git" && -f "$target/orders/db.py" ) ]]; then
        die "$target exists and is not a demo repository; pass an empty or new directory"
    fi
}

# The target as an absolute path, its parent created.
absolute_target() {
    local parent
    parent="$(dirname -- "$target")"
    mkdir -p -- "$parent"
    parent="$(cd -- "$parent" && pwd -P)"
    echo "${parent%/}/$(basename -- "$target")"
}

# Git that ignores the user's and the system's config (signing, hooks, templates, default branch).
demo_git() {
    GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$target" XDG_CONFIG_HOME="$target/.no-config" \
        git -C "$target" -c core.autocrlf=false -c commit.gpgsign=false -c core.hooksPath=/dev/null "$@"
}

# put PATH...: copy files from the service's final sources into the target.
put() {
    local path
    for path in "$@"; do
        mkdir -p "$target/$(dirname "$path")"
        cp "$source_dir/$path" "$target/$path"
        chmod 0644 "$target/$path"
    done
}

# put_earlier PATH: the file as it was before the last commit.
put_earlier() {
    mkdir -p "$target/$(dirname "$1")"
    cp "$earlier_dir/$1" "$target/$1"
    chmod 0644 "$target/$1"
}

# commit "YYYY-MM-DD HH:MM:SS" "Name <email>" SUBJECT [BODY...]: commit the whole tree at that UTC time.
commit() {
    local when="$1 +0000" author="$2" name email
    name="${author% <*}"
    email="${author##*<}"
    email="${email%>}"
    shift 2
    local message_args=() paragraph
    for paragraph in "$@"; do message_args+=(-m "$paragraph"); done
    demo_git add -A
    GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$email" GIT_AUTHOR_DATE="$when" \
    GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$email" GIT_COMMITTER_DATE="$when" \
        demo_git commit -q --no-verify "${message_args[@]}"
}

build_history() {
    put .gitignore requirements.txt orders/__init__.py orders/__main__.py orders/app.py orders/db.py \
        orders/request.py orders/logging_format.py migrations/001_create_orders.sql
    put_earlier orders/handlers.py
    # The pool started at 5 connections; commit 5 raised it to today's 10.
    sed 's/"ORDERS_POOL_SIZE", "10"/"ORDERS_POOL_SIZE", "5"/' "$source_dir/orders/config.py" > "$target/orders/config.py"
    grep -q '"ORDERS_POOL_SIZE", "5"' "$target/orders/config.py" || die "orders/config.py no longer sets ORDERS_POOL_SIZE to \"10\""
    commit "2026-01-27 09:12:40" "Dana Whitfield <dana.whitfield@shop.example>" \
        "Initial orders service: WSGI app on SQLite" \
        "Routes /healthz and /api/orders (list, get, create), a fixed-size connection pool and numbered migrations."

    put tests/support.py tests/test_orders_api.py
    commit "2026-01-28 11:40:05" "Ravi Menon <ravi.menon@shop.example>" \
        "Add tests for the /api/orders endpoints" \
        "Run with: python3 -m unittest discover -s tests"

    put migrations/002_orders_status_index.sql
    commit "2026-01-29 16:05:51" "Sam Ortiz <sam.ortiz@shop.example>" \
        "Index orders.status for the fulfilment dashboard"

    put gunicorn.conf.py
    commit "2026-01-30 10:31:17" "Sam Ortiz <sam.ortiz@shop.example>" \
        "Add gunicorn config for production (gthread, 16 threads)" \
        "One worker process, since SQLite wants a single writer process; all log lines in UTC."

    put orders/config.py
    commit "2026-02-02 13:20:09" "Ravi Menon <ravi.menon@shop.example>" \
        "Raise the connection pool to 10 connections" \
        "At the lunch peak 16 gunicorn threads were queueing for 5 connections."

    put README.md
    commit "2026-02-03 15:47:33" "Dana Whitfield <dana.whitfield@shop.example>" \
        "Document routes, settings and local development"

    put orders/history.py orders/handlers.py tests/test_history.py
    commit "2026-02-04 14:15:00" "Priya Shah <priya.shah@shop.example>" \
        "Add order history to /api/orders" \
        "The mobile app's new \"My orders\" tab calls GET /api/orders?customer_id=N
and shows every order of the customer, newest first." \
        "Tested against the local fixture database."
}

# Production logs: ignored by the repo's .gitignore (logs/), visible at /src/logs in read-only steps.
copy_logs() {
    mkdir -p "$target/logs"
    cp "$logs_dir"/*.log "$target/logs/"
    chmod 0644 "$target/logs/"*.log
}

main() {
    command -v git >/dev/null || die "git is not installed"
    # Variables such as GIT_DIR or GIT_INDEX_FILE from the caller's environment would redirect git.
    unset $(git rev-parse --local-env-vars) GIT_CONFIG GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE \
        GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE
    target="$(absolute_target)"
    check_target_is_replaceable
    rm -rf -- "$target"
    mkdir -p "$target"
    # Keep the build out of wave-sandbox's own git status.
    if [[ "$target" == "$examples_dir/build/"* ]]; then echo '*' > "$examples_dir/build/.gitignore"; fi
    demo_git init -q --template=
    demo_git symbolic-ref HEAD refs/heads/main
    build_history
    copy_logs
    local head
    head="$(demo_git rev-parse --short=7 HEAD)"
    if [[ "$head" != "$expected_head" ]]; then
        echo "make_demo_repo.sh: warning: HEAD is $head, but the logs and the scripted model cite $expected_head;" \
             "update them after changing the service's sources" >&2
    fi
    echo "Demo repository ready at $target (HEAD $head, $(demo_git rev-list --count HEAD) commits)"
}

main
