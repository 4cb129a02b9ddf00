/* Unit tests of the virtio-mmio transport, the split virtqueue and
 * virtio-blk over the shared fixture (virtio_blk_fixture.h): feature
 * negotiation, block requests over a temporary image, interrupt
 * suppression, a reset with a request in flight, and the register file's
 * rules. Hostile chains are in test_virtio_hostile.c. */
#include "virtio_blk_fixture.h"

static void test_negotiation(void **state)
{
	struct t *t = t_new(false);
	uint64_t offered = BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
			   BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) |
			   BIT(VIRTIO_BLK_F_WRITE_ZEROES) | F_INDIR | F_EVIDX | F_V1;

	assert_offered(&t->drv, offered);

	/* A legacy driver (no VERSION_1) is refused FEATURES_OK. */
	assert_int_equal(driver_init(t, BIT(VIRTIO_BLK_F_FLUSH), DEFAULT_QSIZE), S_ACK | S_DRIVER);
	/* DRIVER_OK without FEATURES_OK: the device asks for a reset. */
	w32(&t->drv, STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	assert_int_equal(r32(&t->drv, STATUS) & (S_NEEDS_RESET | S_DRIVER_OK), S_NEEDS_RESET);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_CONFIG);
	assert_int_equal(t->irqs, 1);
	/* The driver cannot clear NEEDS_RESET but by a reset. */
	w32(&t->drv, STATUS, S_ACK);
	assert_int_equal(r32(&t->drv, STATUS), S_ACK | S_NEEDS_RESET);
	w32(&t->drv, STATUS, 0);
	assert_int_equal(r32(&t->drv, STATUS), 0);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);

	/* Bits the device did not offer, low or high. */
	assert_int_equal(driver_init(t, F_V1 | BIT(VIRTIO_BLK_F_SIZE_MAX), DEFAULT_QSIZE),
			 S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_V1 | BIT(33), DEFAULT_QSIZE), S_ACK | S_DRIVER);
	assert_int_equal(driver_init(t, F_V1 | BIT(VIRTIO_BLK_F_RO), DEFAULT_QSIZE),
			 S_ACK | S_DRIVER);

	/* Offered bits only: accepted, and fixed from FEATURES_OK on. */
	assert_int_equal(driver_init(t, F_LINUX, DEFAULT_QSIZE), S_RUNNING);
	assert_int_equal(t->blk.mmio.driver_features, F_LINUX);
	w32(&t->drv, DRV_FEATURES_SEL, 0);
	w32(&t->drv, DRV_FEATURES, 0);
	w32(&t->drv, DRV_FEATURES_SEL, 1);
	w32(&t->drv, DRV_FEATURES, 0);
	assert_int_equal(t->blk.mmio.driver_features, F_LINUX);
	assert_int_equal(t->irqs, 1);

	/* Config space as Linux's virtio_cread reads it (64-bit as 2 x 32). */
	assert_int_equal(r32(&t->drv, CONFIG), DISK_BYTES / 512);
	assert_int_equal(r32(&t->drv, CONFIG + 4), 0);
	assert_int_equal(r32(&t->drv, CONFIG + offsetof(struct virtio_blk_config, seg_max)),
			 VIRTQ_MAX_SEGS - 2);
	assert_int_equal(r32(&t->drv, CONFIG + offsetof(struct virtio_blk_config, blk_size)), 512);
	assert_int_equal(r32(&t->drv, CONFIG + offsetof(struct virtio_blk_config, max_discard_seg)),
			 1);
	/* Past the config structure: zeros, no overread. */
	assert_int_equal(r32(&t->drv, CONFIG + sizeof(struct virtio_blk_config)), 0);
	assert_int_equal(r32(&t->drv, CONFIG + sizeof(struct virtio_blk_config) - 2), 0);
	t_free(t);
}

