#!/usr/bin/env bash
# xvfb_keys.sh: the real-window test. Starts gradlab under Xvfb, sends keys
# with xdotool (next, next, previous, fullscreen, help, quit), checks that
# the screenshots taken between keys differ as they should, and that the
# process exits 0 within 2 seconds of the quit key.
# Usage: xvfb_keys.sh GRADLAB_BINARY   (exit 77 = skipped)
set -u
gradlab=$1
for tool in Xvfb xdotool import compare; do
    command -v "$tool" >/dev/null || { echo "skip: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
display=""
for n in $(seq 90 120); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "skip: no free X display number"; exit 77; }
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
cleanup() { kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' TERM INT   # meson's timeout sends TERM: still run cleanup
export DISPLAY=$display
export XDG_CONFIG_HOME=$tmp/config   # start from default settings, leave the user's alone
unset SDL_VIDEODRIVER
for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

"$gradlab" >"$tmp/app.log" 2>&1 &
app=$!
if ! timeout 10 xdotool search --sync --name '^gradlab' >/dev/null 2>&1; then
    echo "FAIL: no gradlab window appeared"; cat "$tmp/app.log"; exit 1
fi
sleep 0.5
shot() { sleep 0.4; import -window root "$tmp/$1.png"; }
# Number of differing pixels between two screenshots; -1 when compare
# fails (a missing or unreadable screenshot), which no expectation accepts.
diffpx() {
    local out
    out=$(compare -metric AE "$tmp/$1.png" "$tmp/$2.png" null: 2>&1)
    [ $? -le 1 ] && [ -n "$out" ] || { echo -1; return; }
    echo "$out" | awk '{print int($1)}'
}
fails=0
expect() { # expect NAME A B same|differ
    local d; d=$(diffpx "$2" "$3")
    if [ "$d" -lt 0 ]; then
        echo "not ok - $1: cannot compare the screenshots"; fails=$((fails + 1))
    elif { [ "$4" = same ] && [ "$d" -eq 0 ]; } || { [ "$4" = differ ] && [ "$d" -gt 0 ]; }; then
        echo "ok - $1 ($d pixels differ)"
    else
        echo "not ok - $1: expected $4, $d pixels differ"; fails=$((fails + 1))
    fi
}
shot s0
# An idle window waits for events: over 2 s it may use at most 5 clock ticks
# of CPU (50 ms), however busy the machine is.
ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
if [ -r "/proc/$app/stat" ]; then
    t0=$(ticks); sleep 2; t1=$(ticks)
    if [ $((t1 - t0)) -le 5 ]; then echo "ok - idle window used $((t1 - t0)) CPU ticks in 2 s"; else
        echo "not ok - idle window used $((t1 - t0)) CPU ticks in 2 s"; fails=$((fails + 1)); fi
fi
xdotool key Right; shot s1
xdotool key Right; shot s2
xdotool key Left; shot s3
expect "next changes the view" s0 s1 differ
expect "next again changes the view" s1 s2 differ
expect "previous returns to the same view" s1 s3 same
# Drag x's value (drawn at about (134, 153) in the 1280x720 window) to the right.
eval "$(xdotool search --name '^gradlab' getwindowgeometry --shell | head -3)"
xdotool mousemove $((X + 134)) $((Y + 153)) mousedown 1 sleep 0.1 mousemove $((X + 180)) $((Y + 153)) \
    sleep 0.1 mousemove $((X + 230)) $((Y + 153)) sleep 0.1 mouseup 1
shot s3b
expect "dragging an input changes the numbers" s3 s3b differ
xdotool key f; shot s4
expect "fullscreen changes the view" s3b s4 differ
xdotool key question; shot s5
expect "help overlay appears" s4 s5 differ
xdotool key Escape; shot s6
expect "Esc closes the help first" s4 s6 same
start=$(date +%s%N)
xdotool key Escape
for _ in $(seq 40); do kill -0 "$app" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$app" 2>/dev/null; then
    echo "not ok - gradlab still running 2 s after Esc"; fails=$((fails + 1))
else
    wait "$app"; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ "$rc" -eq 0 ]; then echo "ok - exited 0, ${ms} ms after Esc"; else
        echo "not ok - exit status $rc"; cat "$tmp/app.log"; fails=$((fails + 1)); fi
fi
app=""
[ "$fails" -eq 0 ]
