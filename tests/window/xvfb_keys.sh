#!/usr/bin/env bash
# xvfb_keys.sh: the real-window test. Starts gradlab under Xvfb, sends keys
# with xdotool and checks the outcome two ways: screenshots taken between
# keys (same or different, or all black), and the state lines the app
# prints with GRADLAB_TRACE=1 ("gradlab-trace: lesson=01-circuit step=2/6
# blank=0 help=0 ... drag=x@134,153 ...", one per change of what is on
# screen; drag= says where the first input's number is). It covers:
#   - stepping, dragging an input, fullscreen, the help; an idle window uses no CPU;
#   - presenters' keys: Esc closes the help, the blank and the menu and leaves
#     fullscreen but never quits a fullscreen window; Q quits from anywhere;
#     Esc in a window with nothing open quits, exit 0 within 2 seconds;
#   - the blank is black, a step key under it shows the same step again, and
#     the notes window changes to say so; arrows under the help do nothing;
#   - the last step's footer says that the lesson has ended;
#   - the next start reopens the last lesson at its step (also when it is
#     among the lessons named), and a lesson not among them starts at step 1;
#   - S and C save the screen (PNG) and the numbers (CSV) into the working
#     folder: a symlink standing there is replaced, the file it points to
#     is left alone; a folder in the way is a reason on the status line;
#   - a source that fails (its arrays do not fit) is on the status line;
#   - the editor (E): Esc cancels, a typed program with a mistake shows the
#     file-style message "<editor>:2:5: error: ..." (also on stderr), the
#     corrected one replaces the lesson and steps, R resets it.
# Usage: xvfb_keys.sh GRADLAB_BINARY   (exit 77 = skipped)
set -u
gradlab=$1
case $gradlab in /*) ;; *) gradlab=$PWD/$gradlab ;; esac   # section 4 starts it in another folder
for tool in Xvfb xdotool import compare identify; do
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
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' TERM INT   # meson's timeout sends TERM: still run cleanup
export DISPLAY=$display
export XDG_CONFIG_HOME=$tmp/config   # start from default settings, leave the user's alone
export GRADLAB_TRACE=1
unset SDL_VIDEODRIVER
for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

fails=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; fails=$((fails + 1)); }

# start [LESSON...]: open gradlab, wait for its window and first frame.
start() {
    "$gradlab" "$@" >"$tmp/app.out" 2>"$tmp/app.log" &
    app=$!
    if ! timeout 10 xdotool search --sync --name '^gradlab' >/dev/null 2>&1; then
        echo "FAIL: no gradlab window appeared"; cat "$tmp/app.log"; exit 1
    fi
    for _ in $(seq 100); do [ -s "$tmp/app.out" ] && break; sleep 0.05; done
    sleep 0.5
}
# The newest state line.
state() { grep '^gradlab-trace:' "$tmp/app.out" | tail -1; }
# expect_state NAME REGEX: the newest state line matches within 3 seconds.
expect_state() {
    for _ in $(seq 60); do
        state | grep -Eq -- "$2" && { ok "$1"; return; }
        sleep 0.05
    done
    notok "$1: expected /$2/, the app says: $(state)"
}
# The value of key in the newest state line ("step" gives "2/6").
field() { state | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# quits NAME: the app exits 0 within 2 seconds (of the key pressed just before).
quits() {
    local start=$1 name=$2
    for _ in $(seq 40); do kill -0 "$app" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$app" 2>/dev/null; then
        notok "$name: gradlab still running 2 s later"
        kill "$app"; wait "$app" 2>/dev/null
    else
        wait "$app"; local rc=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))
        if [ "$rc" -eq 0 ]; then ok "$name: exited 0, ${ms} ms later"; else
            notok "$name: exit status $rc"; cat "$tmp/app.log"; fi
    fi
    app=""
}
alive() { if kill -0 "$app" 2>/dev/null; then ok "$1"; else notok "$1: gradlab quit"; fi; }

shot() { sleep 0.4; import -window root "$tmp/$1.png"; }
# Number of differing pixels between two screenshots; -1 when compare
# fails (a missing or unreadable screenshot), which no expectation accepts.
diffpx() {
    local out
    out=$(compare -metric AE "$tmp/$1.png" "$tmp/$2.png" null: 2>&1)
    [ $? -le 1 ] && [ -n "$out" ] || { echo -1; return; }
    echo "$out" | awk '{print int($1)}'
}
expect() { # expect NAME A B same|differ
    local d; d=$(diffpx "$2" "$3")
    if [ "$d" -lt 0 ]; then
        notok "$1: cannot compare the screenshots"
    elif { [ "$4" = same ] && [ "$d" -eq 0 ]; } || { [ "$4" = differ ] && [ "$d" -gt 0 ]; }; then
        ok "$1 ($d pixels differ)"
    else
        notok "$1: expected $4, $d pixels differ"
    fi
}
expect_black() { # expect_black NAME SHOT: every pixel is 0
    local m; m=$(identify -format '%[max]' "$tmp/$2.png" 2>/dev/null)
    if [ "$m" = 0 ]; then ok "$1"; else notok "$1: brightest value $m, not black"; fi
}

# ---- 1. Stepping, dragging, the help, the blank, fullscreen, the notes.
start
shot s0
# An idle window waits for events: over 2 s it may use at most 5 clock ticks
# of CPU (50 ms), however busy the machine is.
ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
if [ -r "/proc/$app/stat" ]; then
    t0=$(ticks); sleep 2; t1=$(ticks)
    if [ $((t1 - t0)) -le 5 ]; then ok "idle window used $((t1 - t0)) CPU ticks in 2 s"; else
        notok "idle window used $((t1 - t0)) CPU ticks in 2 s"; fi
fi
expect_state "starts at lesson 1, step 1" 'lesson=01-circuit step=1/'
xdotool key Right; shot s1
xdotool key Right; shot s2
xdotool key Left; shot s3
expect "next changes the view" s0 s1 differ
expect "next again changes the view" s1 s2 differ
expect "previous returns to the same view" s1 s3 same
expect_state "the step is 2" ' step=2/'
# Drag the first input's number (the app traces where it is drawn: drag=x@134,153) to the right.
eval "$(xdotool search --name '^gradlab' getwindowgeometry --shell | head -3)"
point=$(field drag); px=${point#*@}; py=${px#*,}; px=${px%,*}
if [ "$point" = - ] || [ -z "$point" ]; then
    notok "the lesson shows no input to drag: $(state)"
else
    xdotool mousemove $((X + px)) $((Y + py)) mousedown 1 sleep 0.1 mousemove $((X + px + 46)) $((Y + py)) \
        sleep 0.1 mousemove $((X + px + 96)) $((Y + py)) sleep 0.1 mouseup 1
fi
shot s3b
expect "dragging an input (${point%@*}) changes the numbers" s3 s3b differ

# The help: arrows do not move the step hidden under it.
xdotool key question; shot h1
expect_state "? opens the help" 'step=2/.* help=1'
xdotool key Right Right End; shot h2
expect "arrows under the help change nothing" h1 h2 same
xdotool key Escape; shot h3
expect_state "Esc closes the help, the step has not moved" 'step=2/.* help=0'
expect "Esc closes the help onto the same view" s3b h3 same
alive "Esc that closed the help did not quit"

# The blank: black, and a step key shows the same step again.
xdotool key b; shot b1
expect_state "B blanks" 'step=2/.* blank=1'
expect_black "the blank is black" b1
xdotool key Right; shot b2
expect_state "a step key under the blank shows the screen, the step has not moved" 'step=2/.* blank=0'
expect "the screen comes back as it was" s3b b2 same
xdotool key period Escape
expect_state "Esc closes the blank" 'step=2/.* blank=0'
alive "Esc that closed the blank did not quit"

# The notes window says when the screen is blanked.
main=$(xdotool search --name '^gradlab' | head -1)
xdotool key n
if timeout 5 xdotool search --sync --name 'presenter notes' >/dev/null 2>&1; then
    notes=$(xdotool search --name 'presenter notes' | head -1)
    # The band under the header, where the banner goes (the clock ticks elsewhere).
    band() { sleep 0.5; import -window "$notes" -crop 900x36+30+88 +repage "$tmp/$1.png"; }
    band n1
    xdotool key b
    expect_state "B blanks with the notes window open" 'blank=1 .*notes=1'
    band n2
    expect "the notes window shows that the screen is blanked" n1 n2 differ
    xdotool key b
    band n3
    expect "the notes window's banner goes with the blank" n1 n3 same
    xdotool key n
    expect_state "N closes the notes window" 'blank=0 .*notes=0'
    # With no window manager, nobody gives the keyboard back to the main window.
    xdotool windowfocus --sync "$main" 2>/dev/null || xdotool windowfocus "$main"
else
    notok "no presenter-notes window appeared"
fi

# Fullscreen: Esc leaves it, and never quits a fullscreen window.
xdotool key f; shot s4
expect "fullscreen changes the view" s3b s4 differ
expect_state "F goes fullscreen" 'fullscreen=1'
xdotool key question; shot s5
expect "help overlay appears" s4 s5 differ
xdotool key Escape; shot s6
expect "Esc closes the help first" s4 s6 same
expect_state "Esc closed the help, still fullscreen" 'help=0 .*fullscreen=1'
xdotool key Escape
expect_state "the next Esc leaves fullscreen" 'help=0 .*fullscreen=0'
alive "Esc in fullscreen did not quit"
xdotool key m
expect_state "M opens the menu" 'menu=1'
xdotool key Escape
expect_state "Esc closes the menu" 'menu=0'
alive "Esc in the menu did not quit"

# Quit at step 2 with Q, from fullscreen.
xdotool key Home Right f
expect_state "step 2, fullscreen" 'lesson=01-circuit step=2/.* fullscreen=1'
t=$(date +%s%N); xdotool key q
quits "$t" "Q quits from fullscreen"

# ---- 2. The next start reopens the lesson at its step; the end; the editor.
if grep -q '^last_step = 1$' "$tmp/config/gradlab/settings" 2>/dev/null; then ok "the settings remember step 2"; else
    notok "the settings do not remember step 2: $(cat "$tmp/config/gradlab/settings" 2>&1)"; fi
start
expect_state "the next start reopens lesson 1 at step 2" 'lesson=01-circuit step=2/'
shot r1
expect "it looks as step 2 did" s1 r1 same
xdotool key End
expect_state "the last step says that the lesson has ended" 'footer=End of lesson'
n=$(field step); n=${n#*/}
# The editor: Esc cancels.
xdotool key e
expect_state "E opens the editor" 'editor=1'
xdotool key Escape
expect_state "Esc closes the editor, the lesson stays" "lesson=01-circuit step=$n/$n .*editor=0"
alive "Esc in the editor did not quit"
# Type a program with a mistake (clear the text first), apply with F5.
xdotool key e
expect_state "E opens the editor again" 'editor=1'
sleep 0.3
xdotool key ctrl+End; xdotool key --delay 2 --repeat 1500 BackSpace
xdotool type --delay 20 'x = 3'; xdotool key Return; xdotool type --delay 20 'f = w * x + 1'
xdotool key F5
expect_state "a mistake keeps the editor open with the file-style message" \
    "editor=1 .*error=<editor>:2:5: error: unknown name 'w'"
