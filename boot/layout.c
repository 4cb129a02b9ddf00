/* Guest RAM layout: splitting RAM around the PCI hole and bounds-checked
 * access from guest physical addresses to host memory. Every loader write
 * into the guest goes through guest_ram_ptr(). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/layout.h"

int layout_split_ram(uint64_t size, struct guest_ram *ram)
{
	memset(ram, 0, sizeof(*ram));
	if (size == 0 || size % 4096 || size > LAYOUT_RAM_MAX)
		return -EINVAL;

	ram->region[0].gpa = 0;
	ram->region[0].size = size < LAYOUT_LOWMEM_END ? size : LAYOUT_LOWMEM_END;
	ram->nr_regions = 1;
	if (size > LAYOUT_LOWMEM_END) {
		/* What does not fit below the hole is remapped above 4 GiB. */
		ram->region[1].gpa = LAYOUT_HIGHMEM_START;
		ram->region[1].size = size - LAYOUT_LOWMEM_END;
		ram->nr_regions = 2;
	}
	ram->total = size;
	return 0;
}

static const struct guest_region *region_of(const struct guest_ram *ram, uint64_t gpa)
{
	unsigned int n = ram->nr_regions < 2 ? ram->nr_regions : 2;

	for (unsigned int i = 0; i < n; i++) {
		const struct guest_region *r = &ram->region[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size)
			return r;
	}
	return NULL;
}

void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	const struct guest_region *r = region_of(ram, gpa);
	uint64_t off;

	if (!r || !r->host)
		return NULL;
	/* Written as subtractions so that no gpa + len can wrap around. */
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

int guest_ram_write(const struct guest_ram *ram, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = guest_ram_ptr(ram, gpa, len);

	if (!dst)
		return -EFAULT;
	if (len)
		memmove(dst, src, len);
	return 0;
}

/* Below this a zero fill is cheaper as a memset than as a system call. */
#define FILL_DROP_MIN (64 * 1024)
#define FILL_PAGE     4096ULL

int guest_ram_fill(const struct guest_ram *ram, uint64_t gpa, int c, uint64_t len)
{
	uint8_t *dst = guest_ram_ptr(ram, gpa, len);
	uint64_t head, whole;

	if (!dst)
		return -EFAULT;
	if (c != 0 || !ram->private_anon || len < FILL_DROP_MIN) {
		memset(dst, c, len);
		return 0;
	}
	head = -(uintptr_t)dst & (FILL_PAGE - 1);
	whole = (len - head) & ~(FILL_PAGE - 1);
	/* Only memory whose pages really drop to zero may skip the memset. */
	if (madvise(dst + head, whole, MADV_DONTNEED) < 0) {
		memset(dst, 0, len);
		return 0;
	}
	memset(dst, 0, head);
	memset(dst + head + whole, 0, len - head - whole);
	return 0;
}

uint64_t guest_ram_region_end(const struct guest_ram *ram, uint64_t gpa)
{
	const struct guest_region *r = region_of(ram, gpa);

	/* gpa == end of a region is "not in RAM" for this question. */
	if (!r || gpa - r->gpa == r->size)
		return 0;
	return r->gpa + r->size;
}
