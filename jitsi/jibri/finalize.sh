#!/usr/bin/env bash
# Jibri's finalize script for Interview Room: tell the app that a recording folder is complete.
#
#   finalize.sh RECORDING_DIR
#
# Jibri runs it when a recording ends, with `<recordings dir>/<session id>` as the only argument.
# It reads metadata.json there (meeting_url, participants), lists every other file with its size
# and SHA-256, and POSTs one JSON notice to $INTERVIEW_APP_URL/hooks/jibri, signed with
#   X-Jibri-Signature: sha256=<hex HMAC-SHA256 of the body with $JIBRI_WEBHOOK_SECRET>
# The app then pulls each file from $JIBRI_RECORDINGS_URL/<session id>/<file> (the app's setting:
# this host must serve its recordings folder over HTTP, see jitsi/README.md).
#
# Needs: bash, curl, sha256sum (coreutils), stat, and python3 or openssl for the HMAC.
# Settings (environment, or a file of VAR=value lines named by $FINALIZE_ENV_FILE, default
# /etc/jitsi/jibri/finalize.env, read first when it exists):
#   INTERVIEW_APP_URL      e.g. https://interview.example.org  (required)
#   JIBRI_WEBHOOK_SECRET   the same secret as the app's        (required)
#   FINALIZE_ATTEMPTS      tries before giving up (default 6)
#   FINALIZE_RETRY_DELAY   seconds before the 2nd try, doubled each time (default 5)
# Exit status: 0 once the app answered 2xx; 1 if it never did; 2 on bad usage or settings.
# Running it again on the same folder is safe: the app stores each file once.

set -euo pipefail

log() { printf 'finalize.sh: %s\n' "$*" >&2; }

ENV_FILE="${FINALIZE_ENV_FILE:-/etc/jitsi/jibri/finalize.env}"
if [[ -f "$ENV_FILE" ]]; then
  # shellcheck disable=SC1090
  set -a; . "$ENV_FILE"; set +a
fi

if [[ $# -ne 1 || ! -d "$1" ]]; then
  log "usage: finalize.sh RECORDING_DIR (a folder Jibri wrote)"
  exit 2
fi
: "${INTERVIEW_APP_URL:?INTERVIEW_APP_URL is not set}"
: "${JIBRI_WEBHOOK_SECRET:?JIBRI_WEBHOOK_SECRET is not set}"
ATTEMPTS="${FINALIZE_ATTEMPTS:-6}"
DELAY="${FINALIZE_RETRY_DELAY:-5}"

DIR="${1%/}"
SESSION_ID="$(basename "$DIR")"

json_string() {
  # A JSON string literal for $1: escape backslash and quote; control characters are refused by
  # the app, and Jibri's names never contain them.
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

metadata="null"
if [[ -s "$DIR/metadata.json" ]]; then
  metadata="$(cat "$DIR/metadata.json")"
  if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import json,sys; json.load(sys.stdin)' <"$DIR/metadata.json" 2>/dev/null; then
    log "metadata.json is not valid JSON; sending the files without it"
    metadata="null"
  fi
else
  log "no metadata.json in $DIR; the app will take the room from the file names"
fi

files=""
count=0
shopt -s nullglob
for path in "$DIR"/*; do
  name="$(basename "$path")"
  [[ -f "$path" && "$name" != "metadata.json" && "$name" != .* ]] || continue
  size="$(stat -c %s "$path")"
  sum="$(sha256sum "$path" | cut -d' ' -f1)"
  files+="${files:+,}{\"name\":$(json_string "$name"),\"size\":$size,\"sha256\":\"$sum\"}"
  count=$((count + 1))
done
if [[ $count -eq 0 ]]; then
  log "no recording files in $DIR; nothing to announce"
  exit 1
fi

body_file="$(mktemp)"
response_file="$(mktemp)"
trap 'rm -f "$body_file" "$response_file"' EXIT
printf '{"session_id":%s,"metadata":%s,"files":[%s]}' "$(json_string "$SESSION_ID")" "$metadata" "$files" >"$body_file"

if command -v python3 >/dev/null 2>&1; then
  # The secret travels in the environment, not on a command line other users can read.
  signature="$(python3 -c 'import hashlib,hmac,os,sys; print(hmac.new(os.environ["JIBRI_WEBHOOK_SECRET"].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())' <"$body_file")"
elif command -v openssl >/dev/null 2>&1; then
  signature="$(openssl dgst -sha256 -hmac "$JIBRI_WEBHOOK_SECRET" <"$body_file" | awk '{print $NF}')"
else
  log "needs python3 or openssl to sign the notice"
  exit 2
fi

url="${INTERVIEW_APP_URL%/}/hooks/jibri"
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  status="$(curl -sS -o "$response_file" -w '%{http_code}' --connect-timeout 10 --max-time 60 \
    -X POST -H 'Content-Type: application/json' -H "X-Jibri-Signature: sha256=$signature" \
    --data-binary "@$body_file" "$url" || true)"
  case "$status" in
    2??)
      log "notified $url about $count file(s) of $SESSION_ID (HTTP $status)"
      exit 0 ;;
    4??)
      if [[ "$status" != "408" && "$status" != "429" ]]; then
        # The app read the notice and refused it: sending it again would change nothing.
        log "the app refused the notice (HTTP $status): $(head -c 500 "$response_file")"
        exit 1
      fi ;;
  esac
  log "attempt $attempt/$ATTEMPTS: no 2xx from $url (HTTP ${status:-none})"
  if ((attempt < ATTEMPTS)); then
    sleep "$DELAY"
    DELAY=$((DELAY * 2))
  fi
done
log "gave up: the app never accepted the notice for $SESSION_ID; run this script again later"
exit 1
