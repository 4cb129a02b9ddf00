/*
 * libFuzzer harness of the virtio-mmio transport, the split virtqueue walker
 * and virtio-blk: the input is a guest driver that may do anything. It
 * drives a virtio-blk over a 64 KiB in-memory image (a memfd, zeroed for
 * every input) and a 256 KiB guest RAM between guard pages (fuzz_ram.h), so
 * that any access past it faults.
 *
 * Input: one byte of set-up (bit 0: read-only disk), then operations, each
 * an opcode byte and its operands (little endian):
 *   0 W32    reg(1) val(4)        32-bit register write at reg * 4
 *   1 R32    reg(1)               32-bit register read at reg * 4
 *   2 ACCESS off(2) how(1) val(8) any size (1/2/4/8) at any offset < 0x400,
 *                                 a write if how & 4
 *   3 RAM    gpa(3) len(1) bytes  raw bytes into guest RAM
 *   4 KICK                        the I/O thread serves the queue
 *   5 DESC   idx(1) fl(1) addr(8) len(4) next(2)
 *                                 a descriptor in the driver's table (fl & 7
 *                                 its flags; addr taken modulo RAM unless
 *                                 fl & 0x80)
 *   6 AVAIL  head(2)              offer a chain (ring entry, then idx + 1)
 *   7 SETUP  feat(1) qsz(1) at(1) Linux's whole probe and queue set-up
 *   8 REQ    type(1) sector(1) n(1) fl(1)
 *                                 a well-formed blk request (fl & 1: in an
 *                                 indirect table) and its offer
 *   9 HOLD   max(1)               the I/O thread takes chains, keeps them
 *  10 DONE                        ...and serves and completes them now
 *  11 RING   which(1) val(2)      avail flags or used_event
 *  12 RESET                       status 0
 *  13-15 KICK
 * Checked after every operation: no crash or sanitizer report, a device
 * that was not running (no DRIVER_OK, queue not ready, or NEEDS_RESET)
 * serves nothing and writes nothing on a kick,
 * NEEDS_RESET goes only with a reset and comes with a config interrupt,
 * and completions of a generation before a reset are dropped; at the end,
 * the image keeps its size.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio_blk.h"
#include "fuzz_input.h"
#include "virtio_fuzz_driver.h"

#define RAM_SIZE   (256 * 1024)
#define DISK_BYTES (64 * 1024)
#define HOLD_MAX   4

static int disk = -1;
static struct fuzz_driver drv;
static struct virtio_blk blk;
static unsigned int next_req;
static struct {
	struct virtq_chain chains[HOLD_MAX];
	struct virtq_used_elem used[HOLD_MAX];
	unsigned int n;
	uint32_t gen;
} held;

static void once(void)
{
	disk = memfd_create("fuzz-virtio-disk", 0);
	if (disk < 0)
		abort();
	fuzz_driver_init(&drv, RAM_SIZE);
}

/* What SETUP's feature bits 2 to 7 ask for. */
static const uint64_t blk_features[6] = {
    VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH),	       VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD),
    VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES), VIRTIO_FEATURE(VIRTIO_BLK_F_RO),
    VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX),      VIRTIO_FEATURE(1), /* not offered */
};

/* A request as Linux's virtio_blk lays it out, in one of 8 areas of 16 KiB
 * at 128 KiB: header at +0, status at +0x20, indirect table at +0x40, data
 * at +0x1000. */
static void request(uint8_t type_sel, uint8_t sector, uint8_t nsect, uint8_t fl)
{
	static const uint32_t types[] = {
	    VIRTIO_BLK_T_IN,	   VIRTIO_BLK_T_OUT,
	    VIRTIO_BLK_T_FLUSH,	   VIRTIO_BLK_T_GET_ID,
	    VIRTIO_BLK_T_DISCARD,  VIRTIO_BLK_T_WRITE_ZEROES,
	    VIRTIO_BLK_T_SCSI_CMD, 0x55,
	};
	uint64_t base = 0x20000 + 0x4000 * (uint64_t)(next_req++ % 8);
	struct virtio_blk_outhdr h = {.type = types[type_sel % 8], .sector = sector};
	uint32_t len = (uint32_t)(nsect % 17) * 512;
	bool in = h.type == VIRTIO_BLK_T_IN || h.type == VIRTIO_BLK_T_GET_ID;
	struct virtq_desc d[3];
	unsigned int n = 0;

	if (type_sel & 0x80)
		len += 1 + type_sel % 7; /* not whole sectors */
	if (h.type == VIRTIO_BLK_T_DISCARD || h.type == VIRTIO_BLK_T_WRITE_ZEROES) {
		struct virtio_blk_discard_write_zeroes r = {
		    .sector = sector, .num_sectors = nsect, .flags = fl >> 4};

		memcpy(drv.fram.mem + base + 0x1000, &r, sizeof(r));
		len = (fl & 2) ? 2 * sizeof(r) : sizeof(r);
	}
	if (h.type == VIRTIO_BLK_T_GET_ID)
		len = VIRTIO_BLK_ID_BYTES;
	memcpy(drv.fram.mem + base, &h, sizeof(h));
	drv.fram.mem[base + 0x20] = 0xff;
	d[n++] = (struct virtq_desc){base, sizeof(h), 0, 0};
	if (len)
		d[n++] = (struct virtq_desc){base + 0x1000, len, in ? 2 : 0, 0};
	d[n++] = (struct virtq_desc){base + 0x20, 1, 2, 0};
	fuzz_driver_add_chain(&drv, 0, d, n, (fl & 1) ? base + 0x40 : 0);
}

