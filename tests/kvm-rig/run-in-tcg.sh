#!/usr/bin/env bash
# run-in-tcg.sh - run a command that needs /dev/kvm inside a QEMU-TCG VM.
#
# Why: this project's machines (developers' and CI's) are nested guests with no
# /dev/kvm. This boots Debian's kernel under QEMU in pure software emulation
# (TCG) with an emulated AMD CPU that has SVM + NPT, loads kvm + kvm_amd inside
# and so gets a working /dev/kvm there, then runs COMMAND in DIR and powers off.
#
# Usage:
#   run-in-tcg.sh [options] DIR -- COMMAND [ARGS...]
#   run-in-tcg.sh [options] --smoke          (only run the built-in kvm-smoke)
# Options:
#   --timeout SECONDS  wall-clock limit for the whole VM run (default 600)
#   --cpu MODEL        QEMU -cpu value (default: qemu64,+svm,+npt)
#   --mem MIB          guest RAM in MiB (default: 2048 + 2 x packed size)
#   --smp N            guest CPUs (default: 1; with 2 the emulated host froze
#                      now and then, whole, under nested KVM; see README.md)
#   --with PATH        also pack PATH (file or dir) at the same absolute path;
#                      repeatable (e.g. the source tree the tests read from)
#   --env NAME=VALUE   set an environment variable for COMMAND; repeatable
#   --cache DIR        cache dir for build-rig.sh (default ~/.cache/libvmm-rig)
#   --log FILE         also write the console log there
#   --quiet            do not stream the console to stdout
#   --interactive      connect our stdin to the VM console (COMMAND's stdin
#                      is that console), for interactive guests
#
# DIR (and every --with PATH) is packed into the initramfs at the same absolute
# path, so absolute paths baked into a build dir keep working. The shared
# libraries of every ELF in them (found with ldd) and the dynamic loader are
# packed at their host paths too. COMMAND runs as root with cwd DIR; its
# stdout/stderr go to the VM console, which is streamed to our stdout.
#
# Exit status: COMMAND's exit status; on a rig failure a message starting
# with "run-in-tcg: RIG FAILURE:" on stderr and 124 (timeout) or 125 (no qemu,
# no kernel, no /dev/kvm inside, VM died without reporting a status).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
timeout_s=600
cpu=qemu64,+svm,+npt
mem=
smp=1
cache=
logfile=
quiet=0
interactive=0
smoke=0
withs=()
envs=()

usage() { sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
fail() { # $1 exit code, rest: message
    local code=$1; shift
    echo "run-in-tcg: RIG FAILURE: $*" >&2
    exit "$code"
}

while [ $# -gt 0 ]; do
    case $1 in
        --timeout) timeout_s=$2; shift 2 ;;
        --cpu) cpu=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --with) withs+=("$2"); shift 2 ;;
        --env) [[ $2 == [A-Za-z_]*=* ]] || fail 125 "--env wants NAME=VALUE, got '$2'"
               envs+=("$2"); shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --log) logfile=$2; shift 2 ;;
        --quiet) quiet=1; shift ;;
        --interactive) interactive=1; shift ;;
        --smoke) smoke=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) break ;;
        -*) usage >&2; fail 125 "unknown option $1" ;;
        *) break ;;
    esac
done