static void test_blk_read_write(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint8_t pattern[1024], back[1024];
	uint32_t used = 0;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(t->drv.mem + DATA_GPA, pattern, sizeof(pattern));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 3, DATA_GPA, 1024, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(t->fd, back, sizeof(back), 3 * 512), sizeof(back));
	assert_memory_equal(back, pattern, sizeof(pattern));
	/* used_event is 0: the driver wants an interrupt for the first. */
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_VRING);
	w32(&t->drv, INT_ACK, INT_VRING);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);

	memset(t->drv.mem + DATA_GPA + 0x1000, 0, sizeof(back));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 3, DATA_GPA + 0x1000, 1024, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1024 + 1);
	assert_memory_equal(t->drv.mem + DATA_GPA + 0x1000, pattern, sizeof(pattern));

	/* The same read split over three buffers at odd places. */
	{
		struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 3};
		struct seg segs[] = {{HDR_GPA, sizeof(h), false},
				     {DATA_GPA + 0x3001, 100, true},
				     {DATA_GPA + 0x5003, 900, true},
				     {DATA_GPA + 0x7005, 24, true},
				     {STATUS_GPA, 1, true}};

		memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
		t->drv.mem[STATUS_GPA] = 0xff;
		assert_int_equal(submit(t, segs, 5), 1024 + 1);
		assert_int_equal(t->drv.mem[STATUS_GPA], VIRTIO_BLK_S_OK);
		assert_memory_equal(t->drv.mem + DATA_GPA + 0x3001, pattern, 100);
		assert_memory_equal(t->drv.mem + DATA_GPA + 0x5003, pattern + 100, 900);
		assert_memory_equal(t->drv.mem + DATA_GPA + 0x7005, pattern + 1000, 24);
	}

	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);

	memset(t->drv.mem + DATA_GPA, 0x77, 32);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, VIRTIO_BLK_ID_BYTES, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(t->drv.mem + DATA_GPA, DISK_ID, sizeof(DISK_ID)); /* NUL padded */
	assert_int_equal(t->drv.mem[DATA_GPA + VIRTIO_BLK_ID_BYTES - 1], 0);
	assert_int_equal(t->drv.mem[DATA_GPA + VIRTIO_BLK_ID_BYTES], 0x77); /* not past the id */

	assert_int_equal(t->blk.stats.reads, 2);
	assert_int_equal(t->blk.stats.writes, 1);
	assert_int_equal(t->blk.stats.bytes_read, 2048);
	assert_int_equal(t->blk.stats.bytes_written, 1024);
	assert_int_equal(t->blk.stats.flushes, 1);
	assert_int_equal(t->blk.stats.errors, 0);
	assert_int_equal(used_idx(&t->drv, 0), 5);
	t_free(t);
}

/* A whole request of VIRTQ_MAX_SEGS buffers (header, seg_max data
 * buffers, status) is the largest accepted. */
static void test_blk_max_segments(void **state)
{
	struct t *t = t_running(false, F_LINUX, 256);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_OUT, .sector = 1};
	struct seg segs[VIRTQ_MAX_SEGS];
	unsigned int n = 0, data = VIRTQ_MAX_SEGS - 2;
	uint8_t back[512];

	memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
	segs[n++] = (struct seg){HDR_GPA, sizeof(h), false};
	for (unsigned int i = 0; i < data; i++) {
		memset(t->drv.mem + DATA_GPA + 512 * i, (int)i + 1, 512);
		segs[n++] = (struct seg){DATA_GPA + 512 * i, 512, false};
	}
	segs[n++] = (struct seg){STATUS_GPA, 1, true};
	t->drv.mem[STATUS_GPA] = 0xff;
	assert_int_equal(submit(t, segs, n), 1);
	assert_int_equal(t->drv.mem[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, 512, (1 + data - 1) * 512), 512);
	assert_int_equal(back[0], data);
	assert_int_equal(back[511], data);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	t_free(t);
}

