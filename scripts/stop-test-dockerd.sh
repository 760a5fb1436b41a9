#!/usr/bin/env bash
# Stops an engine started by scripts/start-test-dockerd.sh DIR, by its PID, and
# unmounts what it left mounted under DIR. Waits up to 15 s for a clean shutdown,
# then kills it. Removes DIR when REMOVE=1. Safe to run twice.
set -uo pipefail

DIR=${1:?usage: stop-test-dockerd.sh DIR}
[ -d "$DIR" ] || exit 0
DIR=$(cd "$DIR" && pwd)

alive() {
  # A zombie still answers kill -0; look at its state instead.
  [ -r "/proc/$1/stat" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$1/stat"
}

for f in dockerd.pid launcher.pid; do
  [ -f "$DIR/$f" ] || continue
  pid=$(cat "$DIR/$f")
  case "$pid" in ''|*[!0-9]*) continue ;; esac
  # Only signal the process if it is the dockerd this DIR belongs to.
  grep -qF -- "$DIR" "/proc/$pid/cmdline" 2>/dev/null || continue
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
done

# overlay2 and the exec root's netns/shm mounts, deepest first.
awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null || true
done
rm -f "$DIR/dockerd.pid" "$DIR/launcher.pid" "$DIR/docker.sock"
if [ "${REMOVE:-0}" = 1 ]; then
  rm -rf "$DIR"
fi
exit 0
