/*
 * libFuzzer harness of the MSR router: random claims (overlapping, empty,
 * at the top of the MSR space) and random accesses. Checked: an access
 * reaches the owner exactly when an accepted claim covers it, a lookup
 * agrees with the claims accepted, and the KVM filter built from them
 * always fits its declared bitmap size.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>

#include "fuzz_input.h"
#include "vmm/msr_router.h"

#define MAX_CLAIMS 64

struct claim {
	uint32_t base, count;
};

struct owner {
	unsigned int calls;
};

static int own_rd(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t *val)
{
	((struct owner *)opaque)->calls++;
	*val = msr;
	return 0;
}

static int own_wr(void *opaque, unsigned int vcpu, uint32_t msr, uint64_t val)
{
	((struct owner *)opaque)->calls++;
	return 0;
}

static const struct msr_owner_ops ops = {.rdmsr = own_rd, .wrmsr = own_wr};

static bool covered(const struct claim *c, unsigned int n, uint32_t msr)
{
	for (unsigned int i = 0; i < n; i++)
		if (msr >= c[i].base && (uint64_t)msr < (uint64_t)c[i].base + c[i].count)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct claim claims[MAX_CLAIMS];
	unsigned int nclaims = 0;
	struct msr_router r;
	struct owner o = {0};

	if (msr_router_init(&r) < 0)
		return 0;
	while (fuzz_left(&in) >= 6) {
		unsigned int op = (unsigned int)fuzz_uint(&in, 1);
		uint32_t msr = (uint32_t)fuzz_uint(&in, 4);
		uint32_t count = (uint32_t)fuzz_uint(&in, 1);
		uint64_t val;
		unsigned int before = o.calls;
		int ret;

		/* Mostly MSRs near the ones VMMs claim, so claims and accesses meet. */
		if (op & 0x80)
			msr = (op & 0x40 ? 0xc0010000u : 0x180u) + (msr & 0x3ff);
		switch (op % 3) {
		case 0:
			if (nclaims < MAX_CLAIMS &&
			    msr_router_claim(&r, msr, count, &ops, &o, "fuzz") == 0 && count > 0)
				claims[nclaims++] = (struct claim){msr, count};
			break;
		case 1:
			ret = msr_router_rdmsr(&r, 0, msr, &val);
			if ((ret == 0) != covered(claims, nclaims, msr) ||
			    (ret == 0 && (val != msr || o.calls != before + 1)))
				abort();
			break;
		default:
			ret = msr_router_wrmsr(&r, 0, msr, fuzz_uint(&in, 8));
			if ((ret == 0) != covered(claims, nclaims, msr))
				abort();
			break;
		}
		if ((msr_router_find(&r, msr) != NULL) != covered(claims, nclaims, msr))
			abort();
	}
	/* The filter's bitmaps fit the size the router asks for. */
	{
		size_t len = msr_router_bitmaps_len(&r);
		uint8_t *bm = malloc(len ? len : 1);
		struct kvm_msr_filter f;

		if (bm != NULL) {
			if (msr_router_build_filter(&r, &f, bm, len) < 0)
				abort();
			free(bm);
		}
	}
	msr_router_destroy(&r);
	return 0;
}
