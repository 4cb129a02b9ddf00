#!/bin/sh
# Runs the KVM integration tests of a build directory without meson (inside
# the KVM-in-TCG rig there is no Python): each test program in turn, then
# one summary line "kvm: N passed, N failed".
# Usage: run-kvm-suite.sh BUILD_DIR [sampling]
#   sampling: only the PMU tests, including those whose guests make the
#   host sample (which the default run skips: .ci/run gives them a rig run
#   of their own).
set -u
BUILD=$1
MODE=${2:-all}
export LIBVMM_GUEST_DIR="$BUILD/tests/guests"
SRC=$(dirname "$0")
passed=0
failed=0

run() {
	name=$1
	shift
	echo "== kvm test: $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		echo "== kvm test FAILED: $name"
		failed=$((failed + 1))
	fi
}

if [ "$MODE" = sampling ]; then
	run pmu "$BUILD/tests/integration/test-pmu"
	echo "kvm: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi
run guests "$BUILD/tests/integration/test-guests"
run cli sh "$SRC/cli_test.sh" "$BUILD/vmm/vmm" "$BUILD/tests/guests"
LIBVMM_SKIP_SAMPLING=1 run pmu "$BUILD/tests/integration/test-pmu"
# The Linux guest boots need the images of examples/linux-guest/build.sh.
if [ -n "${LIBVMM_LINUX_DIR:-}" ]; then
	run linux "$BUILD/tests/integration/test-linux"
else
	echo "== kvm test skipped: linux (LIBVMM_LINUX_DIR is not set)"
fi
echo "kvm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
