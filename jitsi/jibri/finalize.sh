#!/usr/bin/env bash
# Jibri's finalize script for Interview Room: tell the app that a recording folder is complete,
# without ever holding Jibri while the app is slow or away.
#
#   finalize.sh RECORDING_DIR       Jibri runs this when a recording ends
#   finalize.sh --deliver [--now]   one pass over the spool (--now: ignore the back-off)
#   finalize.sh --deliver-loop      deliver for ever (the jibri-spool service, see jitsi/README.md)
#
# RECORDING_DIR is `<recordings dir>/<session id>`. The script reads metadata.json there
# (meeting_url, participants), lists every other file with its size, SHA-256 and times on this
# host's clock, and writes one JSON notice into the spool (temp file + rename, so a notice is
# whole or absent). It then makes one quick try (FINALIZE_DIRECT_TIMEOUT) to POST it to
# $INTERVIEW_APP_URL/hooks/jibri, signed with
#   X-Jibri-Signature: sha256=<hex HMAC-SHA256 of the body with $JIBRI_WEBHOOK_SECRET>
# and returns: Jibri waits for this script, and a Jibri kept waiting cannot record the next room.
# A notice the app did not accept stays in the spool; the delivery loop retries it with back-off
# until the app answers 2xx (then it is removed), or moves it to the spool's dead/ folder if the
# app refuses it for good (4xx other than 408/429), with the answer in dead/<notice>.reason.
# Two deliverers on one spool (several Jibri, a loop and a direct try) never post the same notice
# at once: each takes a notice's lock first. The app stores each file once anyway.
# The app then pulls each file from $JIBRI_RECORDINGS_URL/<session id>/<file> (the app's setting:
# this host must serve its recordings folder over HTTP, see jitsi/README.md).
#
# Needs: bash, curl, sha256sum, stat, date, flock (util-linux), and python3 or openssl for the HMAC.
# Settings (environment, or a file of VAR=value lines named by $FINALIZE_ENV_FILE, read first
# when it exists; default /config/finalize.env, the jibri container's persistent volume, else
# /etc/jitsi/jibri/finalize.env for a Jibri installed from packages):
#   INTERVIEW_APP_URL          e.g. https://interview.example.org  (required to deliver)
#   JIBRI_WEBHOOK_SECRET       the same secret as the app's        (required to deliver)
#   FINALIZE_SPOOL_DIR         the spool (default /storage/finalize-spool: persistent, outside the
#                              recordings folder the app pulls from)
#   FINALIZE_DIRECT_TIMEOUT    seconds finalize.sh's own try may take (default 2)
#   FINALIZE_RETRY_DELAY       seconds before a notice's 2nd try, doubled each time (default 5)
#   FINALIZE_RETRY_MAX_DELAY   the longest wait between two tries (default 300)
#   FINALIZE_ATTEMPTS          tries after which each further failure is logged as ERROR
#                              (default 6); a notice is never dropped for failing to get through
#   FINALIZE_SPOOL_INTERVAL    seconds between two passes of --deliver-loop (default 5)
# Exit status of `finalize.sh RECORDING_DIR`: 0 once the notice is delivered or safe in the spool;
# 1 if there was nothing to announce, the app refused the notice for good, or it could be neither
# spooled nor delivered; 2 on bad usage or settings (a spooled notice still waits).
# Exit status of `--deliver`: 0 when every notice went through, 1 when some still wait (or were
# moved to dead/), 2 on bad settings.
# Running it again on the same folder is safe: the app stores each file once.

set -euo pipefail

log() { printf 'finalize.sh: %s\n' "$*" >&2; }

if [[ -n "${FINALIZE_ENV_FILE:-}" ]]; then
  ENV_FILE="$FINALIZE_ENV_FILE"
elif [[ -f /config/finalize.env ]]; then
  ENV_FILE=/config/finalize.env
else
  ENV_FILE=/etc/jitsi/jibri/finalize.env
fi
if [[ -f "$ENV_FILE" ]]; then
  # shellcheck disable=SC1090
  set -a; . "$ENV_FILE"; set +a
fi

SPOOL="${FINALIZE_SPOOL_DIR:-/storage/finalize-spool}"
SPOOL="${SPOOL%/}"
DIRECT_TIMEOUT="${FINALIZE_DIRECT_TIMEOUT:-2}"
FIRST_DELAY="${FINALIZE_RETRY_DELAY:-5}"
MAX_DELAY="${FINALIZE_RETRY_MAX_DELAY:-300}"
ALERT_AFTER="${FINALIZE_ATTEMPTS:-6}"
INTERVAL="${FINALIZE_SPOOL_INTERVAL:-5}"
HEARTBEAT=".deliverer-alive"

utc_stamp() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

