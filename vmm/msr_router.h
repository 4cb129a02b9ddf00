/* MSR router: owners claim MSR ranges; RDMSR/WRMSR exits go to the one
 * owner of the index; the KVM MSR filter is built from the claims so that
 * exactly the claimed MSRs exit to userspace. */
#ifndef VMM_MSR_ROUTER_H
#define VMM_MSR_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Handlers return 0, or -EINVAL when the guest must get #GP; any other
 * negative errno is a host failure (logged, the guest gets #GP). */
struct msr_owner_ops {
	int (*rdmsr)(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t *val);
	int (*wrmsr)(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t val);
};

struct msr_claim {
	uint32_t base, count;
	const struct msr_owner_ops *ops;
	void *opaque;
	const char *name;
};

#define MSR_MAX_CLAIMS 16 /* KVM_MSR_FILTER_MAX_RANGES */
#define MSR_LOGGED_MAX 32

struct msr_router {
	struct msr_claim claim[MSR_MAX_CLAIMS];
	unsigned int nr;
	pthread_mutex_t lock; /* guards the logged-once set below */
	uint32_t logged[MSR_LOGGED_MAX];
	unsigned int nr_logged;
	bool logged_overflow;
};

int msr_router_init(struct msr_router *r);
void msr_router_destroy(struct msr_router *r);

/* Claim [base, base+count). -EINVAL for an empty or wrapping range, -EEXIST
 * when it overlaps a claim, -ENOSPC when KVM's filter has no range left. */
int msr_router_claim(struct msr_router *r, uint32_t base, uint32_t count,
		     const struct msr_owner_ops *ops, void *opaque, const char *name);

/* The owner of @msr, or NULL. */
const struct msr_claim *msr_router_find(const struct msr_router *r, uint32_t msr);

/* Dispatch an exit. Returns what the owner returned, or -ENOENT when nobody
 * claimed @msr (the guest gets #GP). */
int msr_router_rdmsr(struct msr_router *r, unsigned int vcpu, uint32_t msr, uint64_t *val);
int msr_router_wrmsr(struct msr_router *r, unsigned int vcpu, uint32_t msr, uint64_t val);

/* True the first time an unclaimed @msr is seen, so it is logged only once
 * (after MSR_LOGGED_MAX distinct ones, true once more, then never). */
bool msr_router_first_unknown(struct msr_router *r, uint32_t msr);

struct kvm_msr_filter;
/* Fill a KVM filter that denies (so: exits on) every claimed MSR and lets
 * KVM handle all others. @bitmaps must hold r->nr zeroed bitmaps of
 * MSR_BITMAP_BYTES(count) each; they are pointed to by the filter. */
#define MSR_BITMAP_BYTES(count) (((count) + 7) / 8)
int msr_router_build_filter(const struct msr_router *r, struct kvm_msr_filter *f,
			    uint8_t *bitmaps, size_t bitmaps_len);
size_t msr_router_bitmaps_len(const struct msr_router *r);

#endif
