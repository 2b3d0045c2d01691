# Shared by scripts/proxy-test, scripts/container-test and scripts/record-fixtures: source it after scripts/common.sh; do not run it.
# The sourcing script sets: tmp (its temp directory), call_bin (mediabridge-call), py (a python3),
# auth_token (the TWILIO_AUTH_TOKEN its bridges use), and defines test_processes_alive (succeeds while
# everything it started still runs).

step() { echo "--> [$(date +%H:%M:%S)] $*"; }
fail() { echo "$(basename "$0"): FAILED: $*" >&2; exit 1; }

# make_test_certificates DIR: a throwaway CA (DIR/ca.pem) and a certificate for 127.0.0.1 and localhost
# signed by it (DIR/server.pem, DIR/server.key), valid for two days.
make_test_certificates() {
  local dir=$1
  (
    cd "$dir"
    timeout 30 openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout ca.key -out ca.pem \
      -days 2 -subj "/CN=mediabridge test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    timeout 30 openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
    timeout 30 openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
      -extfile server.ext 2>/dev/null
  ) || fail "certificate generation"
}

# free_loopback_ports N: N free TCP ports on 127.0.0.1, chosen together so they differ (a small race with
# other processes remains).
free_loopback_ports() {
  timeout 10 "$py" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' "$1"
}

# wait_for URL [curl args…]: polls until the URL answers 2xx (for 15 s at most); gives up at once when
# test_processes_alive fails.
wait_for() {
  local url=$1 deadline=$((SECONDS + 15)); shift
  while [ "$SECONDS" -lt "$deadline" ]; do
    curl -fsS -o /dev/null --max-time 2 "$@" "$url" 2>/dev/null && return 0
    test_processes_alive || fail "something this test started exited (see its log) while waiting for $url"
    sleep 0.1
  done
  fail "$url did not become ready within 15 s"
}

# check_call NAME WEBHOOK_URL STREAM_URL [mediabridge-call options…]: a complete simulated call (signed
# webhook, the stream the TwiML names, audio both ways, a barge-in), asserted by mediabridge-call's exit
# code (--expect-*) and by its JSON report; the TwiML must name exactly STREAM_URL.
check_call() {
  local name=$1 webhook_url=$2 stream_url=$3 out="$tmp/call-$1.json"; shift 3
  local rc=0
  TWILIO_AUTH_TOKEN="$auth_token" timeout 60 "$call_bin" --webhook "$webhook_url" "$@" \
    --script "speech:400,silence:2000,speech:600,silence:3000" --timeout-ms 40000 \
    --expect-stream-url-prefix "$stream_url" --expect-audio --expect-barge-in --json >"$out" || rc=$?
  EXPECT_URL="$stream_url" timeout 10 "$py" - "$out" <<'PY' || fail "$name: the simulated call"
import json, os, sys
report = json.load(open(sys.argv[1]))
call = report["calls"][0]
problems = list(call["problems"])
if call["stream_url"] != os.environ["EXPECT_URL"]:
    problems.append(f"TwiML stream URL {call['stream_url']!r}, expected {os.environ['EXPECT_URL']!r}")
if call["webhook_status"] != 200:
    problems.append(f"webhook answered HTTP {call['webhook_status']}")
if call["parameters"].get("CallSid") != call["call_sid"]:
    problems.append("the TwiML does not carry the call's CallSid as a <Parameter>")
if call["outcome"] not in ("completed", "bridge_closed"):
    problems.append(f"outcome {call['outcome']}: {call['failure']}")
if not (call["media_frames_sent"] > 0 and call["media_frames_received"] > 0 and call["played_ms"] > 0):
    problems.append("audio did not flow both ways")
if not call["clears"]:
    problems.append("no barge-in (clear)")
print(f"    {call['outcome']}: stream {call['stream_url']}, {call['media_frames_sent']} frames sent, "
      f"{call['media_frames_received']} received, {call['played_ms']:.0f} ms played, "
      f"{len(call['clears'])} clear(s) at {', '.join('%.0f ms' % c['at_ms'] for c in call['clears'])}, "
      f"{call['marks_echoed']} marks echoed")
for p in problems:
    print("    FAILED: " + p, file=sys.stderr)
sys.exit(1 if problems or not report["ok"] else 0)
PY
  [ "$rc" -eq 0 ] || fail "$name: mediabridge-call exited $rc"
}