static void test_blk_errors(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint64_t cap = DISK_BYTES / 512;
	uint8_t zero[512] = {0}, back[512];
	uint32_t used = 0;

	memset(t->drv.mem + DATA_GPA, 0xee, 2048);
	/* Past the end, ending past the end, and a sector that overflows. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, cap, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, cap - 1, DATA_GPA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1ULL << 55, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, cap - 1, DATA_GPA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA_GPA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 100, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 513, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	/* An unknown type, and SCSI passthrough (not offered). */
	assert_int_equal(blk_req(t, 0x55, 0, 0, 0, &used), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(used, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_SCSI_CMD, 0, 0, 0, &used), VIRTIO_BLK_S_UNSUPP);
	/* None of that touched the image (it was all zeros). */
	for (uint64_t s = 0; s < cap; s++) {
		assert_int_equal(pread(t->fd, back, 512, (off_t)(s * 512)), 512);
		assert_memory_equal(back, zero, 512);
	}
	assert_int_equal(t->blk.stats.errors, 9);
	assert_int_equal(t->blk.stats.reads + t->blk.stats.writes, 0);
	/* Errors are answers, not breakage: the device keeps running. */
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	t_free(t);
}

/* A request with no room for a status, or no header, comes back with
 * nothing written and used length 0. */
static void test_blk_no_status(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_IN, .sector = 0};
	struct seg only_out[] = {{HDR_GPA, sizeof(h), false}};
	struct seg short_hdr[] = {{HDR_GPA, 8, false}, {STATUS_GPA, 1, true}};

	memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
	t->drv.mem[STATUS_GPA] = 0xff;
	assert_int_equal(submit(t, only_out, 1), 0);
	assert_int_equal(submit(t, short_hdr, 2), 0);
	assert_int_equal(t->drv.mem[STATUS_GPA], 0xff);
	assert_int_equal(t->blk.stats.errors, 2);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	t_free(t);
}

static bool can_punch_holes(int fd)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 512) == 0;
}

static void test_blk_discard_write_zeroes(void **state)
{
	struct t *t =
	    t_running(false, F_LINUX | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES),
		      DEFAULT_QSIZE);
	uint8_t ones[8 * 512], back[8 * 512];
	struct virtio_blk_discard_write_zeroes r = {.sector = 10, .num_sectors = 2};
	struct virtio_blk_discard_write_zeroes two[2] = {{.sector = 0, .num_sectors = 1},
							 {.sector = 4, .num_sectors = 1}};
	uint32_t used = 0;
	bool punch = can_punch_holes(t->fd);

	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(pwrite(t->fd, ones, sizeof(ones), 8 * 512), sizeof(ones));

	/* WRITE_ZEROES of sectors 10-11 (no unmap: FALLOC_FL_ZERO_RANGE). */
	memcpy(t->drv.mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(t->fd, back, sizeof(back), 8 * 512), sizeof(back));
	assert_memory_equal(back, ones, 2 * 512);
	for (size_t i = 2 * 512; i < 4 * 512; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 4 * 512, ones, 4 * 512);

	/* WRITE_ZEROES with unmap allowed, of sector 8. */
	r = (struct virtio_blk_discard_write_zeroes){.sector = 8, .num_sectors = 1, .flags = 1};
	memcpy(t->drv.mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, 512, 8 * 512), 512);
	for (size_t i = 0; i < 512; i++)
		assert_int_equal(back[i], 0);

	/* DISCARD of sectors 12-13: a hint, so zeroed only where the file
	 * can punch holes (tmpfs and ext4 can). */
	r = (struct virtio_blk_discard_write_zeroes){.sector = 12, .num_sectors = 2};
	memcpy(t->drv.mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, sizeof(back), 8 * 512), sizeof(back));
	if (punch)
		for (size_t i = 4 * 512; i < 6 * 512; i++)
			assert_int_equal(back[i], 0);
	assert_int_equal(back[9 * 512 - 8 * 512], 0xff); /* sector 9 kept */
	assert_memory_equal(back + 6 * 512, ones, 2 * 512);

	/* Out of range; more segments than max_discard_seg; not a whole
	 * segment. */
	r = (struct virtio_blk_discard_write_zeroes){.sector = DISK_BYTES / 512 - 1,
						     .num_sectors = 2};
	memcpy(t->drv.mem + DATA_GPA, &r, sizeof(r));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	memcpy(t->drv.mem + DATA_GPA, two, sizeof(two));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA, sizeof(two), &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA, 8, &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0, &used),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(t->blk.stats.errors, 5);
	t_free(t);
}

