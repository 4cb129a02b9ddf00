/* kvm-smoke: self-contained proof that /dev/kvm really runs a guest.
 *
 * Part of the TCG rig (tests/kvm-rig/): it is built statically on the host
 * and run inside a QEMU-TCG VM whose emulated CPU has AMD SVM, to check that
 * the nested /dev/kvm works before the project's own tests are trusted there.
 *
 * Checks: API version 12; a 1 MiB real-mode guest doing
 *   mov $0x3f8,%dx; mov $'K',%al; out %al,(%dx); hlt
 * exits with KVM_EXIT_IO ('K' on port 0x3f8) then KVM_EXIT_HLT; reports
 * KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_MSR_FILTER, KVM_CAP_PMU_CAPABILITY;
 * times 10000 I/O-exit round trips; tries a perf_event_open hardware event.
 * Exit status 0 only when the guest ran as expected and both MSR caps exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef KVM_CAP_PMU_CAPABILITY
#define KVM_CAP_PMU_CAPABILITY 212
#endif

#define DIE(...) do { fprintf(stderr, "kvm-smoke: FAIL: " __VA_ARGS__); \
        fprintf(stderr, " (%s)\n", strerror(errno)); exit(1); } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) DIE("open /dev/kvm");
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    printf("kvm-smoke: API version %d\n", api);
    if (api != 12) { fprintf(stderr, "kvm-smoke: FAIL: API != 12\n"); return 1; }

    int usm = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR);
    int mfl = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER);
    int pmu = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY);
    printf("kvm-smoke: CAP_X86_USER_SPACE_MSR=%d CAP_X86_MSR_FILTER=%d "
           "CAP_PMU_CAPABILITY=%d\n", usm, mfl, pmu);

    struct perf_event_attr pa = { .type = PERF_TYPE_HARDWARE, .size = sizeof pa,
        .config = PERF_COUNT_HW_CPU_CYCLES, .disabled = 0, .exclude_kernel = 1 };
    int pfd = syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
    if (pfd < 0) printf("kvm-smoke: perf hw cycles: unavailable (%s)\n", strerror(errno));
    else { printf("kvm-smoke: perf hw cycles: available\n"); close(pfd); }

    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) DIE("KVM_CREATE_VM");
    size_t memsz = 1 << 20;
    uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) DIE("mmap");
    /* 0x1000: mov $0x3f8,%dx; mov $'K',%al; out %al,(%dx); hlt
     * 0x1008: loop: out %al,(%dx); jmp loop   (for the timing run) */
    static const uint8_t code[] = { 0xba, 0xf8, 0x03, 0xb0, 'K', 0xee, 0xf4,
                                    0x90, 0xee, 0xeb, 0xfd };
    memcpy(mem + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region reg = { .slot = 0, .guest_phys_addr = 0,
        .memory_size = memsz, .userspace_addr = (uintptr_t)mem };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0) DIE("SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) DIE("KVM_CREATE_VCPU");
    int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) DIE("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) DIE("GET_SREGS");
    sregs.cs.base = 0; sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) DIE("SET_SREGS");
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) DIE("SET_REGS");

    int got_io = 0, got_hlt = 0;
    for (int i = 0; i < 4 && !got_hlt; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) DIE("KVM_RUN");
        if (run->exit_reason == KVM_EXIT_IO) {
            char c = *((char *)run + run->io.data_offset);
            printf("kvm-smoke: KVM_EXIT_IO dir=%s port=0x%x size=%d data='%c'\n",
                   run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
                   run->io.port, run->io.size, c);
            got_io = run->io.port == 0x3f8 && c == 'K';
        } else if (run->exit_reason == KVM_EXIT_HLT) {
            printf("kvm-smoke: KVM_EXIT_HLT\n");
            got_hlt = 1;
        } else {
            printf("kvm-smoke: unexpected exit_reason %u\n", run->exit_reason);
            return 1;
        }
    }
    if (!got_io || !got_hlt) { fprintf(stderr, "kvm-smoke: FAIL: io=%d hlt=%d\n", got_io, got_hlt); return 1; }

    /* Timing: jump to the OUT loop, count 10000 I/O exits. */
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0) DIE("GET_REGS");
    regs.rip = 0x1008;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) DIE("SET_REGS");
    const int n = 10000;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) DIE("KVM_RUN (loop)");
        if (run->exit_reason != KVM_EXIT_IO) {
            printf("kvm-smoke: loop exit_reason %u at %d\n", run->exit_reason, i);
            return 1;
        }
    }
    double dt = now() - t0;
    printf("kvm-smoke: %d I/O exits in %.3f s = %.1f us per KVM_RUN round trip\n",
           n, dt, dt / n * 1e6);

    if (usm <= 0 || mfl <= 0) { fprintf(stderr, "kvm-smoke: FAIL: MSR caps missing\n"); return 1; }
    printf("kvm-smoke: PASS\n");
    return 0;
}
