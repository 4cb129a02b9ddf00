/* Integration tests: the test guests under real KVM through libvmm. Each
 * skips, saying why, when /dev/kvm is unusable. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kvmtest.h"

/* Build test guest @name with @cpus vCPUs into @r; fails the test if it
 * cannot be built. */
static void create_guest(const char *name, unsigned int cpus, struct kvmtest_run *r)
{
	const struct kvmtest_opts o = {.guest = name, .cpus = cpus};
	char err[256];

	if (kvmtest_create(&o, r, err, sizeof(err)) < 0)
		fail_msg("vmm_create(%s): %s", name, err);
}

/* Build, run and tear down one guest; returns how it ended. */
static struct vmm_exit run_guest(const char *name, unsigned int cpus, struct kvmtest_run *r)
{
	create_guest(name, cpus, r);
	assert_int_equal(kvmtest_wait(r), 0);
	assert_int_equal(vmm_run(r->vm), -EBUSY);
	kvmtest_destroy(r);
	return r->exit;
}

static void test_hello(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	ex = run_guest("hello", 1, &r);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(r.console.buf, "Hello from a libvmm guest\n");
}

static void test_exit_code(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	ex = run_guest("exit_code", 1, &r);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 42);
}

static void test_io_roundtrip(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	ex = run_guest("io_roundtrip", 1, &r);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(r.console.buf, "pio ok\nmmio ok\n");
}

static void test_unknown_msr_gp(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	ex = run_guest("msr_gp", 1, &r);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(r.console.buf, "gp ok\n");
}

static void test_triple_fault(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	ex = run_guest("triple_fault", 1, &r);
	assert_int_equal(ex.reason, VMM_EXIT_ERROR);
	assert_non_null(strstr(ex.message, "triple fault"));
	assert_non_null(strstr(ex.message, "RIP 0x"));
}

static void test_smp_firmware(void **state)
{
	struct kvmtest_run r;
	struct vmm_exit ex;

	KVMTEST_SKIP_WITHOUT_KVM();
	/* APs wait for SIPI; the VM still ends cleanly when the BSP exits. */
	ex = run_guest("hello", 4, &r);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
}

static void *run_thread(void *arg)
{
	kvmtest_wait(arg);
	return NULL;
}

static void test_two_vms_at_once(void **state)
{
	struct kvmtest_run r[2];
	pthread_t thread[2];
	const char *names[2] = {"hello", "exit_code"};

	KVMTEST_SKIP_WITHOUT_KVM();
	for (int i = 0; i < 2; i++)
		create_guest(names[i], 1, &r[i]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&thread[i], NULL, run_thread, &r[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(thread[i], NULL);
		assert_int_equal(r[i].exit.reason, VMM_EXIT_TEST);
		assert_int_equal(r[i].exit.code, i == 0 ? 0 : 42);
		kvmtest_destroy(&r[i]);
	}
	assert_string_equal(r[0].console.buf, "Hello from a libvmm guest\n");
	assert_int_equal(r[1].console.len, 0);
}

static void test_stop_from_another_thread(void **state)
{
	struct kvmtest_run r;
	pthread_t thread;

	KVMTEST_SKIP_WITHOUT_KVM();
	/* A stop requested before the run ends the VM as soon as it starts
	 * (the guest may win the race and exit first: both are fine). */
	create_guest("hello", 2, &r);
	vmm_stop(r.vm); /* before run: the VM stops as soon as it starts */
	assert_int_equal(pthread_create(&thread, NULL, run_thread, &r), 0);
	pthread_join(thread, NULL);
	assert_true(r.exit.reason == VMM_EXIT_STOPPED || r.exit.reason == VMM_EXIT_TEST);
	kvmtest_destroy(&r);
}

static void test_create_errors(void **state)
{
	struct vmm_config cfg;
	struct vmm *vm;
	char err[256];

	/* These fail before /dev/kvm is opened, so they run everywhere. */
	vmm_config_init(&cfg);
	cfg.firmware_path = "/nonexistent/guest.bin";
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/guest.bin"));
	assert_null(vm);
	cfg.memory_bytes = 0;
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too small"));
	cfg.memory_bytes = 1ULL << 50;
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "exceeds"));
	cfg.memory_bytes = 64ULL << 20;
	cfg.cpus = 0;
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), -EINVAL);
	cfg.cpus = 1;
	cfg.firmware_path = NULL;
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_errors),
	    cmocka_unit_test(test_hello),
	    cmocka_unit_test(test_exit_code),
	    cmocka_unit_test(test_io_roundtrip),
	    cmocka_unit_test(test_unknown_msr_gp),
	    cmocka_unit_test(test_triple_fault),
	    cmocka_unit_test(test_smp_firmware),
	    cmocka_unit_test(test_two_vms_at_once),
	    cmocka_unit_test(test_stop_from_another_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
