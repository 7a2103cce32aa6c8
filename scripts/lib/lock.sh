# Sourced by scripts that must take turns over a shared directory (tools cache, fuzz build dir).
#
#   take_lock FILE WAIT_SECONDS WHAT
#
# opens FILE on fd 9 and holds an exclusive flock(2) on it until the calling shell exits,
# waiting up to WAIT_SECONDS for another holder; returns 1 when the wait runs out. flock(2)
# locks belong to the open file description, so python locking the fd this shell holds keeps
# the lock for the shell's lifetime: no util-linux flock(1) needed (not every machine has it).
take_lock() {
    local file="$1" wait_seconds="$2" what="$3" py="${PYTHON:-python3}"
    exec 9>>"$file"
    if "$py" -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX | fcntl.LOCK_NB)' 2>/dev/null; then
        return 0
    fi
    echo "waiting for another $what (lock: $file)" >&2
    "$py" - "$wait_seconds" <<'PY'
import fcntl, sys, time
deadline = time.monotonic() + float(sys.argv[1])
while True:
    try:
        fcntl.flock(9, fcntl.LOCK_EX | fcntl.LOCK_NB)
        sys.exit(0)
    except BlockingIOError:
        if time.monotonic() >= deadline:
            sys.exit(1)
        time.sleep(1)
PY
}