/* The image keeps its size. Checked once per input: the device never
 * truncates, so a request that grew the image leaves it grown. */
static void check_disk(void)
{
	struct stat st;

	if (fstat(disk, &st) < 0 || st.st_size != DISK_BYTES)
		abort();
}

/* A kick (or a held completion) on a device that is not running: nothing
 * served, nothing used, no interrupt, guest RAM untouched. */
static void kick(void)
{
	bool idle = !fuzz_driver_running(&drv, 0);
	struct virtio_blk_stats stats = blk.stats;
	uint16_t used = blk.mmio.vq[0].used_idx, last = blk.mmio.vq[0].last_avail;
	unsigned int irqs_before = drv.irqs;

	if (idle)
		fuzz_ram_save(&drv.fram);
	else
		fuzz_ram_may_change(&drv.fram);
	virtio_blk_process(&blk);
	if (!idle)
		return;
	if (memcmp(&stats, &blk.stats, sizeof(stats)) || used != blk.mmio.vq[0].used_idx ||
	    last != blk.mmio.vq[0].last_avail || drv.irqs != irqs_before)
		abort();
	fuzz_ram_expect_unchanged(&drv.fram);
}

static void hold(uint8_t max)
{
	int n;

	if (held.n)
		return;
	n = virtio_mmio_pop(&blk.mmio, 0, held.chains, 1 + max % HOLD_MAX, &held.gen);
	if (n < 0 || n > HOLD_MAX)
		abort();
	held.n = (unsigned int)n;
}

static void done(void)
{
	uint16_t used = blk.mmio.vq[0].used_idx;
	unsigned int irqs_before = drv.irqs;

	for (unsigned int i = 0; i < held.n; i++) {
		held.used[i].id = held.chains[i].head;
		held.used[i].len = virtio_blk_request(&blk, &held.chains[i]);
	}
	virtio_mmio_complete(&blk.mmio, 0, held.gen, held.used, held.n);
	/* Taken before a reset: dropped. */
	if (held.gen != blk.mmio.generation &&
	    (used != blk.mmio.vq[0].used_idx || drv.irqs != irqs_before))
		abort();
	if (held.gen == blk.mmio.generation && fuzz_driver_running(&drv, 0) &&
	    blk.mmio.vq[0].used_idx != (uint16_t)(used + held.n))
		abort();
	held.n = 0;
}

/* Opcodes 4 to 15. */
static void blk_op(unsigned int op, struct fuzz_in *in)
{
	if (op != 4 && op < 13) /* anything but a kick may write RAM */
		fuzz_ram_may_change(&drv.fram);
	switch (op) {
	case 5: {
		uint16_t idx = (uint16_t)fuzz_uint(in, 1);
		unsigned int fl = (unsigned int)fuzz_uint(in, 1);
		uint64_t addr = fuzz_uint(in, 8);
		uint32_t len = (uint32_t)fuzz_uint(in, 4);
		uint16_t next = (uint16_t)fuzz_uint(in, 2);

		if (!(fl & 0x80))
			addr %= RAM_SIZE;
		fuzz_driver_put_desc(&drv, 0, idx, addr, len, fl & 7, next);
		break;
	}
	case 6:
		fuzz_driver_offer(&drv, 0, (uint16_t)fuzz_uint(in, 2));
		break;
	case 7:
		fuzz_driver_op_setup(&drv, blk_features, in);
		break;
	case 8: {
		uint8_t t = (uint8_t)fuzz_uint(in, 1), s = (uint8_t)fuzz_uint(in, 1);
		uint8_t n = (uint8_t)fuzz_uint(in, 1);

		request(t, s, n, (uint8_t)fuzz_uint(in, 1));
		break;
	}
	case 9:
		hold((uint8_t)fuzz_uint(in, 1));
		break;
	case 10:
		done();
		break;
	case 11: {
		unsigned int which = (unsigned int)fuzz_uint(in, 1);

		fuzz_driver_ring_word(&drv, 0, which, (uint16_t)fuzz_uint(in, 2));
		break;
	}
	case 12:
		mmio_w32(&blk.mmio, REG_STATUS, 0);
		break;
	default:
		kick();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	bool ro;

	if (disk < 0)
		once();
	/* Every input starts from a zeroed image and RAM: reproducible. */
	if (ftruncate(disk, 0) < 0 || ftruncate(disk, DISK_BYTES) < 0)
		abort();
	fuzz_ram_zero(&drv.fram);
	ro = fuzz_uint(&in, 1) & 1;
	if (virtio_blk_init(&blk, disk, DISK_BYTES, ro, "fuzz", &drv.fram.ram) < 0)
		abort();
	fuzz_driver_start(&drv, &blk.mmio);
	next_req = 0;
	held.n = 0;

	while (fuzz_left(&in))
		fuzz_driver_step(&drv, &in, blk_op);
	fuzz_ram_check(&drv.fram);
	check_disk();
	virtio_blk_destroy(&blk);
	return 0;
}