/* virtio 1.1+ 5.2.6.2: "The device MUST set the status byte to
 * VIRTIO_BLK_S_UNSUPP for discard and write zeroes commands if any unknown
 * flag is set. Furthermore, the device MUST set the status byte to
 * VIRTIO_BLK_S_UNSUPP for discard commands if the unmap flag is set." */
static void test_blk_discard_flags(void **state)
{
	struct t *t =
	    t_running(false, F_LINUX | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES),
		      DEFAULT_QSIZE);
	static const struct {
		uint32_t type, flags;
	} bad[] = {
	    {VIRTIO_BLK_T_DISCARD, 1},		{VIRTIO_BLK_T_DISCARD, 2},
	    {VIRTIO_BLK_T_DISCARD, 0x80000000}, {VIRTIO_BLK_T_WRITE_ZEROES, 2},
	    {VIRTIO_BLK_T_WRITE_ZEROES, 3},	{VIRTIO_BLK_T_WRITE_ZEROES, 0x80000001},
	};
	uint8_t ones[512], back[512];
	uint32_t used = 0;

	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(pwrite(t->fd, ones, sizeof(ones), 0), sizeof(ones));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_blk_discard_write_zeroes r = {.num_sectors = 1,
							    .flags = bad[i].flags};

		memcpy(t->drv.mem + DATA_GPA, &r, sizeof(r));
		assert_int_equal(blk_req(t, bad[i].type, 0, DATA_GPA, sizeof(r), &used),
				 VIRTIO_BLK_S_UNSUPP);
		assert_int_equal(used, 1);
	}
	/* Refused, so the sector kept its data. */
	assert_int_equal(pread(t->fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, ones, sizeof(ones));
	t_free(t);
}

static void test_blk_read_only(void **state)
{
	struct t *t = t_new(true);
	struct virtio_blk_discard_write_zeroes r = {.sector = 0, .num_sectors = 1};
	uint8_t data[512], back[512];
	uint32_t used = 0;

	/* RO offered, DISCARD and WRITE_ZEROES not. */
	w32(&t->drv, DEV_FEATURES_SEL, 0);
	assert_int_equal(
	    r32(&t->drv, DEV_FEATURES) &
		(BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES)),
	    BIT(VIRTIO_BLK_F_RO));
	assert_int_equal(driver_init(t, F_LINUX | BIT(VIRTIO_BLK_F_RO), DEFAULT_QSIZE), S_RUNNING);

	memset(data, 0x5a, sizeof(data));
	assert_int_equal(pwrite(t->fd, data, sizeof(data), 0), sizeof(data));
	memset(t->drv.mem + DATA_GPA, 0x11, 512);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	memcpy(t->drv.mem + DATA_GPA + 0x1000, &r, sizeof(r));
	assert_int_equal(
	    blk_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA_GPA + 0x1000, sizeof(r), &used),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA + 0x1000, sizeof(r), &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(t->fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, data, sizeof(data));

	/* Reads and flushes still work. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 513);
	assert_memory_equal(t->drv.mem + DATA_GPA, data, sizeof(data));
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->blk.stats.writes, 0);
	t_free(t);
}

/* Hostile chains. Each case writes its descriptors and offers head 0 (or
 * breaks the avail ring itself); the device must then be broken. */
