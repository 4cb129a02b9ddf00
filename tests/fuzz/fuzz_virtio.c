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
#include "fuzz_ram.h"

#define RAM_SIZE   (256 * 1024)
#define DISK_BYTES (64 * 1024)
#define WINDOW	   VIRTIO_MMIO_WINDOW
#define HOLD_MAX   4

#define REG_QUEUE_SEL	     0x030
#define REG_QUEUE_NUM_MAX    0x034
#define REG_QUEUE_NUM	     0x038
#define REG_QUEUE_READY	     0x044
#define REG_STATUS	     0x070
#define REG_DEV_FEATURES     0x010
#define REG_DEV_FEATURES_SEL 0x014
#define REG_DRV_FEATURES     0x020
#define REG_DRV_FEATURES_SEL 0x024
#define REG_QUEUE_DESC	     0x080
#define REG_QUEUE_DRIVER     0x090
#define REG_QUEUE_DEVICE     0x0a0

#define S_DRIVER_OK   4
#define S_NEEDS_RESET 0x40
#define INT_CONFIG    2

static int disk = -1;
static struct fuzz_ram fram;
static uint8_t *mem;
static struct virtio_blk blk;
static unsigned int irqs;
static uint16_t next_desc;
static unsigned int next_req;
static struct {
	struct virtq_chain chains[HOLD_MAX];
	struct virtq_used_elem used[HOLD_MAX];
	unsigned int n;
	uint32_t gen;
} held;

static void on_irq(void *opaque)
{
	irqs++;
}

static void once(void)
{
	disk = memfd_create("fuzz-virtio-disk", 0);
	if (disk < 0)
		abort();
	fuzz_ram_init(&fram, RAM_SIZE);
	mem = fram.mem;
}

static void w32(uint64_t off, uint32_t val)
{
	uint8_t b[4];

	memcpy(b, &val, 4);
	virtio_mmio_write(&blk.mmio, off, b, 4);
}

