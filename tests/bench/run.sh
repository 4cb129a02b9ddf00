#!/usr/bin/env bash
# run.sh - the one command of the vPMU benchmark: build if needed,
# run vmm-bench on native /dev/kvm, or inside the KVM-in-TCG rig where there
# is none, and leave table.txt, results.json, results.csv and cost.png in
# the output dir.
#
# Usage: tests/bench/run.sh [--out DIR] [--builddir DIR] [--timeout S]
#                           [--no-strace] [--linux] [vmm-bench options...]
#   --out DIR       where the results go (default: bench-results/)
#   --builddir DIR  meson build dir (default: build/ in the repo root; set up
#                   with `meson setup` when missing)
#   --timeout S     wall-clock limit of the rig run (default 1800)
#   --no-strace     skip the strace cross-check of one configuration
#   --rig           use the rig even when /dev/kvm works here
#   --linux         also the Linux-guest scenario (tests/bench/linux_perf_bench.sh:
#                   perf stat / perf record around a context-switch benchmark in
#                   the project's Linux guest): linux-perf.txt in the output dir
# Other options go to vmm-bench (e.g. --runs 3 --workloads ctxsw,pmi);
# see `build/tests/bench/vmm-bench --help`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=bench-results
builddir=$root/build
timeout_s=1800
strace=1
force_rig=0
linux=0
args=()

die() { echo "run.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --builddir) builddir=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --no-strace) strace=0; shift ;;
        --rig) force_rig=1; shift ;;
        --linux) linux=1; shift ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- build ----
if [ ! -f "$builddir/build.ninja" ]; then
    echo "run.sh: meson setup $builddir" >&2
    (cd "$root" && meson setup "$builddir") >&2
fi
builddir=$(cd "$builddir" && pwd)
ninja -C "$builddir" >&2
bench=$builddir/tests/bench/vmm-bench
guest=$builddir/tests/guests/bench.bin
[ -x "$bench" ] || die "$bench was not built: add subdir('bench') to tests/meson.build (after subdir('guests'))"
[ -r "$guest" ] || die "$guest was not built (tests/guests/bench.c)"

# ---- gnuplot for the chart ----
if ! command -v gnuplot >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "run.sh: installing gnuplot-nox" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null ||
            echo "run.sh: could not install gnuplot-nox; no chart" >&2
    else
        echo "run.sh: gnuplot missing (apt-get install gnuplot-nox); no chart" >&2
    fi
fi

# ---- the machine ----
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
host="$(uname -srm), ${cpu:-unknown CPU}, $(nproc) CPUs"
kvm_ok=0
if [ "$force_rig" = 0 ] && [ -c /dev/kvm ] && { exec 3<>/dev/kvm; } 2>/dev/null; then
    exec 3>&-
    kvm_ok=1
fi

# The strace cross-check of one configuration (vmm-bench --strace-check).
for a in "${args[@]}"; do [ "$a" != --strace-check ] || strace=1; done
sargs=()
if [ "$strace" = 1 ]; then
    if command -v strace >/dev/null; then
        sargs=(--strace-check)
    else
        echo "run.sh: strace not found (apt-get install strace): no cross-check" >&2
        filtered=()
        for a in "${args[@]}"; do [ "$a" = --strace-check ] || filtered+=("$a"); done
        args=("${filtered[@]}")
    fi
fi

if [ "$kvm_ok" = 1 ]; then
    note="native /dev/kvm on $host"
    echo "run.sh: $note" >&2
    status=0
    "$bench" --guest "$guest" --out "$out" --note "$note" "${sargs[@]}" "${args[@]}" || status=$?
else
    note="KVM in QEMU-TCG rig (1 emulated CPU) on $host"
    echo "run.sh: no usable /dev/kvm here: running in the $note" >&2
    with=()
    if [ ${#sargs[@]} -gt 0 ]; then with+=(--with "$(command -v strace)"); fi
    log=$(mktemp "${TMPDIR:-/tmp}/vmm-bench-rig.XXXXXX")
    trap 'rm -f "$log"' EXIT
    set +e
    # The console carries the files between @@BENCH-FILE@@ markers: keep
    # them out of the terminal, extract them from the log afterwards.
    "$root/tests/kvm-rig/run-in-tcg.sh" --timeout "$timeout_s" --log "$log" "${with[@]}" \
        "$builddir" -- "$bench" --guest "$guest" --out "$builddir/bench-rig-out" \
        --dump --no-plot --note "$note" "${sargs[@]}" "${args[@]}" |
        sed -u '/^@@BENCH-FILE /,/^@@BENCH-END@@$/d'
    status=${PIPESTATUS[0]}
    set -e
    (cd "$out" && awk '/^@@BENCH-FILE .*@@$/ { f = $2; sub(/@@$/, "", f); printf "" > f; next }
        /^@@BENCH-END@@$/ { close(f); f = ""; next }
        f != "" { print > f }' "$log")
    [ -s "$out/results.json" ] || die "the rig run left no results (status $status)"
    if command -v gnuplot >/dev/null; then
        (cd "$out" && gnuplot cost.gp) || echo "run.sh: gnuplot failed" >&2
    fi
fi

if [ "$linux" = 1 ]; then
    echo "run.sh: the Linux-guest scenario (linux_perf_bench.sh)" >&2
    "$here/linux_perf_bench.sh" --out "$out/linux-perf.txt" "$builddir" ||
        { echo "run.sh: linux_perf_bench.sh failed" >&2; status=1; }
fi

echo "run.sh: results in $out:" >&2
ls -1 "$out" | sed 's/^/  /' >&2
exit "$status"