shot e1
if grep -q "^<editor>:2:5: error: unknown name 'w'" "$tmp/app.log"; then ok "the message is on stderr too"; else
    notok "no '<editor>:2:5: error:' on stderr: $(cat "$tmp/app.log")"; fi
# The caret is on the mistake: replace w by x, apply with Ctrl+Enter.
xdotool key Delete; xdotool type 'x'; xdotool key ctrl+Return
expect_state "the program replaces the lesson, at its first step" 'lesson=editor step=1/6 .*editor=0'
shot e2
expect "the view shows the new circuit" e1 e2 differ
xdotool key Right Right
expect_state "it steps forward" 'lesson=editor step=3/6'
xdotool key End
expect_state "its last step says that it has ended" 'lesson=editor step=6/6 .*footer=End of your program'
xdotool key r
expect_state "R resets it, same step" 'lesson=editor step=6/6 .*footer=inputs reset'
# Esc in a window with nothing open quits.
t=$(date +%s%N); xdotool key Escape
quits "$t" "Esc in a window with nothing open quits"

# ---- 3. Lessons named on the command line.
# The program was open at exit: the lesson it replaced is remembered, at its last step.
printf 'gradlab-lesson: 1\ntitle: Another lesson\nprogram:\n    x = 1\n    f = x * 2\nstep: auto\n' \
    >"$tmp/other.lesson"
