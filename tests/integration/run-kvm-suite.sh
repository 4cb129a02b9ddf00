#!/bin/sh
# Runs the KVM integration tests of a build directory without meson (inside
# the KVM-in-TCG rig there is no Python): each test program in turn, then
# one summary line "kvm: N passed, N failed".
# Usage: run-kvm-suite.sh BUILD_DIR [sampling]
#   sampling: only the PMU tests, including those whose guests make the
#   host sample (which the default run skips: .ci/run gives them a rig run
#   of their own), and perf in the Linux guest (LIBVMM_LINUX_DIR built with
#   examples/linux-guest/build.sh --perf).
set -u
BUILD=$1
MODE=${2:-all}
export LIBVMM_GUEST_DIR="$BUILD/tests/guests"
# Every library-run guest confined as `vmm` confines its own (kvmtest.c).
export LIBVMM_TEST_SANDBOX="${LIBVMM_TEST_SANDBOX:-1}"
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

# skip-aware: a test that exits 77 said why it skipped.
run_or_skip() {
	name=$1
	shift
	echo "== kvm test: $name"
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	elif [ "$rc" -eq 77 ]; then
		echo "== kvm test skipped: $name"
	else
		echo "== kvm test FAILED: $name"
		failed=$((failed + 1))
	fi
}

if [ "$MODE" = sampling ]; then
	run pmu "$BUILD/tests/integration/test-pmu"
	run hostile "$BUILD/tests/integration/test-hostile"
	# perf record in the Linux guest samples through host overflow signals.
	if [ -n "${LIBVMM_LINUX_DIR:-}" ]; then
		run_or_skip linux-perf sh "$SRC/linux_perf_test.sh" "$BUILD/vmm/vmm" "$LIBVMM_LINUX_DIR"
		run_or_skip linux-sandbox sh "$SRC/linux_sandbox_test.sh" "$BUILD/vmm/vmm" "$LIBVMM_LINUX_DIR"
	else
		echo "== kvm test skipped: linux-perf (LIBVMM_LINUX_DIR is not set)"
	fi
	echo "kvm: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi
run guests "$BUILD/tests/integration/test-guests"
run sandbox "$BUILD/tests/integration/test-sandbox"
run multiboot "$BUILD/tests/integration/test-multiboot"
run cli sh "$SRC/cli_test.sh" "$BUILD/vmm/vmm" "$BUILD/tests/guests"
run bad-inputs sh "$SRC/bad_inputs.sh" "$BUILD/vmm/vmm" "$BUILD/tests/guests" "${LIBVMM_LINUX_DIR:-}"
LIBVMM_SKIP_SAMPLING=1 run pmu "$BUILD/tests/integration/test-pmu"
LIBVMM_SKIP_SAMPLING=1 run hostile "$BUILD/tests/integration/test-hostile"
# The Linux guest boots need the images of examples/linux-guest/build.sh.
if [ -n "${LIBVMM_LINUX_DIR:-}" ]; then
	run linux "$BUILD/tests/integration/test-linux"
	run_or_skip linux-virtio sh "$SRC/linux_virtio_test.sh" "$BUILD" "$LIBVMM_LINUX_DIR"
else
	echo "== kvm test skipped: linux (LIBVMM_LINUX_DIR is not set)"
fi
echo "kvm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
