/* Places the VM's virtio-mmio devices, wires their queue kicks (KVM
 * ioeventfd) and interrupts (KVM irqfd), and runs one I/O thread per device
 * on epoll. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>

#include "vmm/sandbox.h"
#include "vmm/virtio.h"
#include "vmm/vm.h"

/* ISA lines no PC device of ours uses (COM1 is 4); edge-triggered in the
 * MP table, which is what an irqfd gives. */
static const int virtio_irqs[VIRTIO_MAX_DEVICES] = {5, 6, 7, 9, 10, 11, 12, 14};

#define QUEUE_NOTIFY 0x050
/* epoll tags: queues are 0.., then these. */
#define EPOLL_STOP 0xff
#define EPOLL_TAP  0xfe

static void slot_interrupt(void *opaque)
{
	struct virtio_slot *s = opaque;
	uint64_t one = 1;

	/* An eventfd write fails only when the counter would overflow, and
	 * then an interrupt is pending anyway. */
	if (write(s->irq_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vm_log(s->vm, VMM_LOG_WARN, "%s: interrupt: %s", s->name, strerror(errno));
}

static void slot_kick(void *opaque, unsigned int queue)
{
	struct virtio_slot *s = opaque;
	uint64_t one = 1;

	if (queue < VIRTIO_MMIO_MAX_QUEUES && s->kick_fd[queue] >= 0 &&
	    write(s->kick_fd[queue], &one, sizeof(one)) < 0 && errno != EAGAIN)
		vm_log(s->vm, VMM_LOG_WARN, "%s: kick: %s", s->name, strerror(errno));
}

static int open_disk(struct vmm *vm, struct virtio_slot *s, const struct vmm_disk *d, char *err,
		     size_t errlen)
{
	struct stat st;
	uint64_t size;
	const char *base;
	int ret;

	s->file_fd = open(d->path, (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (s->file_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "disk %s: %s", d->path, strerror(errno));
		return ret;
	}
	if (fstat(s->file_fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		snprintf(err, errlen, "disk %s: not a regular file or block device", d->path);
		return -EINVAL;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(s->file_fd, 0, SEEK_END);

		if (end < 0) {
			ret = -errno;
			snprintf(err, errlen, "disk %s: size: %s", d->path, strerror(errno));
			return ret;
		}
		size = (uint64_t)end;
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size == 0 || size % 512) {
		snprintf(err, errlen, "disk %s: size %llu is not a positive multiple of 512 bytes",
			 d->path, (unsigned long long)size);
		return -EINVAL;
	}
	/* Two writers of one image corrupt it; readers may share. */
	if (flock(s->file_fd, (d->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		ret = -errno;
		snprintf(err, errlen, "disk %s: in use by another process (%s)", d->path,
			 strerror(errno));
		return ret;
	}
	s->blk = calloc(1, sizeof(*s->blk));
	if (s->blk == NULL) {
		snprintf(err, errlen, "disk %s: out of memory", d->path);
		return -ENOMEM;
	}
	base = strrchr(d->path, '/');
	ret = virtio_blk_init(s->blk, s->file_fd, size, d->read_only, base ? base + 1 : d->path,
			      &vm->ram);
	if (ret < 0) {
		free(s->blk);
		s->blk = NULL;
		snprintf(err, errlen, "disk %s: %s", d->path, strerror(-ret));
		return ret;
	}
	s->mmio = &s->blk->mmio;
	if (d->io != VMM_DISK_IO_SYNC) {
		ret = virtio_blk_use_uring(s->blk);
		if (ret < 0 && d->io == VMM_DISK_IO_URING) {
			snprintf(err, errlen, "disk %s: io_uring: %s", d->path, strerror(-ret));
			return ret;
		}
	}
	vm_log(vm, VMM_LOG_INFO, "virtio: %s: disk %s, %llu MiB%s, %s, MMIO %#llx IRQ %d", s->name,
	       d->path, (unsigned long long)(size >> 20), d->read_only ? ", read-only" : "",
	       s->blk->ring != NULL ? "io_uring" : "synchronous I/O", (unsigned long long)s->base,
	       s->gsi);
	return 0;
}

/* A MAC for an interface that was given none: locally administered
 * (02:...), different per VM and per interface of a VM. */
static void derive_mac(const struct vmm *vm, unsigned int index, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over pid, VM and index */
	uint64_t in[3] = {(uint64_t)getpid(), (uint64_t)(uintptr_t)vm, index};

	for (size_t i = 0; i < sizeof(in); i++)
		h = (h ^ ((const uint8_t *)in)[i]) * 0x100000001b3ULL;
	mac[0] = 0x02;
	mac[1] = 0x6c; /* 'l' */
	for (int i = 2; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

static int open_tap(struct vmm *vm, struct virtio_slot *s, const struct vmm_net *cfg,
		    unsigned int index, char *err, size_t errlen)
{
	struct ifreq ifr = {0};
	int hdr = VIRTIO_NET_HDR_LEN, ret;
	uint8_t mac[6];

	if (strlen(cfg->tap) >= IFNAMSIZ) {
		snprintf(err, errlen, "net %s: interface name too long (at most %d bytes)",
			 cfg->tap, IFNAMSIZ - 1);
		return -EINVAL;
	}
	/* An existing interface only: creating one is the host admin's job. */
	if (if_nametoindex(cfg->tap) == 0) {
		snprintf(err, errlen,
			 "net %s: no such interface (create it first, e.g. ip tuntap "
			 "add %s mode tap)",
			 cfg->tap, cfg->tap);
		return -ENODEV;
	}
	s->file_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->file_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "net %s: /dev/net/tun: %s", cfg->tap, strerror(errno));
		return ret;
	}
	memcpy(ifr.ifr_name, cfg->tap, strlen(cfg->tap));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(s->file_fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "net %s: attaching to the TAP: %s (is it a TAP interface this "
			 "user may open?)",
			 cfg->tap, strerror(errno));
		return ret;
	}
	if (ioctl(s->file_fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "net %s: TUNSETVNETHDRSZ: %s", cfg->tap, strerror(errno));
		return ret;
	}
	if (cfg->mac_set)
		memcpy(mac, cfg->mac, 6);
	else
		derive_mac(vm, index, mac);
	s->net = calloc(1, sizeof(*s->net));
	if (s->net == NULL) {
		snprintf(err, errlen, "net %s: out of memory", cfg->tap);
		return -ENOMEM;
	}
	ret = virtio_net_init(s->net, s->file_fd, mac, &vm->ram);
	if (ret < 0) {
		free(s->net);
		s->net = NULL;
		snprintf(err, errlen, "net %s: %s", cfg->tap, strerror(-ret));
		return ret;
	}
	s->mmio = &s->net->mmio;
	vm_log(vm, VMM_LOG_INFO,
	       "virtio: eth%u: TAP %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, MMIO %#llx IRQ %d", index,
	       cfg->tap, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	       (unsigned long long)s->base, s->gsi);
	return 0;
}

/* Kicks as eventfds that KVM signals without an exit; interrupts as an
 * eventfd KVM turns into an edge on the device's GSI. */
static int wire(struct vmm *vm, struct virtio_slot *s, char *err, size_t errlen)
{
	struct kvm_irqfd irqfd = {0};
	struct epoll_event ev = {.events = EPOLLIN};

	s->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->irq_fd < 0 || s->stop_fd < 0 || s->epoll_fd < 0)
		goto sys_fail;
	irqfd.fd = (uint32_t)s->irq_fd;
	irqfd.gsi = (uint32_t)s->gsi;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		snprintf(err, errlen, "%s: KVM_IRQFD: %s", s->name, strerror(errno));
		return -errno;
	}
	ev.data.u32 = EPOLL_STOP;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->stop_fd, &ev) < 0)
		goto sys_fail;
	for (unsigned int q = 0; q < s->mmio->ops->nr_queues; q++) {
		struct kvm_ioeventfd io = {
		    .datamatch = q,
		    .addr = s->base + QUEUE_NOTIFY,
		    .len = 4,
		    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		s->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->kick_fd[q] < 0)
			goto sys_fail;
		ev.data.u32 = q;
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->kick_fd[q], &ev) < 0)
			goto sys_fail;
		io.fd = s->kick_fd[q];
		/* Without it the kick is an MMIO exit that slot_kick() forwards. */
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			vm_log(vm, VMM_LOG_WARN, "%s: KVM_IOEVENTFD: %s (kicks will exit)", s->name,
			       strerror(errno));
	}
	if (s->net != NULL) {
		ev.data.u32 = EPOLL_TAP;
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->file_fd, &ev) < 0)
			goto sys_fail;
		s->tap_polled = true;
	}
	s->mmio->interrupt = slot_interrupt;
	s->mmio->kick = slot_kick;
	s->mmio->opaque = s;
	return 0;