start "$tmp/other.lesson" 1
expect_state "the remembered lesson among those named reopens at its step" "lesson=01-circuit step=$n/$n"
t=$(date +%s%N); xdotool key q
quits "$t" "Q quits"
start "$tmp/other.lesson"
expect_state "a lesson named that is not the remembered one starts at step 1" 'lesson=other step=1/'
t=$(date +%s%N); xdotool key q
quits "$t" "Q quits again"
# ---- 4. S and C write into the working folder; a symlink there is replaced, never followed.
mkdir -p "$tmp/out"
echo "keep me" >"$tmp/victim-png"; echo "keep me" >"$tmp/victim-csv"
ln -s "$tmp/victim-png" "$tmp/out/gradlab-other-step01.png"
ln -s "$tmp/victim-csv" "$tmp/out/gradlab-other-step01.csv"
cd "$tmp/out" || exit 1
start "$tmp/other.lesson"
cd - >/dev/null || exit 1
expect_state "the lesson to save" 'lesson=other step=1/'
xdotool key s
expect_state "S saves the screen" 'footer=saved gradlab-other-step01.png'
xdotool key c
expect_state "C saves the numbers" 'footer=saved gradlab-other-step01.csv'
for kind in png csv; do
    f="$tmp/out/gradlab-other-step01.$kind"
    if echo "keep me" | cmp -s - "$tmp/victim-$kind"; then ok "the $kind symlink's target is left alone"; else
        notok "saving the $kind wrote through the symlink into its target"; fi
    if [ -f "$f" ] && [ ! -L "$f" ]; then ok "the $kind is a file of its own"; else
        notok "$f is not a regular file: $(ls -l "$f" 2>&1)"; fi