static void test_needs_interrupt(void **state)
{
	struct t *t = t_new(false);
	struct virtq vq = {
	    .size = 8, .desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA};
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 8;

	assert_int_equal(virtq_start(&vq, &t->drv.ram), 0);
	/* Nothing new: never. */
	assert_false(virtq_needs_interrupt(&vq, 0));

	vq.event_idx = true;
	put16(&t->drv, AVAIL_GPA, 1); /* NO_INTERRUPT: ignored with EVENT_IDX */
	put16(&t->drv, used_event, 2);
	vq.used_idx = 2;
	assert_false(virtq_needs_interrupt(&vq, 0)); /* (0, 2]: wants after 3 */
	vq.used_idx = 3;
	assert_true(virtq_needs_interrupt(&vq, 2)); /* 3 is used_event + 1 */
	assert_true(virtq_needs_interrupt(&vq, 0));
	vq.used_idx = 5;
	assert_false(virtq_needs_interrupt(&vq, 3)); /* already past it */
	/* Across the 16-bit wrap. */
	put16(&t->drv, used_event, 0xffff);
	vq.used_idx = 1;
	assert_true(virtq_needs_interrupt(&vq, 0xfffe));
	assert_true(virtq_needs_interrupt(&vq, 0xffff));
	assert_false(virtq_needs_interrupt(&vq, 0));
	vq.used_idx = 0xffff;
	assert_false(virtq_needs_interrupt(&vq, 0xfffe));

	vq.event_idx = false;
	put16(&t->drv, AVAIL_GPA, 0);
	vq.used_idx = 1;
	assert_true(virtq_needs_interrupt(&vq, 0));
	put16(&t->drv, AVAIL_GPA, 1);
	assert_false(virtq_needs_interrupt(&vq, 0));
	put16(&t->drv, used_event, 0); /* used_event means nothing now */
	assert_false(virtq_needs_interrupt(&vq, 0));

	/* virtq_enable_kicks publishes avail_event after the used ring. */
	vq.event_idx = true;
	vq.last_avail = 7;
	put16(&t->drv, AVAIL_GPA + 2, 7);
	assert_false(virtq_enable_kicks(&vq));
	assert_int_equal(ram16(&t->drv, USED_GPA + 4 + 8 * 8), 7);
	put16(&t->drv, AVAIL_GPA + 2, 8);
	assert_true(virtq_enable_kicks(&vq));
	t_free(t);
}

/* The same through the device: interrupts only where the driver wants. */
static void test_event_idx_device(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	uint64_t used_event = AVAIL_GPA + 4 + 2 * DEFAULT_QSIZE;
	uint64_t avail_event = USED_GPA + 4 + 8 * DEFAULT_QSIZE;
	uint32_t used = 0;

	put16(&t->drv, used_event, 3); /* interrupt once used idx passes 3 */
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
		assert_int_equal(t->irqs, 0);
		/* The device asks for a kick for the next buffer. */
		assert_int_equal(ram16(&t->drv, avail_event), i + 1);
	}
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_VRING);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	t_free(t);

	/* Without EVENT_IDX: the NO_INTERRUPT flag. */
	t = t_running(false, F_LINUX & ~F_EVIDX, DEFAULT_QSIZE);
	put16(&t->drv, AVAIL_GPA, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);
	put16(&t->drv, AVAIL_GPA, 0);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(t->irqs, 1);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_VRING);
	/* No avail_event written without EVENT_IDX. */
	assert_int_equal(ram16(&t->drv, USED_GPA + 4 + 8 * DEFAULT_QSIZE), 0);
	t_free(t);
}

/* A request taken before a reset and completed after it: dropped, even
 * once the driver has set the queue up again at the same place. */