dir=
cmd=()
if [ "$smoke" = 0 ]; then
    [ $# -ge 3 ] && [ "$2" = -- ] || { usage >&2; fail 125 "expected: DIR -- COMMAND [ARGS...]"; }
    [ -d "$1" ] || fail 125 "DIR '$1' is not a directory"
    dir=$(cd "$1" && pwd -L)
    shift 2
    cmd=("$@")
elif [ $# -gt 0 ]; then
    fail 125 "--smoke takes no DIR/COMMAND"
fi
[[ $timeout_s =~ ^[0-9]+$ ]] || fail 125 "--timeout wants whole seconds"

command -v qemu-system-x86_64 >/dev/null ||
    fail 125 "qemu-system-x86_64 not found (apt-get install qemu-system-x86, or build-rig.sh --install-deps)"
command -v cpio >/dev/null || fail 125 "cpio not found (apt-get install cpio)"

rigargs=()
[ -n "$cache" ] && rigargs+=(--cache "$cache")
rigout=$("$here/build-rig.sh" "${rigargs[@]}") || fail 125 "build-rig.sh failed"
kernel=$(sed -n 's/^KERNEL=//p' <<<"$rigout")
base=$(sed -n 's/^BASE=//p' <<<"$rigout")
[ -r "$kernel" ] && [ -r "$base" ] || fail 125 "build-rig.sh gave no kernel/base initramfs"

work=$(mktemp -d "${TMPDIR:-/tmp}/kvm-rig.XXXXXX")
qpid=
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill "$qpid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "run-in-tcg: interrupted" >&2; exit 130' INT TERM

# ---- the per-run archive: DIR, --with paths, their shared libraries ----
declare -A added=()
list=$work/files.list
: > "$list"
add_path() { # add absolute path P: every parent dir, symlinks along the way and their targets
    local p=$1 prefix="" comp rest t
    [ -e "$p" ] || [ -L "$p" ] || return 0
    rest=${p#/}
    while [ -n "$rest" ]; do
        comp=${rest%%/*}
        if [ "$comp" = "$rest" ]; then rest=""; else rest=${rest#*/}; fi
        prefix=$prefix/$comp
        if [ -z "${added[$prefix]:-}" ]; then
            added[$prefix]=1
            echo "${prefix#/}" >> "$list"
        fi
        if [ -L "$prefix" ]; then
            t=$(readlink "$prefix")
            [[ $t == /* ]] || t=$(dirname "$prefix")/$t
            add_path "$(realpath -ms "$t")${rest:+/$rest}"
            return 0
        fi
    done
}
add_tree() { # add absolute dir/file P and everything beneath it
    add_path "$1"
    if [ -d "$1" ] && [ ! -L "$1" ]; then
        find "$1" -mindepth 1 | sed 's|^/||' >> "$list"
    fi
}
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

roots=()
[ -n "$dir" ] && roots+=("$dir")
for w in "${withs[@]}"; do
    [ -e "$w" ] || fail 125 "--with '$w' does not exist"
    roots+=("$(cd "$(dirname "$w")" && pwd -L)/$(basename "$w")")
done
nlibs=0
for r in "${roots[@]}"; do
    add_tree "$r"
    # Shared libraries of every dynamic ELF executable or shared object.
    while IFS= read -r -d '' f; do
        is_elf "$f" || continue
        while IFS= read -r lib; do
            [ -n "$lib" ] || continue
            if [ -z "${added[$lib]:-}" ]; then add_path "$lib"; nlibs=$((nlibs+1)); fi
        done < <(ldd "$f" 2>/dev/null | sed -nE 's/.*=> (\/[^ ]+) \(.*/\1/p; s/^[[:space:]]*(\/[^ ]+) \(.*/\1/p')
    done < <(find "$r" -type f \( -perm /111 -o -name '*.so' -o -name '*.so.*' \) -print0)
done
LC_ALL=C sort -u "$list" -o "$list"

# ---- the command, its environment, a nonce to recognise our status line ----
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
nonce=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/ctl/rig"
echo "$nonce" > "$work/ctl/rig/nonce"
if [ "$smoke" = 0 ]; then
    {
        echo "#!/bin/sh"
        echo "cd $(q "$dir") || exit 126"
        printf 'exec'; for a in "${cmd[@]}"; do printf ' %s' "$(q "$a")"; done; echo
    } > "$work/ctl/rig/cmd"
    chmod 755 "$work/ctl/rig/cmd"
fi
: > "$work/ctl/rig/env"
for e in "${envs[@]}"; do echo "${e%%=*}=$(q "${e#*=}")" >> "$work/ctl/rig/env"; done

initrd=$work/initrd.img
cp "$base" "$initrd"
(cd / && cpio --quiet -o -H newc -R 0:0 < "$list") >> "$initrd" ||
    fail 125 "packing $dir into the initramfs failed"
(cd "$work/ctl" && printf '%s\n' rig rig/nonce rig/env $([ -f rig/cmd ] && echo rig/cmd) |
    cpio --quiet -o -H newc -R 0:0) >> "$initrd"
size_mib=$(( $(stat -c %s "$initrd") / 1048576 ))
if [ -z "$mem" ]; then
    mem=$(( 2048 + 2 * size_mib ))
    [ "$mem" -le 16384 ] || mem=16384
fi
echo "run-in-tcg: initramfs ${size_mib} MiB ($(wc -l < "$list") paths, $nlibs libs), cpu=$cpu, mem=${mem}M, timeout=${timeout_s}s" >&2

# ---- boot ----
log=$work/console.log
out_filter() { if [ "$quiet" = 1 ]; then cat > /dev/null; else cat; fi; }
start=$(date +%s)
set +e
qemu_args=(-accel tcg,thread=multi -smp "$smp" -m "$mem" -cpu "$cpu"
    -kernel "$kernel" -initrd "$initrd"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off"
    -nodefaults -display none -no-reboot -net none
    -chardev stdio,id=s0,signal=off -serial chardev:s0
    -pidfile "$work/qemu.pid")
if [ "$interactive" = 1 ]; then
    # No line filter: a prompt without a newline must show at once. An
    # explicit redirection keeps our stdin (a background job gets /dev/null).
    exec 3<&0
    timeout -k 10 --foreground "$timeout_s" qemu-system-x86_64 "${qemu_args[@]}" \
        <&3 2>"$work/qemu.err" | tee "$log" &
else
    timeout -k 10 "$timeout_s" qemu-system-x86_64 "${qemu_args[@]}" \
        </dev/null 2>"$work/qemu.err" | sed -u 's/\r$//' | tee "$log" | out_filter &
fi
ppid_=$!
# qemu writes its pidfile early; keep it so cleanup can end exactly that process.
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -s "$work/qemu.pid" ] && { qpid=$(cat "$work/qemu.pid"); break; }
    sleep 0.2
done
wait "$ppid_"
set -e
elapsed=$(( $(date +%s) - start ))
[ -z "$logfile" ] || cp "$log" "$logfile"

status=$(grep -aoE "RIG-STATUS=[0-9]+ \(run $nonce\)" "$log" | tail -n1 | sed -E 's/RIG-STATUS=([0-9]+).*/\1/' || true)
if [ -n "$status" ]; then
    echo "run-in-tcg: command exited with status $status (VM run ${elapsed}s)" >&2
    exit "$status"
fi
grep -v "TCG doesn't support requested feature" "$work/qemu.err" >&2 || true
if grep -aq 'RIG-ERROR=no-dev-kvm' "$log"; then
    fail 125 "no /dev/kvm inside the TCG VM (cpu=$cpu); see RIG-DMESG lines above"
fi
if [ "$elapsed" -ge "$timeout_s" ]; then
    fail 124 "timeout after ${timeout_s}s (raise --timeout)"
fi
fail 125 "VM ended after ${elapsed}s without reporting the command's status"
