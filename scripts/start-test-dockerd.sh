#!/usr/bin/env bash
# Starts a private Docker engine for the daemon tests and waits until it answers.
#
#   scripts/start-test-dockerd.sh DIR
#
# Everything the engine writes goes under DIR: data root (images, overlay2 layers),
# exec root, pid file, log and the API socket DIR/docker.sock. It does not touch
# /var/run/docker.sock, creates no bridge and no iptables rules, and reads no
# /etc/docker/daemon.json, so several of these engines (and a system one) can run
# side by side. Keep DIR short: the engine puts its containerd socket under it, and
# unix socket paths are limited to 107 bytes.
#
# Installs nothing: dockerd comes from scripts/install-test-deps.sh (Debian
# docker.io). Prints the socket path on success. Exit codes: 0 ready, 1 failed to
# start (the log tail is printed), 3 dockerd is not installed.
# Stop it with scripts/stop-test-dockerd.sh DIR.
set -euo pipefail

DIR=${1:?usage: start-test-dockerd.sh DIR}
TIMEOUT=${DOCKERD_START_TIMEOUT:-30}

DOCKERD=$(command -v dockerd || true)
if [ -z "$DOCKERD" ]; then
  echo "start-test-dockerd: dockerd not found (run scripts/install-test-deps.sh)" >&2
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-test-dockerd: dockerd needs root" >&2
  exit 1
fi

mkdir -p "$DIR/data" "$DIR/exec"
DIR=$(cd "$DIR" && pwd)
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
echo '{}' > "$DIR/daemon.json"

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "start-test-dockerd: already running (pid $(cat "$PIDFILE")) in $DIR" >&2
  exit 1
fi
rm -f "$SOCK" "$PIDFILE"

# setsid: the engine must not receive the test runner's terminal signals, and is
# stopped by PID instead.
setsid "$DOCKERD" \
  --config-file "$DIR/daemon.json" \
  --storage-driver overlay2 \
  --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
  --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
  -H "unix://$SOCK" >"$LOG" 2>&1 < /dev/null &
LAUNCHER=$!
echo "$LAUNCHER" > "$DIR/launcher.pid"

deadline=$((SECONDS + TIMEOUT))
while [ "$SECONDS" -lt "$deadline" ]; do
  if [ -S "$SOCK" ] && [ "$(curl -s --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = "OK" ]; then
    echo "$SOCK"
    exit 0
  fi
  if ! kill -0 "$LAUNCHER" 2>/dev/null; then
    echo "start-test-dockerd: dockerd exited during start-up; log tail:" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
  sleep 0.1
done
echo "start-test-dockerd: dockerd did not answer /_ping on $SOCK within ${TIMEOUT}s; log tail:" >&2
tail -n 20 "$LOG" >&2 || true
kill "$LAUNCHER" 2>/dev/null || true
exit 1