done
if [ "$(head -c 4 "$tmp/out/gradlab-other-step01.png" | tail -c 3)" = PNG ]; then ok "the screen is a PNG"; else
    notok "the saved screen is not a PNG"; fi
if head -1 "$tmp/out/gradlab-other-step01.csv" | grep -q '^name,value,grad$'; then ok "the numbers are a CSV"; else
    notok "the saved CSV has no header: $(head -1 "$tmp/out/gradlab-other-step01.csv")"; fi
# A folder where the file would go: the reason on the status line and on stderr.
mkdir "$tmp/out/gradlab-other-step02.png" "$tmp/out/gradlab-other-step02.csv"
xdotool key Right
expect_state "the next step" 'lesson=other step=2/'
xdotool key s
expect_state "S into a folder says why on the status line" \
    "footer=cannot write 'gradlab-other-step02.png': it is a folder"
xdotool key c
expect_state "C into a folder says why on the status line" \
    "footer=cannot write 'gradlab-other-step02.csv': it is a folder"
if grep -q "^gradlab: error: cannot write 'gradlab-other-step02.png': it is a folder" "$tmp/app.log"; then
    ok "the reason is on stderr too"; else notok "no error on stderr: $(cat "$tmp/app.log")"; fi
t=$(date +%s%N); xdotool key q
quits "$t" "Q quits after saving"

# ---- 5. A source that fails says so on the status line: here its arrays do not
# fit in what a lesson's sources may publish together.
{
    printf 'gradlab-lesson: 2\ntitle: Crowded\n'
    for n in a b c; do printf 'source: %s mlp2d layers 1 units 24 bind on points 20 limit 5 grid 10 ngrid 4\n' $n; done
    printf 'panel: loss plot c.loss\nprogram:\n    x = 1\n    f = x * 2\nstep: intro\nrun: c 5\n'
} >"$tmp/crowded.lesson"
start "$tmp/crowded.lesson"
expect_state "a source whose arrays do not fit is on the status line" \
    "lesson=crowded .*footer=source 'c' failed: it publishes [0-9]+ arrays; .* more than 256"
if grep -q "crowded.lesson: source 'c' failed: it publishes" "$tmp/app.log"; then ok "and on stderr"; else
    notok "no source failure on stderr: $(cat "$tmp/app.log")"; fi
t=$(date +%s%N); xdotool key q
quits "$t" "Q quits the crowded lesson"

[ "$fails" -eq 0 ]