static uint32_t r32(uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	virtio_mmio_read(&blk.mmio, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static uint32_t status(void)
{
	return blk.mmio.status;
}

/* Whether a kick may do anything at all. */
static bool running(void)
{
	return (status() & S_DRIVER_OK) && !(status() & S_NEEDS_RESET) && blk.mmio.vq[0].ready;
}

/* The driver's view of queue 0: what it programmed, valid or not. */
static void *drv_ptr(uint64_t gpa, uint64_t len)
{
	return guest_ram_ptr(&fram.ram, gpa, len);
}

static uint16_t qsize(void)
{
	return blk.mmio.vq[0].size;
}

static void put_desc(uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};
	void *p;

	if (qsize() == 0)
		return;
	p = drv_ptr(blk.mmio.vq[0].desc_gpa + 16 * (uint64_t)(idx % qsize()), 16);
	if (p != NULL)
		memcpy(p, &d, sizeof(d));
}

static void offer(uint16_t head)
{
	uint64_t avail = blk.mmio.vq[0].avail_gpa;
	uint8_t *idx = drv_ptr(avail + 2, 2);
	uint16_t i;
	uint8_t *slot;

	if (qsize() == 0 || idx == NULL)
		return;
	memcpy(&i, idx, 2);
	slot = drv_ptr(avail + 4 + 2 * (uint64_t)(i % qsize()), 2);
	if (slot != NULL)
		memcpy(slot, &head, 2);
	i++;
	memcpy(idx, &i, 2);
}

/* Linux's vm_probe ... vm_setup_vq ... DRIVER_OK, with features and a
 * queue from the input. */
static void setup(uint8_t feat, uint8_t qsz, uint8_t at)
{
	static const uint64_t bits[] = {
	    VIRTIO_FEATURE_INDIRECT_DESC,
	    VIRTIO_FEATURE_EVENT_IDX,
	    VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH),
	    VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD),
	    VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES),
	    VIRTIO_FEATURE(VIRTIO_BLK_F_RO),
	    VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX),
	    VIRTIO_FEATURE(1), /* not offered */
	};
	uint64_t features = VIRTIO_FEATURE_VERSION_1;
	uint16_t n = (uint16_t)(1u << (qsz % 9)); /* 1 .. 256 */
	uint64_t desc = (uint64_t)at * 0x400;	  /* may run past RAM */
	uint64_t avail = desc + 16 * (uint64_t)n;
	uint64_t used = (avail + 6 + 2 * (uint64_t)n + 3) & ~3ULL;

	for (unsigned int i = 0; i < 8; i++)
		if (feat & (1u << i))
			features |= bits[i];
	w32(REG_STATUS, 0);
	w32(REG_STATUS, 1);
	w32(REG_STATUS, 3);
	w32(REG_DEV_FEATURES_SEL, 1);
	r32(REG_DEV_FEATURES);
	w32(REG_DEV_FEATURES_SEL, 0);
	r32(REG_DEV_FEATURES);
	w32(REG_DRV_FEATURES_SEL, 1);
	w32(REG_DRV_FEATURES, (uint32_t)(features >> 32));
	w32(REG_DRV_FEATURES_SEL, 0);
	w32(REG_DRV_FEATURES, (uint32_t)features);
	w32(REG_STATUS, 0xb);
	if (!(r32(REG_STATUS) & 8))
		return;
	if (drv_ptr(desc, used + 6 + 8 * (uint64_t)n - desc) != NULL)
		memset(mem + desc, 0, used + 6 + 8 * n - desc);
	w32(REG_QUEUE_SEL, 0);
	r32(REG_QUEUE_READY);
	r32(REG_QUEUE_NUM_MAX);
	w32(REG_QUEUE_NUM, n);
	w32(REG_QUEUE_DESC, (uint32_t)desc);
	w32(REG_QUEUE_DESC + 4, (uint32_t)(desc >> 32));
	w32(REG_QUEUE_DRIVER, (uint32_t)avail);
	w32(REG_QUEUE_DRIVER + 4, (uint32_t)(avail >> 32));
	w32(REG_QUEUE_DEVICE, (uint32_t)used);
	w32(REG_QUEUE_DEVICE + 4, (uint32_t)(used >> 32));
	w32(REG_QUEUE_READY, 1);
	w32(REG_STATUS, 0xf);
	next_desc = 0;
}

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

		memcpy(mem + base + 0x1000, &r, sizeof(r));
		len = (fl & 2) ? 2 * sizeof(r) : sizeof(r);
	}
	if (h.type == VIRTIO_BLK_T_GET_ID)
		len = VIRTIO_BLK_ID_BYTES;
	memcpy(mem + base, &h, sizeof(h));
	mem[base + 0x20] = 0xff;
	d[n++] = (struct virtq_desc){base, sizeof(h), 0, 0};
	if (len)
		d[n++] = (struct virtq_desc){base + 0x1000, len, in ? 2 : 0, 0};
	d[n++] = (struct virtq_desc){base + 0x20, 1, 2, 0};
	if (qsize() == 0)
		return;
	if (fl & 1) {
		for (unsigned int i = 0; i < n; i++) {
			d[i].flags |= i + 1 < n ? 1 : 0;
			d[i].next = (uint16_t)(i + 1);
		}
		memcpy(mem + base + 0x40, d, n * sizeof(d[0]));
		put_desc(next_desc, base + 0x40, (uint32_t)(n * sizeof(d[0])), 4, 0);
		offer(next_desc % qsize());
		next_desc = (uint16_t)((next_desc + 1) % qsize());
		return;
	}
	{
		uint16_t head = next_desc % qsize();

		for (unsigned int i = 0; i < n; i++) {
			uint16_t at = (uint16_t)((head + i) % qsize());

			put_desc(at, d[i].addr, d[i].len, d[i].flags | (i + 1 < n ? 1 : 0),
				 (uint16_t)((at + 1) % qsize()));
		}
		next_desc = (uint16_t)((head + n) % qsize());
		offer(head);
	}
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
	bool idle = !running();
	struct virtio_blk_stats stats = blk.stats;
	uint16_t used = blk.mmio.vq[0].used_idx, last = blk.mmio.vq[0].last_avail;
	unsigned int irqs_before = irqs;

	if (idle)
		fuzz_ram_save(&fram);
	virtio_blk_process(&blk);
	if (!idle)
		fuzz_ram_may_change(&fram);
	if (idle &&
	    (memcmp(&stats, &blk.stats, sizeof(stats)) || used != blk.mmio.vq[0].used_idx ||
	     last != blk.mmio.vq[0].last_avail || irqs != irqs_before || fuzz_ram_changed(&fram)))
		abort();
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
	unsigned int irqs_before = irqs;

	for (unsigned int i = 0; i < held.n; i++) {
		held.used[i].id = held.chains[i].head;
		held.used[i].len = virtio_blk_request(&blk, &held.chains[i]);
	}
	virtio_mmio_complete(&blk.mmio, 0, held.gen, held.used, held.n);
	/* Taken before a reset: dropped. */
	if (held.gen != blk.mmio.generation &&
	    (used != blk.mmio.vq[0].used_idx || irqs != irqs_before))
		abort();
	if (held.gen == blk.mmio.generation && running() &&
	    blk.mmio.vq[0].used_idx != (uint16_t)(used + held.n))
		abort();
	held.n = 0;
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
	fuzz_ram_zero(&fram);
	ro = fuzz_uint(&in, 1) & 1;
	if (virtio_blk_init(&blk, disk, DISK_BYTES, ro, "fuzz", &fram.ram) < 0)
		abort();
	blk.mmio.interrupt = on_irq;
	irqs = 0;
	next_desc = 0;
	next_req = 0;
	held.n = 0;

	while (fuzz_left(&in)) {
		unsigned int op = (unsigned int)fuzz_uint(&in, 1) % 16;
		uint32_t st = status(), gen = blk.mmio.generation;
		unsigned int irqs_before = irqs;
		bool self_broken = false; /* the driver wrote NEEDS_RESET itself */

		if (op != 4 && op < 13) /* anything but a kick may write RAM */
			fuzz_ram_may_change(&fram);
		switch (op) {
		case 0: {
			uint64_t off = fuzz_uint(&in, 1) * 4 % WINDOW;
			uint32_t val = (uint32_t)fuzz_uint(&in, 4);

			w32(off, val);
			self_broken = off == REG_STATUS && (val & S_NEEDS_RESET);
			break;
		}
		case 1:
			r32(fuzz_uint(&in, 1) * 4 % WINDOW);
			break;
		case 2: {
			uint64_t off = fuzz_uint(&in, 2) % (2 * WINDOW);
			unsigned int how = (unsigned int)fuzz_uint(&in, 1);
			uint64_t val = fuzz_uint(&in, 8);
			unsigned int n = 1u << (how & 3);
			uint8_t b[8];

			memcpy(b, &val, 8);
			if (how & 4) {
				virtio_mmio_write(&blk.mmio, off, b, n);
				self_broken = off == REG_STATUS && (val & S_NEEDS_RESET);
			} else {
				virtio_mmio_read(&blk.mmio, off, b, n);
			}
			break;
		}
		case 3: {
			uint64_t gpa = fuzz_uint(&in, 3) % RAM_SIZE;
			size_t len = (size_t)fuzz_uint(&in, 1), got;
			const uint8_t *p;

			if (len > RAM_SIZE - gpa)
				len = RAM_SIZE - gpa;
			p = fuzz_bytes(&in, len, &got);
			memcpy(mem + gpa, p, got);
			break;
		}
		case 5: {
			uint16_t idx = (uint16_t)fuzz_uint(&in, 1);
			unsigned int fl = (unsigned int)fuzz_uint(&in, 1);
			uint64_t addr = fuzz_uint(&in, 8);
			uint32_t len = (uint32_t)fuzz_uint(&in, 4);
			uint16_t next = (uint16_t)fuzz_uint(&in, 2);

			if (!(fl & 0x80))
				addr %= RAM_SIZE;
			put_desc(idx, addr, len, fl & 7, next);
			break;
		}
		case 6:
			offer((uint16_t)fuzz_uint(&in, 2));
			break;
		case 7: {
			uint8_t feat = (uint8_t)fuzz_uint(&in, 1), qsz = (uint8_t)fuzz_uint(&in, 1);

			setup(feat, qsz, (uint8_t)fuzz_uint(&in, 1));
			break;
		}
		case 8: {
			uint8_t t = (uint8_t)fuzz_uint(&in, 1), s = (uint8_t)fuzz_uint(&in, 1);
			uint8_t n = (uint8_t)fuzz_uint(&in, 1);

			request(t, s, n, (uint8_t)fuzz_uint(&in, 1));
			break;
		}
		case 9:
			hold((uint8_t)fuzz_uint(&in, 1));
			break;
		case 10:
			done();
			break;
		case 11: {
			unsigned int which = (unsigned int)fuzz_uint(&in, 1);
			uint16_t val = (uint16_t)fuzz_uint(&in, 2);
			uint64_t gpa =
			    blk.mmio.vq[0].avail_gpa + ((which & 1) ? 4 + 2 * qsize() : 0);
			void *p = drv_ptr(gpa, 2);

			if (p != NULL)
				memcpy(p, &val, 2);
			break;
		}
		case 12:
			w32(REG_STATUS, 0);
			break;
		default:
			kick();
			break;
		}
		/* NEEDS_RESET: cleared only by a reset, and set with a config
		 * interrupt (an op that sets it never acknowledges it) unless
		 * the driver wrote the bit: the transport keeps what it writes. */
		if ((st & S_NEEDS_RESET) && !(status() & S_NEEDS_RESET) &&
		    blk.mmio.generation == gen)
			abort();
		if (!(st & S_NEEDS_RESET) && (status() & S_NEEDS_RESET) && !self_broken &&
		    (irqs == irqs_before ||
		     !(atomic_load(&blk.mmio.interrupt_status) & INT_CONFIG)))
			abort();
		/* No interrupt without a cause the driver can read. */
		if (irqs != irqs_before && atomic_load(&blk.mmio.interrupt_status) == 0)
			abort();
	}
	check_disk();
	virtio_blk_destroy(&blk);
	return 0;
}
