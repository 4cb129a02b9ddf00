/* MSR router: claims, dispatch, and the KVM MSR filter built from them. */
#include <errno.h>
#include <string.h>
#include <linux/kvm.h>

#include "vmm/msr_router.h"

int msr_router_init(struct msr_router *r)
{
	memset(r, 0, sizeof(*r));
	return -pthread_mutex_init(&r->lock, NULL);
}

void msr_router_destroy(struct msr_router *r)
{
	pthread_mutex_destroy(&r->lock);
}

int msr_router_claim(struct msr_router *r, uint32_t base, uint32_t count,
		     const struct msr_owner_ops *ops, void *opaque, const char *name)
{
	uint64_t end = (uint64_t)base + count;

	if (count == 0 || end > 0x100000000ULL || ops == NULL)
		return -EINVAL;
	for (unsigned int i = 0; i < r->nr; i++) {
		const struct msr_claim *c = &r->claim[i];

		if (base < (uint64_t)c->base + c->count && c->base < end)
			return -EEXIST;
	}
	if (r->nr == MSR_MAX_CLAIMS)
		return -ENOSPC;
	r->claim[r->nr++] = (struct msr_claim){base, count, ops, opaque, name};
	return 0;
}

const struct msr_claim *msr_router_find(const struct msr_router *r, uint32_t msr)
{
	for (unsigned int i = 0; i < r->nr; i++) {
		const struct msr_claim *c = &r->claim[i];

		if (msr - c->base < c->count)
			return c;
	}
	return NULL;
}

int msr_router_rdmsr(struct msr_router *r, unsigned int vcpu, uint32_t msr, uint64_t *val)
{
	const struct msr_claim *c = msr_router_find(r, msr);

	*val = 0;
	if (c == NULL || c->ops->rdmsr == NULL)
		return -ENOENT;
	return c->ops->rdmsr(c->opaque, vcpu, msr, val);
}

int msr_router_wrmsr(struct msr_router *r, unsigned int vcpu, uint32_t msr, uint64_t val)
{
	const struct msr_claim *c = msr_router_find(r, msr);

	if (c == NULL || c->ops->wrmsr == NULL)
		return -ENOENT;
	return c->ops->wrmsr(c->opaque, vcpu, msr, val);
}

bool msr_router_first_unknown(struct msr_router *r, uint32_t msr)
{
	bool first = true;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < r->nr_logged; i++) {
		if (r->logged[i] == msr) {
			first = false;
			break;
		}
	}
	if (first) {
		if (r->nr_logged < MSR_LOGGED_MAX)
			r->logged[r->nr_logged++] = msr;
		else if (!r->logged_overflow)
			r->logged_overflow = true;
		else
			first = false;
	}
	pthread_mutex_unlock(&r->lock);
	return first;
}

size_t msr_router_bitmaps_len(const struct msr_router *r)
{
	size_t len = 0;

	for (unsigned int i = 0; i < r->nr; i++)
		len += MSR_BITMAP_BYTES(r->claim[i].count);
	return len;
}

int msr_router_build_filter(const struct msr_router *r, struct kvm_msr_filter *f,
			    uint8_t *bitmaps, size_t bitmaps_len)
{
	size_t off = 0;

	if (bitmaps_len < msr_router_bitmaps_len(r))
		return -ENOSPC;
	memset(f, 0, sizeof(*f));
	f->flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	for (unsigned int i = 0; i < r->nr; i++) {
		const struct msr_claim *c = &r->claim[i];
		size_t n = MSR_BITMAP_BYTES(c->count);

		/* A clear bit denies KVM the access, which exits to us. */
		memset(bitmaps + off, 0, n);
		f->ranges[i].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
		f->ranges[i].nmsrs = c->count;
		f->ranges[i].base = c->base;
		f->ranges[i].bitmap = bitmaps + off;
		off += n;
	}
	return 0;
}
