/* Integration tests: the test guests under real KVM through libvmm. Each
 * skips, saying why, when /dev/kvm is unusable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kvm_check.h"

/* Build, run and tear down one guest; returns how it ended. */
static struct vmm_exit run_guest(const char *name, unsigned int cpus,
				 struct console_capture *cap)
{
	struct vmm_config cfg;
	struct vmm_exit ex;
	struct vmm *vm;
	char path[512], err[256];

	config_for_guest(&cfg, name, path, sizeof(path), cap);
	cfg.cpus = cpus;
	assert_int_equal(vmm_create(&cfg, &vm, err, sizeof(err)), 0);
	assert_int_equal(vmm_run(vm), 0);
	assert_int_equal(vmm_run(vm), -EBUSY);
	vmm_get_exit(vm, &ex);
	vmm_destroy(vm);
	return ex;
}

static void test_hello(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	ex = run_guest("hello", 1, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(cap.buf, "Hello from a libvmm guest\n");
}

static void test_exit_code(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	ex = run_guest("exit_code", 1, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 42);
}

static void test_io_roundtrip(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	ex = run_guest("io_roundtrip", 1, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(cap.buf, "pio ok\nmmio ok\n");
}

static void test_unknown_msr_gp(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	ex = run_guest("msr_gp", 1, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
	assert_string_equal(cap.buf, "gp ok\n");
}

static void test_triple_fault(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	ex = run_guest("triple_fault", 1, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_ERROR);
	assert_non_null(strstr(ex.message, "triple fault"));
	assert_non_null(strstr(ex.message, "RIP 0x"));
}

static void test_smp_firmware(void **state)
{
	struct console_capture cap;
	struct vmm_exit ex;

	SKIP_WITHOUT_KVM();
	/* APs wait for SIPI; the VM still ends cleanly when the BSP exits. */
	ex = run_guest("hello", 4, &cap);
	assert_int_equal(ex.reason, VMM_EXIT_TEST);
	assert_int_equal(ex.code, 0);
}

struct vm_thread {
	struct vmm *vm;
	pthread_t thread;
};

static void *run_thread(void *arg)
{
	struct vm_thread *t = arg;

	vmm_run(t->vm);
	return NULL;
}

static void test_two_vms_at_once(void **state)
{
	struct console_capture cap[2];
	struct vm_thread t[2];
	struct vmm_config cfg;
	char path[512], err[256];
	const char *names[2] = {"hello", "exit_code"};

	SKIP_WITHOUT_KVM();
	for (int i = 0; i < 2; i++) {
		config_for_guest(&cfg, names[i], path, sizeof(path), &cap[i]);
		assert_int_equal(vmm_create(&cfg, &t[i].vm, err, sizeof(err)), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i].thread, NULL, run_thread, &t[i]), 0);
	for (int i = 0; i < 2; i++) {
		struct vmm_exit ex;

		pthread_join(t[i].thread, NULL);
		vmm_get_exit(t[i].vm, &ex);
		assert_int_equal(ex.reason, VMM_EXIT_TEST);
		assert_int_equal(ex.code, i == 0 ? 0 : 42);
		vmm_destroy(t[i].vm);
	}
	assert_string_equal(cap[0].buf, "Hello from a libvmm guest\n");
	assert_int_equal(cap[1].len, 0);
}

static void test_stop_from_another_thread(void **state)
{
	struct console_capture cap;
	struct vm_thread t;
	struct vmm_config cfg;
	struct vmm_exit ex;
	char path[512], err[256];

	SKIP_WITHOUT_KVM();
	/* A stop requested before the run ends the VM as soon as it starts
	 * (the guest may win the race and exit first: both are fine). */
	config_for_guest(&cfg, "hello", path, sizeof(path), &cap);
	cfg.cpus = 2;
	assert_int_equal(vmm_create(&cfg, &t.vm, err, sizeof(err)), 0);
	vmm_stop(t.vm); /* before run: the VM stops as soon as it starts */
	assert_int_equal(pthread_create(&t.thread, NULL, run_thread, &t), 0);
	pthread_join(t.thread, NULL);
	vmm_get_exit(t.vm, &ex);
	assert_true(ex.reason == VMM_EXIT_STOPPED || ex.reason == VMM_EXIT_TEST);
	vmm_destroy(t.vm);
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