static void test_reset_in_flight(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtio_blk_outhdr h = {.type = VIRTIO_BLK_T_FLUSH};
	struct seg segs[] = {{HDR_GPA, sizeof(h), false}, {STATUS_GPA, 1, true}};
	struct virtq_chain *c = calloc(1, sizeof(*c));
	struct virtq_used_elem e;
	uint32_t gen, gen2;

	assert_non_null(c);
	memcpy(t->drv.mem + HDR_GPA, &h, sizeof(h));
	add_chain(&t->drv, 0, segs, 2);
	assert_int_equal(virtio_mmio_pop(&t->blk.mmio, 0, c, 1, &gen), 1);
	e = (struct virtq_used_elem){c->head, virtio_blk_request(&t->blk, c)};

	/* Reset alone: no queue to complete into. */
	w32(&t->drv, STATUS, 0);
	virtio_mmio_complete(&t->blk.mmio, 0, gen, &e, 1);
	assert_int_equal(used_idx(&t->drv, 0), 0);
	assert_int_equal(t->irqs, 0);

	/* Set up again: the old generation is still refused... */
	assert_int_equal(driver_init(t, F_LINUX, DEFAULT_QSIZE), S_RUNNING);
	virtio_mmio_complete(&t->blk.mmio, 0, gen, &e, 1);
	assert_int_equal(used_idx(&t->drv, 0), 0);
	assert_int_equal(t->irqs, 0);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);

	/* ...and the new one completes (the check can fail). */
	add_chain(&t->drv, 0, segs, 2);
	assert_int_equal(virtio_mmio_pop(&t->blk.mmio, 0, c, 1, &gen2), 1);
	assert_int_not_equal(gen2, gen);
	e = (struct virtq_used_elem){c->head, virtio_blk_request(&t->blk, c)};
	virtio_mmio_complete(&t->blk.mmio, 0, gen2, &e, 1);
	assert_int_equal(used_idx(&t->drv, 0), 1);
	assert_int_equal(ram32(&t->drv, USED_GPA + 8), 1); /* used len: the status */
	assert_int_equal(t->irqs, 1);
	free(c);
	t_free(t);
}

