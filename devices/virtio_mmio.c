/* The virtio-mmio transport (version 2 register layout): registers,
 * feature negotiation, status, queue set-up, and the I/O thread's locked
 * access to the queues. */
#include <errno.h>
#include <string.h>

#include "devices/virtio_mmio.h"

#define MAGIC	  0x74726976 /* "virt" */
#define VENDOR_ID 0x4d4d564c /* "LVMM" */

#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_SHM_LEN_LOW		0x0b0
#define REG_SHM_LEN_HIGH	0x0b4
#define REG_SHM_BASE_LOW	0x0b8
#define REG_SHM_BASE_HIGH	0x0bc
#define REG_CONFIG_GENERATION	0x0fc
#define REG_CONFIG		0x100

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER	   2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 0x40
#define STATUS_FAILED	   0x80

#define INT_VRING  1
#define INT_CONFIG 2

int virtio_mmio_init(struct virtio_mmio *m, const struct virtio_device_ops *ops, void *dev,
		     uint64_t features, const struct guest_ram *ram)
{
	int ret;

	if (ops->nr_queues == 0 || ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	ret = pthread_mutex_init(&m->lock, NULL);
	if (ret)
		return -ret;
	m->ops = ops;
	m->dev = dev;
	m->ram = ram;
	m->device_features = features | VIRTIO_FEATURE_VERSION_1 | VIRTIO_FEATURE_EVENT_IDX |
			     VIRTIO_FEATURE_INDIRECT_DESC;
	atomic_init(&m->interrupt_status, 0);
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *m)
{
	pthread_mutex_destroy(&m->lock);
}

/* Lock held. */
static void device_reset(struct virtio_mmio *m)
{
	if (m->ops->reset != NULL)
		m->ops->reset(m->dev);
	for (unsigned int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&m->vq[i]);
	m->driver_features = 0;
	m->device_features_sel = m->driver_features_sel = m->queue_sel = 0;
	m->status = 0;
	m->generation++;
	atomic_store(&m->interrupt_status, 0);
}

/* Lock held; the caller raises the interrupt once unlocked. */
static void mark_broken(struct virtio_mmio *m)
{
	m->status |= STATUS_NEEDS_RESET;
	atomic_fetch_or(&m->interrupt_status, INT_CONFIG);
}

void virtio_mmio_set_broken(struct virtio_mmio *m)
{
	pthread_mutex_lock(&m->lock);
	mark_broken(m);
	pthread_mutex_unlock(&m->lock);
	m->interrupt(m->opaque);
}

static struct virtq *selected_queue(struct virtio_mmio *m)
{
	return m->queue_sel < m->ops->nr_queues ? &m->vq[m->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *m, uint64_t offset)
{
	struct virtq *vq = selected_queue(m);

	switch (offset) {
	case REG_MAGIC:
		return MAGIC;
	case REG_VERSION:
		return 2;
	case REG_DEVICE_ID:
		return m->ops->device_id;
	case REG_VENDOR_ID:
		return VENDOR_ID;
	case REG_DEVICE_FEATURES:
		return m->device_features_sel > 1
			   ? 0
			   : (uint32_t)(m->device_features >> (32 * m->device_features_sel));
	case REG_QUEUE_NUM_MAX:
		return vq ? VIRTQ_MAX_SIZE : 0;
	case REG_QUEUE_READY:
		return vq ? vq->ready : 0;
	case REG_STATUS:
		return m->status;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case REG_CONFIG_GENERATION:
		return 0; /* the config space never changes under the driver */
	default:
		return 0;
	}
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffULL) | ((uint64_t)val << 32) : (*v & ~0xffffffffULL) | val;
}

/* Lock held. Returns true if the driver must be interrupted (unlocked). */
static bool write_status(struct virtio_mmio *m, uint32_t val)
{
	uint32_t set = val & ~m->status;

	if (val == 0) {
		device_reset(m);
		return false;
	}
	if (set & STATUS_FEATURES_OK) {
		/* Only what was offered, and the 1.x interface: no legacy. */
		if ((m->driver_features & ~m->device_features) ||
		    !(m->driver_features & VIRTIO_FEATURE_VERSION_1))
			val &= ~(uint32_t)STATUS_FEATURES_OK;
	}
	if ((set & STATUS_DRIVER_OK) && !(m->status & STATUS_NEEDS_RESET)) {
		if (!(val & STATUS_FEATURES_OK) ||
		    m->ops->activate(m->dev, m->driver_features) < 0) {
			m->status = val & ~(uint32_t)STATUS_DRIVER_OK;
			mark_broken(m);
			return true;
		}
	}
	/* NEEDS_RESET is the device's to set and only a reset clears it. */
	m->status = (val & ~(uint32_t)STATUS_NEEDS_RESET) | (m->status & STATUS_NEEDS_RESET);
	return false;
}

static bool write_queue_ready(struct virtio_mmio *m, struct virtq *vq, uint32_t val)
{
	if (!val) {
		/* Chains taken from the old ring must not land in a new one. */
		vq->ready = false;
		m->generation++;
		return false;
	}
	if (vq->ready)
		return false;
	vq->event_idx = m->driver_features & VIRTIO_FEATURE_EVENT_IDX;
	vq->indirect = m->driver_features & VIRTIO_FEATURE_INDIRECT_DESC;
	if (virtq_start(vq, m->ram) < 0) {
		mark_broken(m);
		return true;
	}
	vq->ready = true;
	return false;
}

/* Lock held. Returns true if the driver must be interrupted (unlocked). */
static bool reg_write(struct virtio_mmio *m, uint64_t offset, uint32_t val)
{
	struct virtq *vq = selected_queue(m);
	/* Queue layout is fixed while the queue runs (4.2.2.2). */
	struct virtq *idle = vq && !vq->ready ? vq : NULL;

	switch (offset) {
	case REG_DEVICE_FEATURES_SEL:
		m->device_features_sel = val;
		break;
	case REG_DRIVER_FEATURES:
		if (m->driver_features_sel <= 1 && !(m->status & STATUS_FEATURES_OK))
			set_half(&m->driver_features, m->driver_features_sel, val);
		break;
	case REG_DRIVER_FEATURES_SEL:
		m->driver_features_sel = val;
		break;
	case REG_QUEUE_SEL:
		m->queue_sel = val;
		break;
	case REG_QUEUE_NUM:
		if (idle)
			idle->size = val > 0xffff ? 0 : (uint16_t)val;
		break;
	case REG_QUEUE_READY:
		if (vq)
			return write_queue_ready(m, vq, val);
		break;
	case REG_STATUS:
		return write_status(m, val);
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (idle)
			set_half(&idle->desc_gpa, offset == REG_QUEUE_DESC_HIGH, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (idle)
			set_half(&idle->avail_gpa, offset == REG_QUEUE_DRIVER_HIGH, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (idle)
			set_half(&idle->used_gpa, offset == REG_QUEUE_DEVICE_HIGH, val);
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
	return false;
}

void virtio_mmio_read(struct virtio_mmio *m, uint64_t offset, uint8_t *data, unsigned int size)
{
	uint32_t val;

	memset(data, 0, size);
	if (offset >= REG_CONFIG) {
		pthread_mutex_lock(&m->lock);
		m->ops->config_read(m->dev, offset - REG_CONFIG, data, size);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	/* Registers are 32-bit wide and read as a whole (4.2.2.2). */
	if (size != 4 || offset % 4)
		return;
	if (offset == REG_INTERRUPT_STATUS) {
		val = atomic_load(&m->interrupt_status);
	} else {
		pthread_mutex_lock(&m->lock);
		val = reg_read(m, offset);
		pthread_mutex_unlock(&m->lock);
	}
	memcpy(data, &val, 4);
}

void virtio_mmio_write(struct virtio_mmio *m, uint64_t offset, const uint8_t *data,
		       unsigned int size)
{
	bool irq;
	uint32_t val;

	if (offset >= REG_CONFIG) {
		pthread_mutex_lock(&m->lock);
		if (m->ops->config_write != NULL)
			m->ops->config_write(m->dev, offset - REG_CONFIG, data, size);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (size != 4 || offset % 4)
		return;
	memcpy(&val, data, 4);
	if (offset == REG_QUEUE_NOTIFY) {
		/* Without an ioeventfd the kick comes here; no state changes. */
		if (val < m->ops->nr_queues && m->kick != NULL)
			m->kick(m->opaque, val);
		return;
	}
	if (offset == REG_INTERRUPT_ACK) {
		atomic_fetch_and(&m->interrupt_status, ~val);
		return;
	}
	pthread_mutex_lock(&m->lock);
	irq = reg_write(m, offset, val);
	pthread_mutex_unlock(&m->lock);
	if (irq)
		m->interrupt(m->opaque);
}

/* Lock held. */
static struct virtq *running_queue(struct virtio_mmio *m, unsigned int q)
{
	if (q >= m->ops->nr_queues || !(m->status & STATUS_DRIVER_OK) ||
	    (m->status & STATUS_NEEDS_RESET) || !m->vq[q].ready)
		return NULL;
	return &m->vq[q];
}

int virtio_mmio_pop(struct virtio_mmio *m, unsigned int q, struct virtq_chain *chains,
		    unsigned int max, uint32_t *gen)
{
	struct virtq *vq;
	unsigned int n = 0;
	bool broken = false;

	pthread_mutex_lock(&m->lock);
	*gen = m->generation;
	vq = running_queue(m, q);
	while (vq != NULL && n < max) {
		int ret = virtq_pop(vq, m->ram, &chains[n]);

		if (ret == 0)
			break;
		if (ret < 0) {
			mark_broken(m);
			broken = true;
			break;
		}
		n++;
	}
	pthread_mutex_unlock(&m->lock);
	if (broken)
		m->interrupt(m->opaque);
	return (int)n;
}

void virtio_mmio_complete(struct virtio_mmio *m, unsigned int q, uint32_t gen,
			  const struct virtq_used_elem *used, unsigned int n)
{
	struct virtq *vq;
	bool irq = false;

	pthread_mutex_lock(&m->lock);
	vq = m->generation == gen ? running_queue(m, q) : NULL;
	if (vq != NULL && n) {
		uint16_t old = vq->used_idx;

		for (unsigned int i = 0; i < n; i++)
			virtq_push(vq, (uint16_t)used[i].id, used[i].len);
		irq = virtq_needs_interrupt(vq, old);
		if (irq)
			atomic_fetch_or(&m->interrupt_status, INT_VRING);
	}
	pthread_mutex_unlock(&m->lock);
	if (irq)
		m->interrupt(m->opaque);
}

void virtio_mmio_unpop(struct virtio_mmio *m, unsigned int q, uint32_t gen, unsigned int n)
{
	struct virtq *vq;

	pthread_mutex_lock(&m->lock);
	vq = m->generation == gen ? running_queue(m, q) : NULL;
	if (vq != NULL) {
		vq->last_avail = (uint16_t)(vq->last_avail - n);
		vq->returned = (uint16_t)(vq->returned + n);
	}
	pthread_mutex_unlock(&m->lock);
}

bool virtio_mmio_enable_kicks(struct virtio_mmio *m, unsigned int q)
{
	struct virtq *vq;
	bool more;

	pthread_mutex_lock(&m->lock);
	vq = running_queue(m, q);
	more = vq != NULL && virtq_enable_kicks(vq);
	pthread_mutex_unlock(&m->lock);
	return more;
}

static void bus_read_op(void *opaque, uint64_t offset, uint8_t *data, unsigned int size)
{
	virtio_mmio_read(opaque, offset, data, size);
}

static void bus_write_op(void *opaque, uint64_t offset, const uint8_t *data, unsigned int size)
{
	virtio_mmio_write(opaque, offset, data, size);
}

const struct bus_device_ops virtio_mmio_ops = {bus_read_op, bus_write_op};