sys_fail:
	snprintf(err, errlen, "%s: eventfd/epoll: %s", s->name, strerror(errno));
	return -errno;
}

int virtio_setup(struct vmm *vm, char *err, size_t errlen)
{
	unsigned int n = vm->cfg.nr_disks + vm->cfg.nr_nets;

	if (n > VIRTIO_MAX_DEVICES) {
		snprintf(err, errlen, "%u virtio devices: at most %d", n, VIRTIO_MAX_DEVICES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct virtio_slot *s = &vm->virtio[i];
		int ret;

		*s = (struct virtio_slot){
		    .vm = vm, .file_fd = -1, .irq_fd = -1, .stop_fd = -1, .epoll_fd = -1};
		for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
			s->kick_fd[q] = -1;
		s->base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE;
		s->gsi = virtio_irqs[i];
		vm->nr_virtio = i + 1;
		if (i < vm->cfg.nr_disks) {
			snprintf(s->name, sizeof(s->name), "vd%c", 'a' + i);
			ret = open_disk(vm, s, &vm->cfg.disks[i], err, errlen);
		} else {
			unsigned int k = i - vm->cfg.nr_disks;

			snprintf(s->name, sizeof(s->name), "eth%u", k);
			ret = open_tap(vm, s, &vm->cfg.nets[k], k, err, errlen);
		}
		if (ret < 0 || (ret = wire(vm, s, err, errlen)) < 0)
			return ret;
		ret = bus_register(&vm->mmio, s->base, VIRTIO_MMIO_WINDOW, &virtio_mmio_ops,
				   s->mmio, s->name);
		if (ret < 0) {
			snprintf(err, errlen, "%s: MMIO window %#llx: %s", s->name,
				 (unsigned long long)s->base, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int virtio_cmdline(const struct vmm *vm, char **out)
{
	size_t len = 1 + (size_t)vm->nr_virtio * 64;
	char *s = malloc(len), *p = s;

	if (s == NULL)
		return -ENOMEM;
	*p = '\0';
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		p += snprintf(p, len - (size_t)(p - s), " virtio_mmio.device=%u@%#llx:%d",
			      VIRTIO_MMIO_WINDOW, (unsigned long long)vm->virtio[i].base,
			      vm->virtio[i].gsi);
	*out = s;
	return 0;
}

static void poll_tap(struct virtio_slot *s, bool on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u32 = EPOLL_TAP};

	if (s->tap_polled != on && epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, s->file_fd, &ev) == 0)
		s->tap_polled = on;
}

/* @tag: the queue kicked, or EPOLL_TAP. */
static void serve(struct virtio_slot *s, uint32_t tag)
{
	if (s->blk != NULL) {
		virtio_blk_process(s->blk);
		return;
	}
	if (tag == VIRTIO_NET_TXQ) {
		virtio_net_tx(s->net);
		return;
	}
	/* A full guest leaves packets in the TAP until it posts buffers. */
	poll_tap(s, !virtio_net_rx(s->net));
}

static void *io_thread(void *arg)
{
	struct virtio_slot *s = arg;
	int ret = sandbox_device_thread(s->vm);

	if (ret < 0) {
		vm_end(s->vm, VMM_EXIT_ERROR, ret, "%s: seccomp filter of the I/O thread: %s",
		       s->name, strerror(-ret));
		return NULL;
	}
	for (;;) {
		struct epoll_event ev[VIRTIO_MMIO_MAX_QUEUES + 1];
		int n = epoll_wait(s->epoll_fd, ev, VIRTIO_MMIO_MAX_QUEUES + 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vm_end(s->vm, VMM_EXIT_ERROR, -errno, "%s: epoll_wait: %s", s->name,
			       strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;
			uint64_t count;

			if (tag == EPOLL_STOP)
				return NULL;
			/* Consume the kick first: one arriving while serving wakes us again. */
			if (tag != EPOLL_TAP && read(s->kick_fd[tag], &count, sizeof(count)) < 0 &&
			    errno != EAGAIN)
				continue;
			serve(s, tag);
		}
	}
}

int virtio_start(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		struct virtio_slot *s = &vm->virtio[i];
		int ret = pthread_create(&s->thread, NULL, io_thread, s);

		if (ret != 0)
			return -ret;
		s->thread_started = true;
	}
	return 0;
}

void virtio_stop(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		struct virtio_slot *s = &vm->virtio[i];
		uint64_t one = 1;

		if (!s->thread_started)
			continue;
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			vm_log(vm, VMM_LOG_WARN, "%s: stop: %s", s->name, strerror(errno));
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void virtio_teardown(struct vmm *vm)
{
	virtio_stop(vm);
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		struct virtio_slot *s = &vm->virtio[i];

		/* No KVM deassign calls (teardown may run under the run thread's
		 * filter): KVM drops an irqfd when its eventfd closes, and the
		 * ioeventfds with the VM. */
		for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
			close_fd(&s->kick_fd[q]);
		close_fd(&s->irq_fd);
		close_fd(&s->stop_fd);
		close_fd(&s->epoll_fd);
		if (s->blk != NULL) {
			virtio_blk_destroy(s->blk);
			free(s->blk);
			s->blk = NULL;
		}
		if (s->net != NULL) {
			virtio_net_destroy(s->net);
			free(s->net);
			s->net = NULL;
		}
		close_fd(&s->file_fd);
	}
	vm->nr_virtio = 0;
}
