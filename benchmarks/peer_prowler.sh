#!/usr/bin/env bash
# Prowler beside eksaudit on the embedded demo account (issue #16): wall times, AWS API calls received by the
# moto server, and the practices of eksaudit/requirements.py each tool flags. One command:
#
#   bash benchmarks/peer_prowler.sh [--services eks ecr iam cloudtrail] [--json FILE]
#
# Prowler 5.x is installed from PyPI into benchmarks/.prowler-venv (git-ignored) on the first run and reused
# afterwards. eksaudit runs with the project's virtualenv: .venv/bin/python, or EKSAUDIT_PYTHON. Set
# PROWLER_PYTHON to choose the interpreter of Prowler's virtualenv (default python3; Prowler 5 needs 3.9-3.12).
# KEEP_WORK=1 keeps the scratch folder (pack, Prowler output, logs, moto's recording).
# Nothing goes to the internet: both tools see only the loopback moto endpoint (see benchmarks/peer_prowler.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/benchmarks/.prowler-venv"
PROWLER_PYTHON="${PROWLER_PYTHON:-python3}"
EKSAUDIT_PYTHON="${EKSAUDIT_PYTHON:-$ROOT/.venv/bin/python}"

die() { echo "peer_prowler: $*" >&2; exit 1; }

[ -x "$EKSAUDIT_PYTHON" ] || die "no eksaudit virtualenv at $EKSAUDIT_PYTHON (run 'make setup' or set EKSAUDIT_PYTHON)"
PYTHONPATH="$ROOT" "$EKSAUDIT_PYTHON" -c 'import moto, eksaudit' 2>/dev/null \
    || die "$EKSAUDIT_PYTHON cannot import eksaudit and moto (install '.[dev,demo]')"

if [ ! -x "$VENV/bin/prowler" ]; then
    command -v "$PROWLER_PYTHON" >/dev/null || die "no $PROWLER_PYTHON to build Prowler's virtualenv (set PROWLER_PYTHON)"
    "$PROWLER_PYTHON" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 12))' \
        || die "Prowler 5 needs Python 3.9-3.12; $PROWLER_PYTHON is $("$PROWLER_PYTHON" -V 2>&1) (set PROWLER_PYTHON)"
    echo "peer_prowler: installing Prowler 5.x into $VENV (a few minutes, once)" >&2
    rm -rf "$VENV"
    "$PROWLER_PYTHON" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check 'prowler>=5,<6' >"$ROOT/benchmarks/.prowler-install.log" 2>&1 \
        || { rm -rf "$VENV"; die "pip install prowler failed (see benchmarks/.prowler-install.log)"; }
    [ -x "$VENV/bin/prowler" ] || die "Prowler installed but $VENV/bin/prowler is missing"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/peer-prowler.XXXXXX")"
DRIVER=""
cleanup() {
    # The driver holds the moto server (a thread of its own process) and the tool it is running; TERM makes it
    # stop the tool (which may take it 20 s) and then the server, KILL if it has not within 30 s.
    if [ -n "$DRIVER" ] && kill -0 "$DRIVER" 2>/dev/null; then
        kill -TERM "$DRIVER" 2>/dev/null || true
        for _ in $(seq 60); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$DRIVER" 2>/dev/null || true
    fi
    if [ -n "${KEEP_WORK:-}" ]; then echo "peer_prowler: outputs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo "peer_prowler: interrupted" >&2; exit 130' INT
trap 'echo "peer_prowler: stopped" >&2; exit 143' TERM

cd "$ROOT"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$EKSAUDIT_PYTHON" "$ROOT/benchmarks/peer_prowler.py" \
    --prowler-venv "$VENV" --work "$WORK" "$@" &
DRIVER=$!
status=0
wait "$DRIVER" || status=$?
DRIVER=""
exit "$status"