static void test_transport_rules(void **state)
{
	struct t *t = t_running(false, F_LINUX, DEFAULT_QSIZE);
	struct virtq *vq = &t->blk.mmio.vq[0];
	uint8_t b[16];
	uint32_t gen;

	/* Queue layout is fixed while the queue is ready. */
	w32(&t->drv, QUEUE_SEL, 0);
	w32(&t->drv, QUEUE_NUM, 16);
	w32(&t->drv, QUEUE_DESC_LO, 0x40000);
	w32(&t->drv, QUEUE_DESC_HI, 1);
	w32(&t->drv, QUEUE_DRIVER_LO, 0x41000);
	w32(&t->drv, QUEUE_DEVICE_LO, 0x42000);
	w32(&t->drv, QUEUE_DEVICE_HI, 2);
	assert_int_equal(vq->size, DEFAULT_QSIZE);
	assert_int_equal(vq->desc_gpa, DESC_GPA);
	assert_int_equal(vq->avail_gpa, AVAIL_GPA);
	assert_int_equal(vq->used_gpa, USED_GPA);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	/* ...and writable again once it is not (Linux's vm_del_vq). */
	w32(&t->drv, QUEUE_READY, 0);
	assert_int_equal(r32(&t->drv, QUEUE_READY), 0);
	w32(&t->drv, QUEUE_DESC_LO, 0x40000);
	assert_int_equal(vq->desc_gpa, 0x40000);

	/* Only queue 0 exists. */
	assert_int_equal(r32(&t->drv, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	for (uint32_t q = 1; q != 0; q = q < 8 ? q + 1 : (q == 8 ? 0x80000000u : 0)) {
		w32(&t->drv, QUEUE_SEL, q);
		assert_int_equal(r32(&t->drv, QUEUE_NUM_MAX), 0);
		assert_int_equal(r32(&t->drv, QUEUE_READY), 0);
		w32(&t->drv, QUEUE_NUM, 64);
		w32(&t->drv, QUEUE_READY, 1);
		assert_int_equal(r32(&t->drv, QUEUE_READY), 0);
	}
	assert_int_equal(t->blk.mmio.vq[1].size, 0);
	assert_int_equal(t->blk.mmio.vq[1].ready, false);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	w32(&t->drv, QUEUE_SEL, 0);

	/* Kicks: only for queues that exist. */
	w32(&t->drv, QUEUE_NOTIFY, 0);
	assert_int_equal(t->kicks, 1);
	assert_int_equal(t->last_kick, 0);
	w32(&t->drv, QUEUE_NOTIFY, 1);
	w32(&t->drv, QUEUE_NOTIFY, 0xffffffff);
	assert_int_equal(t->kicks, 1);

	/* Registers are 32 bits wide: other sizes and unaligned offsets are
	 * ignored and read as zeros. */
	memset(b, 0, sizeof(b));
	gen = t->blk.mmio.generation;
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 1);
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 2);
	virtio_mmio_write(&t->blk.mmio, STATUS, b, 8);
	virtio_mmio_write(&t->blk.mmio, STATUS + 1, b, 4);
	virtio_mmio_write(&t->blk.mmio, STATUS - 2, b, 4);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	assert_int_equal(t->blk.mmio.generation, gen); /* no reset happened */
	for (unsigned int size = 1; size <= 8; size *= 2) {
		if (size == 4)
			continue;
		memset(b, 0xcc, sizeof(b));
		virtio_mmio_read(&t->blk.mmio, MAGIC, b, size);
		for (unsigned int i = 0; i < size; i++)
			assert_int_equal(b[i], 0);
		assert_int_equal(b[size], 0xcc);
	}
	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&t->blk.mmio, MAGIC + 2, b, 4);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);

	/* InterruptACK clears only the bits written. */
	atomic_store(&t->blk.mmio.interrupt_status, INT_VRING | INT_CONFIG);
	w32(&t->drv, INT_ACK, INT_VRING);
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_CONFIG);
	b[0] = INT_CONFIG;
	virtio_mmio_write(&t->blk.mmio, INT_ACK, b, 1); /* ignored: 8 bits */
	assert_int_equal(r32(&t->drv, INT_STATUS), INT_CONFIG);
	w32(&t->drv, INT_ACK, INT_CONFIG);
	assert_int_equal(r32(&t->drv, INT_STATUS), 0);

	/* Read-only registers ignore writes. */
	w32(&t->drv, MAGIC, 0);
	w32(&t->drv, DEVICE_ID, 1);
	w32(&t->drv, QUEUE_NUM_MAX, 4);
	w32(&t->drv, INT_STATUS, 0);
	assert_int_equal(r32(&t->drv, MAGIC), 0x74726976);
	assert_int_equal(r32(&t->drv, DEVICE_ID), 2);
	assert_int_equal(r32(&t->drv, QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	/* blk has no writable config: writes change nothing. */
	w32(&t->drv, CONFIG, 0);
	assert_int_equal(r32(&t->drv, CONFIG), DISK_BYTES / 512);
	t_free(t);
}

/* A ring wrapped past 65535 avail entries keeps working. */
static void test_index_wrap(void **state)
{
	struct t *t = t_running(false, F_LINUX, 4);
	struct virtq *vq = &t->blk.mmio.vq[0];
	uint32_t used = 0;

	/* Pretend 65534 chains went by: both sides' indexes agree. */
	vq->last_avail = vq->used_idx = 0xfffe;
	t->drv.q[0].avail_idx = 0xfffe;
	put16(&t->drv, AVAIL_GPA + 2, 0xfffe);
	put16(&t->drv, USED_GPA + 2, 0xfffe);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
		assert_int_equal(used, 1);
	}
	assert_int_equal(used_idx(&t->drv, 0), 2);
	assert_int_equal(r32(&t->drv, STATUS), S_RUNNING);
	t_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiation),
	    cmocka_unit_test(test_blk_read_write),
	    cmocka_unit_test(test_blk_max_segments),
	    cmocka_unit_test(test_blk_errors),
	    cmocka_unit_test(test_blk_no_status),
	    cmocka_unit_test(test_blk_discard_write_zeroes),
	    cmocka_unit_test(test_blk_discard_flags),
	    cmocka_unit_test(test_blk_read_only),
	    cmocka_unit_test(test_needs_interrupt),
	    cmocka_unit_test(test_event_idx_device),
	    cmocka_unit_test(test_reset_in_flight),
	    cmocka_unit_test(test_transport_rules),
	    cmocka_unit_test(test_index_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