json_string() {
  # A JSON string literal for $1: escape backslash and quote; control characters are refused by
  # the app, and Jibri's names never contain them.
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

settings_ok() {
  local missing=()
  [[ -n "${INTERVIEW_APP_URL:-}" ]] || missing+=(INTERVIEW_APP_URL)
  [[ -n "${JIBRI_WEBHOOK_SECRET:-}" ]] || missing+=(JIBRI_WEBHOOK_SECRET)
  if ((${#missing[@]})); then
    log "${missing[*]} not set (environment or $ENV_FILE): cannot deliver"
    return 1
  fi
}

sign_file() {
  if command -v python3 >/dev/null 2>&1; then
    # The secret travels in the environment, not on a command line other users can read.
    JIBRI_WEBHOOK_SECRET="$JIBRI_WEBHOOK_SECRET" python3 -c 'import hashlib,hmac,os,sys; print(hmac.new(os.environ["JIBRI_WEBHOOK_SECRET"].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())' <"$1"
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -hmac "$JIBRI_WEBHOOK_SECRET" <"$1" | awk '{print $NF}'
  else
    log "needs python3 or openssl to sign the notice"
    return 1
  fi
}

# POST one body file; prints the HTTP status (000: no answer) and leaves the answer in $2.
post_file() {
  local body="$1" answer="$2" connect="$3" max="$4" signature
  signature="$(sign_file "$body")" || return 2
  curl -sS -o "$answer" -w '%{http_code}' --connect-timeout "$connect" --max-time "$max" \
    -X POST -H 'Content-Type: application/json' -H "X-Jibri-Signature: sha256=$signature" \
    --data-binary "@$body" "${INTERVIEW_APP_URL%/}/hooks/jibri" || true
}

write_atomically() {
  # write_atomically PATH CONTENT: a reader sees the old file or the new one, never half.
  local tmp
  tmp="$(dirname "$1")/.tmp-$(basename "$1")-$$"
  printf '%s' "$2" >"$tmp" && mv -f "$tmp" "$1"
}

permanent_refusal() { [[ "$1" == 4?? && "$1" != 408 && "$1" != 429 ]]; }

# deliver_one NOTICE CONNECT_TIMEOUT MAX_TIME DUE_ONLY
# Returns 0 delivered (or already gone), 1 left for a later try, 3 refused for good (moved to
# dead/), 4 another deliverer holds it right now.
deliver_one() {
  local notice="$1" connect="$2" max="$3" due_only="$4" name fd state tries=0 next=0 now status
  name="$(basename "$notice")"
  state="$SPOOL/.state/$name"
  [[ -e "$notice" ]] || return 0
  # Read-write: an exclusive lock on NFS needs a file open for writing. `<>` would create a file
  # removed in between, so an empty one is such a leftover (a notice is never empty).
  { exec {fd}<>"$notice"; } 2>/dev/null || return 0
  if ! flock -n "$fd"; then
    exec {fd}<&-
    return 4
  fi
  if [[ ! -s "$notice" ]]; then
    rm -f "$notice" "$state"
    exec {fd}<&-
    return 0
  fi
  if [[ -f "$state" ]]; then
    read -r tries next <"$state" || true
    [[ "$tries" =~ ^[0-9]+$ && "$next" =~ ^[0-9]+$ ]] || { tries=0; next=0; }
  fi
  now="$(date +%s)"
  if [[ "$due_only" == 1 ]] && ((next > now)); then
    exec {fd}<&-
    return 1
  fi
  local answer
  answer="$(mktemp)"
  status="$(post_file "$notice" "$answer" "$connect" "$max")" || status="000"
  tries=$((tries + 1))
  if [[ "$status" == 2?? ]]; then
    rm -f "$notice" "$state"
    log "delivered $name to ${INTERVIEW_APP_URL%/}/hooks/jibri (HTTP $status) after $tries try(s)"
    rm -f "$answer"
    exec {fd}<&-
    return 0
  fi
  if permanent_refusal "$status"; then
    mkdir -p "$SPOOL/dead"
    write_atomically "$SPOOL/dead/$name.reason" \
      "HTTP $status at $(utc_stamp "$now") after $tries try(s): $(head -c 500 "$answer")"
    mv -f "$notice" "$SPOOL/dead/$name"
    rm -f "$state"
    log "the app refused the notice (HTTP $status): $(head -c 500 "$answer")"
    log "moved it to $SPOOL/dead/$name; once the cause is fixed, move it back into $SPOOL"
    rm -f "$answer"
    exec {fd}<&-
    return 3
  fi
  rm -f "$answer"
  local delay="$FIRST_DELAY" i
  for ((i = 1; i < tries && delay < MAX_DELAY; i++)); do delay=$((delay * 2)); done
  ((delay <= MAX_DELAY)) || delay="$MAX_DELAY"
  mkdir -p "$SPOOL/.state"
  write_atomically "$state" "$tries $((now + delay))"
  if ((tries >= ALERT_AFTER)); then
    log "ERROR: $name still not accepted after $tries tries (HTTP ${status:-000}); next try in ${delay}s"
  else
    log "try $tries of $name: no 2xx from ${INTERVIEW_APP_URL%/}/hooks/jibri (HTTP ${status:-000}); next try in ${delay}s"
  fi
  exec {fd}<&-
  return 1
}

# One pass over the spool; returns 0 when it is empty afterwards, 1 when notices still wait or
# were refused, 2 on bad settings.
deliver_pass() {
  local due_only="$1" notice left=0 rc
  mkdir -p "$SPOOL" || return 2
  settings_ok || return 2
  shopt -s nullglob
  for notice in "$SPOOL"/*.json; do
    rc=0
    deliver_one "$notice" 10 60 "$due_only" || rc=$?
    ((rc == 0)) || left=$((left + 1))
  done
  # Back-off records whose notice is gone (delivered by another deliverer in between).
  for notice in "$SPOOL"/.state/*.json; do
    [[ -e "$SPOOL/$(basename "$notice")" ]] || rm -f "$notice"
  done
  ((left == 0)) || log "$left notice(s) not delivered in this pass (waiting in $SPOOL or moved to $SPOOL/dead)"
  ((left == 0))
}

if [[ "${1:-}" == "--deliver" ]]; then
  due_only=1
  [[ "${2:-}" == "--now" ]] && due_only=0
  rc=0
  deliver_pass "$due_only" || rc=$?
  exit "$rc"
fi
if [[ "${1:-}" == "--deliver-loop" ]]; then
  trap 'exit 0' TERM INT
  log "delivering notices from $SPOOL every ${INTERVAL}s"
  while true; do
    # The heartbeat tells finalize.sh that a loop runs (it warns in Jibri's log when none does).
    mkdir -p "$SPOOL" && touch "$SPOOL/$HEARTBEAT" || true
    deliver_pass 1 || true
    sleep "$INTERVAL" &
    wait $! || true
  done
fi

if [[ $# -ne 1 || ! -d "$1" ]]; then
  log "usage: finalize.sh RECORDING_DIR (a folder Jibri wrote) | --deliver [--now] | --deliver-loop"
  exit 2
fi

DIR="${1%/}"
SESSION_ID="$(basename "$DIR")"

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
  # This host's clock, for the app to check JIBRI_TIMEZONE against the time in the file name:
  # when the file was last written and, where the file system keeps it, when it was created.
  times=",\"modified_at\":\"$(utc_stamp "$(stat -c %Y "$path")")\""
  born="$(stat -c %W "$path" 2>/dev/null || echo 0)"
  if [[ "$born" =~ ^[0-9]+$ ]] && ((born > 0)); then
    times+=",\"created_at\":\"$(utc_stamp "$born")\""
  fi
  files+="${files:+,}{\"name\":$(json_string "$name"),\"size\":$size,\"sha256\":\"$sum\"$times}"
  count=$((count + 1))
done
if [[ $count -eq 0 ]]; then
  log "no recording files in $DIR; nothing to announce"
  exit 1
fi
body="$(printf '{"session_id":%s,"metadata":%s,"files":[%s],"finalized_at":"%s"}' \
  "$(json_string "$SESSION_ID")" "$metadata" "$files" "$(utc_stamp "$(date +%s)")")"

# A unique name per run: a notice file is never rewritten, so a deliverer that posted it may
# remove it without removing a newer one.
notice="$SPOOL/$(date -u +%Y%m%dT%H%M%SZ)-${SESSION_ID//[^A-Za-z0-9._-]/_}-$$-$RANDOM.json"
tmp="$SPOOL/.tmp-$(basename "$notice")"
if mkdir -p "$SPOOL" 2>/dev/null && printf '%s' "$body" 2>/dev/null >"$tmp"; then
  sync "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$notice"
  sync "$SPOOL" 2>/dev/null || true
else
  rm -f "$tmp" 2>/dev/null || true
  log "ERROR: cannot write the spool $SPOOL (FINALIZE_SPOOL_DIR); trying the app once directly"
  settings_ok || exit 2
  direct="$(mktemp)"
  answer="$(mktemp)"
  trap 'rm -f "$direct" "$answer"' EXIT
  printf '%s' "$body" >"$direct"
  status="$(post_file "$direct" "$answer" 1 "$DIRECT_TIMEOUT")" || status="000"
  if [[ "$status" == 2?? ]]; then
    log "notified the app about $count file(s) of $SESSION_ID (HTTP $status)"
    exit 0
  fi
  log "the app did not accept the notice (HTTP $status): run finalize.sh on $DIR again later"
  exit 1
fi
log "spooled $count file(s) of $SESSION_ID as $notice"

settings_ok || exit 2
rc=0
connect=$((DIRECT_TIMEOUT > 1 ? 1 : DIRECT_TIMEOUT))
deliver_one "$notice" "$connect" "$DIRECT_TIMEOUT" 0 || rc=$?
case "$rc" in
  0) exit 0 ;;
  3) exit 1 ;;
esac
beat="$SPOOL/$HEARTBEAT"
if [[ ! -e "$beat" ]] || (($(date +%s) - $(stat -c %Y "$beat") > 3 * INTERVAL + 60)); then
  log "WARNING: no delivery loop has looked at $SPOOL lately: the notice waits there until one runs (jitsi/README.md)"
fi
log "left for the delivery loop"
exit 0
