/* Unit tests of the virtqueue walker against a hostile driver: each
 * malformed chain or queue set-up must leave the virtio-blk device in
 * DEVICE_NEEDS_RESET with a config interrupt, serve nothing more until a
 * reset, and touch nothing outside the fake guest RAM (guard bytes). */
#include "virtio_blk_fixture.h"

struct hostile {
	const char *name;
	uint64_t features;
	uint16_t qsize;
	void (*make)(struct t *t);
	/* Valid chains taken before the broken one (served, never used). */
	unsigned int served;
};

/* A valid request's header and status, for chains built around them. */
static void valid_header(struct t *t)
{
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 0};

	memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
}

static void h_loop(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, DATA_GPA, 512, D_NEXT, 0);
	publish(&t->drv, 0, 0);
}

static void h_self_loop(struct t *t)
{
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 0);
	publish(&t->drv, 0, 0);
}

static void h_next_too_big(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, t->drv.q[0].size);
	put_desc(&t->drv, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_beyond_ram(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, RAM_SIZE - 256, 512, D_WRITE | D_NEXT, 2);
	put_desc(&t->drv, DESC_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_at_ram_end(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, RAM_SIZE, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_high_gpa(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, 1ULL << 32, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_wrap(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, UINT64_MAX - 0xf, 0x20, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_wrap_to_ram(struct t *t)
{
	/* addr + len wraps to a small gpa that is RAM. */
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, UINT64_MAX - 0xfff, 0x2000, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_avail_jump(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	/* All entries name a valid chain; only the index is wrong. */
	t->drv.q[0].avail_idx = t->drv.q[0].size;
	publish(&t->drv, 0, 0);
}

static void h_head_too_big(struct t *t)
{
	publish(&t->drv, 0, t->drv.q[0].size);
}

static void h_head_max(struct t *t)
{
	publish(&t->drv, 0, 0xffff);
}

static void h_read_after_write(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, DATA_GPA, 512, D_WRITE | D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, HDR_GPA, 16, D_NEXT, 2);
	put_desc(&t->drv, DESC_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

/* A valid indirect table of header, data, status at TABLE_GPA. */
static void valid_table(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, TABLE_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, TABLE_GPA, 1, DATA_GPA, 512, D_WRITE | D_NEXT, 2);
	put_desc(&t->drv, TABLE_GPA, 2, STATUS_GPA, 1, D_WRITE, 0);
}

static void h_indirect_next(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT | D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_nested(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, TABLE_GPA + 0x100, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA + 0x100, 16, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_nested_second(struct t *t)
{
	/* The nested table comes after a valid entry. */
	valid_table(t);
	put_desc(&t->drv, TABLE_GPA + 0x100, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, TABLE_GPA + 0x100, 1, TABLE_GPA, 48, D_INDIRECT, 0);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA + 0x100, 32, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_len(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 40, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_empty(struct t *t)
{
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 0, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_outside(struct t *t)
{
	/* Starts in RAM, ends past it. */
	put_desc(&t->drv, DESC_GPA, 0, RAM_SIZE - 16, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_far(struct t *t)
{
	put_desc(&t->drv, DESC_GPA, 0, UINT64_MAX - 15, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_next_too_big(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, TABLE_GPA, 2, STATUS_GPA, 1, D_WRITE | D_NEXT, 3);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_loop(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, TABLE_GPA, 1, DATA_GPA, 512, D_WRITE | D_NEXT, 0);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

static void h_indirect_buffer_outside(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, TABLE_GPA, 1, RAM_SIZE - 1, 2, D_WRITE | D_NEXT, 2);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

/* Valid in every other way, but the feature was not negotiated. */
static void h_indirect_not_negotiated(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 48, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

/* VIRTQ_MAX_SEGS + 1 buffers in a direct chain (queue of 256). */
static void h_too_many_direct(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	for (uint16_t i = 1; i < VIRTQ_MAX_SEGS; i++)
		put_desc(&t->drv, DESC_GPA, i, DATA_GPA, 512, D_WRITE | D_NEXT, i + 1);
	put_desc(&t->drv, DESC_GPA, VIRTQ_MAX_SEGS, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
}

/* A direct buffer, then a full indirect table of VIRTQ_MAX_SEGS. */
static void h_too_many_mixed(struct t *t)
{
	valid_header(t);
	for (uint16_t i = 0; i < VIRTQ_MAX_SEGS; i++)
		put_desc(&t->drv, TABLE_GPA, i, DATA_GPA, 512,
			 D_WRITE | (i + 1 < VIRTQ_MAX_SEGS ? D_NEXT : 0), i + 1);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, TABLE_GPA, 16 * VIRTQ_MAX_SEGS, D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

/* An indirect table longer than VIRTQ_MAX_SEGS entries. */
static void h_table_too_long(struct t *t)
{
	valid_table(t);
	put_desc(&t->drv, DESC_GPA, 0, TABLE_GPA, 16 * (VIRTQ_MAX_SEGS + 1), D_INDIRECT, 0);
	publish(&t->drv, 0, 0);
}

/* After a valid chain, a broken one in the same batch. */
static void h_second_chain(struct t *t)
{
	valid_header(t);
	put_desc(&t->drv, DESC_GPA, 0, HDR_GPA, 16, D_NEXT, 1);
	put_desc(&t->drv, DESC_GPA, 1, STATUS_GPA, 1, D_WRITE, 0);
	publish(&t->drv, 0, 0);
	put_desc(&t->drv, DESC_GPA, 2, HDR_GPA, 16, D_NEXT, 2);
	publish(&t->drv, 0, 2);
}

#define F_NOINDIR (F_LINUX & ~F_INDIR)

static const struct hostile hostile_cases[] = {
    {"loop", F_LINUX, DEFAULT_QSIZE, h_loop, 0},
    {"self loop", F_LINUX, DEFAULT_QSIZE, h_self_loop, 0},
    {"next >= size", F_LINUX, DEFAULT_QSIZE, h_next_too_big, 0},
    {"buffer crosses RAM end", F_LINUX, DEFAULT_QSIZE, h_beyond_ram, 0},
    {"buffer at RAM end", F_LINUX, DEFAULT_QSIZE, h_at_ram_end, 0},
    {"buffer above RAM", F_LINUX, DEFAULT_QSIZE, h_high_gpa, 0},
    {"addr+len wraps", F_LINUX, DEFAULT_QSIZE, h_wrap, 0},
    {"addr+len wraps into RAM", F_LINUX, DEFAULT_QSIZE, h_wrap_to_ram, 0},
    {"avail idx jump", F_LINUX, DEFAULT_QSIZE, h_avail_jump, 0},
    {"head >= size", F_LINUX, DEFAULT_QSIZE, h_head_too_big, 0},
    {"head 0xffff", F_LINUX, DEFAULT_QSIZE, h_head_max, 0},
    {"readable after writable", F_LINUX, DEFAULT_QSIZE, h_read_after_write, 0},
    {"INDIRECT with NEXT", F_LINUX, DEFAULT_QSIZE, h_indirect_next, 0},
    {"nested INDIRECT", F_LINUX, DEFAULT_QSIZE, h_indirect_nested, 0},
    {"nested INDIRECT, second entry", F_LINUX, DEFAULT_QSIZE, h_indirect_nested_second, 0},
    {"indirect len % 16", F_LINUX, DEFAULT_QSIZE, h_indirect_len, 0},
    {"indirect len 0", F_LINUX, DEFAULT_QSIZE, h_indirect_empty, 0},
    {"indirect table crosses RAM end", F_LINUX, DEFAULT_QSIZE, h_indirect_outside, 0},
    {"indirect table wraps", F_LINUX, DEFAULT_QSIZE, h_indirect_far, 0},
    {"indirect next >= table", F_LINUX, DEFAULT_QSIZE, h_indirect_next_too_big, 0},
    {"indirect loop", F_LINUX, DEFAULT_QSIZE, h_indirect_loop, 0},
    {"indirect buffer outside RAM", F_LINUX, DEFAULT_QSIZE, h_indirect_buffer_outside, 0},
    {"INDIRECT not negotiated", F_NOINDIR, DEFAULT_QSIZE, h_indirect_not_negotiated, 0},
    {"> VIRTQ_MAX_SEGS direct", F_LINUX, 256, h_too_many_direct, 0},
    {"> VIRTQ_MAX_SEGS direct + indirect", F_LINUX, 256, h_too_many_mixed, 0},
    {"indirect table > VIRTQ_MAX_SEGS", F_LINUX, 256, h_table_too_long, 0},
    {"broken second chain", F_LINUX, DEFAULT_QSIZE, h_second_chain, 1},
};

static void run_hostile(const struct hostile *h)
{
	struct t *t = t_running(false, h->features, h->qsize);
	uint32_t used = 0;

	print_message("hostile: %s\n", h->name);
	memset(t->drv.mem + DATA_GPA, 0x3c, 4096);
	t->drv.mem[STATUS_GPA] = 0xff;
	h->make(t);
	virtio_blk_process(&t->blk);

	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING | S_NEEDS_RESET);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_CONFIG);
	assert_int_equal(t->irqs, 1);
	/* Nothing given back, nothing written but by the valid chains. */
	assert_int_equal(used_idx(&t->drv, 0), 0);
	assert_int_equal(t->blk.stats.reads + t->blk.stats.writes + t->blk.stats.errors, h->served);
	if (!h->served)
		assert_int_equal(t->drv.mem[STATUS_GPA], 0xff);
	assert_int_equal(t->drv.mem[DATA_GPA], 0x3c);
	assert_guards(&t->drv);

	/* Broken stays broken: a valid chain offered now is not taken. */
	{
		struct virtio_blk_outhdr hdr = {.type = VIRTIO_BLK_T_FLUSH};
		uint16_t last = t->blk.mmio.vq[0].last_avail;

		memcpy(t->drv.mem + HDR_GPA + 0x40, &hdr, sizeof(hdr));
		put_desc(&t->drv, DESC_GPA, 20, HDR_GPA + 0x40, 16, D_NEXT, 21);
		put_desc(&t->drv, DESC_GPA, 21, STATUS_GPA + 0x40, 1, D_WRITE, 0);
		t->drv.q[0].avail_idx = t->blk.mmio.vq[0].last_avail;
		publish(&t->drv, 0, 20);
		virtio_blk_process(&t->blk);
		assert_int_equal(t->blk.mmio.vq[0].last_avail, last);
		assert_int_equal(used_idx(&t->drv, 0), 0);
		assert_int_equal(t->irqs, 1);
	}

	/* A reset and a new set-up bring it back. */
	w32(&t->drv, STATUS, 0);
	assert_int_equal(r32(&t->drv, STATUS), 0);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);
	assert_int_equal(driver_init(t, h->features, h->qsize), S_RUNNING);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	t_free(t);
}

static void test_hostile_chains(void **state)
{
	for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++)
		run_hostile(&hostile_cases[i]);
}

/* Queue set-ups the device must refuse at QUEUE_READY: broken too. */
static void test_hostile_queue_setup(void **state)
{
	static const struct {
		uint32_t num;
		uint64_t desc, avail, used;
	} bad[] = {
	    {0, DESC_GPA, AVAIL_GPA, USED_GPA},	       /* size 0 */
	    {48, DESC_GPA, AVAIL_GPA, USED_GPA},       /* not a power of two */
	    {512, DESC_GPA, AVAIL_GPA, USED_GPA},      /* above QueueNumMax */
	    {0x10040, DESC_GPA, AVAIL_GPA, USED_GPA},  /* not cut to 16 bits */
	    {64, DESC_GPA + 8, AVAIL_GPA, USED_GPA},   /* desc misaligned */
	    {64, DESC_GPA, AVAIL_GPA + 1, USED_GPA},   /* avail misaligned */
	    {64, DESC_GPA, AVAIL_GPA, USED_GPA + 2},   /* used misaligned */
	    {64, RAM_SIZE - 512, AVAIL_GPA, USED_GPA}, /* desc past RAM */
	    {64, DESC_GPA, RAM_SIZE - 128, USED_GPA},  /* avail past RAM */
	    {64, DESC_GPA, AVAIL_GPA, RAM_SIZE - 512}, /* used past RAM */
	    {64, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3}, /* wraps */
	    {64, 1ULL << 40, AVAIL_GPA, USED_GPA},     /* far above RAM */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct t *t = t_new(false);

		w32(&t->drv, STATUS, S_ACK | S_DRIVER);
		w32(&t->drv, DRV_FEATURES_SEL, 1);
		w32(&t->drv, DRV_FEATURES, 1);
		w32(&t->drv, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		w32(&t->drv, QUEUE_SEL, 0);
		driver_queue_layout(&t->drv, bad[i].num, bad[i].desc, bad[i].avail, bad[i].used);
		w32(&t->drv, QUEUE_READY, 1);
		assert_int_equal(r32(&t->drv, QUEUE_READY), 0);
		assert_int_equal(r32(&t->drv, STATUS),
				 S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
		assert_int_equal(r32(&t->drv, INT_STATUS), INT_CONFIG);
		assert_int_equal(t->irqs, 1);
		virtio_blk_process(&t->blk);
		t_free(t);
	}
}

/* virtq_needs_interrupt() on its own: used_event with EVENT_IDX,
 * NO_INTERRUPT without. */

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_chains),
	    cmocka_unit_test(test_hostile_queue_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
