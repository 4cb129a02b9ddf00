#!/usr/bin/env python3
"""Seed corpora for the fuzz harnesses, from real images: the project's Linux
guest (its bzImage's setup header and the start of its payload; its vmlinux
shrunk to headers, notes and the first page of each segment, so the PVH note
is real), that shrunk vmlinux compressed by each compressor the kernel build
uses (with the size trailer the kernel appends), and the raw test guests.
Usage: make-seeds.py OUT_DIR [LINUX_DIR] [GUEST_DIR]"""
import os
import shutil
import struct
import subprocess
import sys


def shrink_elf(img):
    """ELF64 with every PT_LOAD cut to at most one page of file data."""
    if img[:4] != b"\x7fELF" or img[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", img, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", img, 0x36)
    out = bytearray(img[:phoff + phentsize * phnum])
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align = \
            struct.unpack_from("<IIQQQQQQ", img, off)
        keep = p_filesz if p_type != 1 else min(p_filesz, 4096)
        data = img[p_offset:p_offset + keep]
        new_off = len(out)
        out += data
        struct.pack_into("<IIQQQQQQ", out, off, p_type, p_flags, new_off, p_vaddr, p_paddr,
                         len(data), max(len(data), min(p_memsz, 1 << 20)), p_align)
    return bytes(out)


def linux_seed(kernel, initrd=b"", cmdline=b"console=ttyS0", flags=0, cpus=2, ram=2):
    """fuzz_linux's input: flags, cpus, RAM size index, cmdline and initrd
    lengths, then cmdline, initrd and kernel."""
    return (bytes([flags, cpus - 1, ram]) + struct.pack("<HI", len(cmdline), len(initrd)) +
            cmdline + initrd + kernel)


def compressed(data):
    """data as each compressor the kernel build offers makes it, size appended."""
    tools = {"gzip": ["gzip", "-9c"], "xz": ["xz", "--check=crc32", "-c"],
             "lzma": ["lzma", "-c"], "zstd": ["zstd", "-19", "-c", "-q"],
             "lz4": ["lz4", "-l", "-9", "-c", "-q"]}
    for name, cmd in tools.items():
        if shutil.which(cmd[0]) is None:
            continue
        out = subprocess.run(cmd, input=data, capture_output=True, check=False).stdout
        if out:
            yield name, out + struct.pack("<I", len(data))


def virtio_seeds():
    """fuzz_virtio's inputs (see its header for the encoding): Linux's set-up
    through the registers and requests laid out byte by byte, the same with
    the harness's set-up and request operations, and the paths around them
    (indirect tables, discard, a read-only disk, a reset with requests in
    flight, EVENT_IDX, a descriptor loop)."""
    def w32(reg, val): return bytes([0, reg // 4]) + struct.pack("<I", val)
    def r32(reg): return bytes([1, reg // 4])
    def access(off, size_log2, write, val=0):
        return bytes([2]) + struct.pack("<HBQ", off, size_log2 | (4 if write else 0), val)
    def ram(gpa, data):
        out = b""
        for i in range(0, len(data), 255):
            chunk = data[i:i + 255]
            out += bytes([3]) + struct.pack("<I", gpa + i)[:3] + bytes([len(chunk)]) + chunk
        return out
    kick = bytes([4])
    def desc(idx, addr, length, flags, nxt): return bytes([5, idx, flags]) + struct.pack("<QIH", addr, length, nxt)
    def avail(head): return bytes([6]) + struct.pack("<H", head)
    def setup(feat, qsz_log2, at): return bytes([7, feat, qsz_log2, at])
    def req(typ, sector, nsect, fl=0): return bytes([8, typ, sector, nsect, fl])
    def hold(n): return bytes([9, n])
    done = bytes([10])
    def ring(which, val): return bytes([11, which]) + struct.pack("<H", val)
    reset = bytes([12])
    # Harness set-up feature bits: 1 INDIRECT, 2 EVENT_IDX, 4 FLUSH,
    # 8 DISCARD, 16 WRITE_ZEROES, 32 RO; request types: 0 IN, 1 OUT,
    # 2 FLUSH, 3 GET_ID, 4 DISCARD, 5 WRITE_ZEROES.
    linux = (r32(0) + r32(4) + r32(8) + r32(0xc) + w32(0x70, 0) + w32(0x70, 1) + w32(0x70, 3) +
             w32(0x14, 1) + r32(0x10) + w32(0x14, 0) + r32(0x10) +
             w32(0x24, 1) + w32(0x20, 1) + w32(0x24, 0) + w32(0x20, (1 << 9) | (1 << 28) | (1 << 29)) +
             w32(0x70, 0xb) + r32(0x70) + access(0x100, 2, False) + access(0x104, 2, False) +
             w32(0x30, 0) + r32(0x44) + r32(0x34) + w32(0x38, 16) +
             w32(0x80, 0x1000) + w32(0x84, 0) + w32(0x90, 0x2000) + w32(0x94, 0) +
             w32(0xa0, 0x3000) + w32(0xa4, 0) + w32(0x44, 1) + w32(0x70, 0xf))
    write_req = (ram(0x8000, struct.pack("<IIQ", 1, 0, 4)) + ram(0x9000, bytes(range(256)) * 2) +
                 desc(0, 0x8000, 16, 1, 1) + desc(1, 0x9000, 512, 1, 2) + desc(2, 0x8100, 1, 2, 0) +
                 avail(0) + bytes([13]))
    read_req = (ram(0x8200, struct.pack("<IIQ", 0, 0, 4)) +
                desc(3, 0x8200, 16, 1, 4) + desc(4, 0xa000, 512, 3, 5) + desc(5, 0x8300, 1, 2, 0) +
                avail(3) + bytes([14]) + r32(0x60) + w32(0x64, 1))
    seeds = {
        "linux-write-read": bytes([0]) + linux + write_req + read_req,
        "setup-write-read": bytes([0]) + setup(7, 4, 4) + req(1, 2, 2) + kick + req(0, 2, 2) +
        kick + req(2, 0, 0) + req(3, 0, 0) + kick,
        "indirect": bytes([0]) + setup(7, 3, 4) + req(1, 5, 3, 1) + req(0, 5, 3, 1) + kick,
        "discard": bytes([0]) + setup(0x1f, 4, 4) + req(1, 0, 8) + kick + req(5, 1, 2) +
        req(5, 3, 1, 0x10) + req(4, 5, 1) + kick + req(0, 0, 8) + kick,
        "read-only": bytes([1]) + setup(0x27, 4, 4) + req(1, 0, 1) + req(0, 0, 1) + kick,
        "reset-in-flight": bytes([0]) + setup(7, 4, 4) + req(1, 0, 1) + req(0, 0, 1) + hold(1) +
        reset + setup(7, 4, 4) + done + req(0, 0, 1) + kick,
        "event-idx": bytes([0]) + setup(7, 2, 4) + ring(1, 2) + (req(2, 0, 0) + kick) * 4 +
        ring(0, 1) + req(0, 0, 1) + kick,
        "loop": bytes([0]) + setup(7, 4, 4) + desc(0, 0x8000, 16, 1, 0) + avail(0) + kick +
        req(0, 0, 1) + kick + reset + setup(7, 4, 4) + req(0, 0, 1) + kick,
    }
    return seeds


def virtio_net_seeds():
    """fuzz_virtio_net's inputs (see its header for the encoding): Linux's
    set-up of both queues through the registers, then one transmit and one
    receive laid out byte by byte; the same with the harness's operations;
    mergeable buffers (a 9000-byte frame over 1536-byte buffers, the ring
    running out mid-packet, then refilled); without them (one big buffer);
    a reset with a packet waiting."""
    def w32(reg, val): return bytes([0, reg // 4]) + struct.pack("<I", val)
    def r32(reg): return bytes([1, reg // 4])
    def access(off, size_log2, write, val=0):
        return bytes([2]) + struct.pack("<HBQ", off, size_log2 | (4 if write else 0), val)
    def ram(gpa, data):
        out = b""
        for i in range(0, len(data), 255):
            chunk = data[i:i + 255]
            out += bytes([3]) + struct.pack("<I", gpa + i)[:3] + bytes([len(chunk)]) + chunk
        return out
    def inject(data, total=None):
        total = len(data) if total is None else total
        return bytes([4]) + struct.pack("<I", total)[:3] + struct.pack("<H", len(data)) + data
    drain, rx, tx, both, reset = bytes([5]), bytes([6]), bytes([7]), bytes([15]), bytes([14])
    def desc(q, idx, addr, length, flags, nxt):
        return bytes([8, (q << 7) | flags, idx]) + struct.pack("<QIH", addr, length, nxt)
    def avail(q, head): return bytes([9, q]) + struct.pack("<H", head)
    def setup(feat, qsz_log2, at): return bytes([10, feat, qsz_log2, at])
    def rxbuf(n, size, fl=0): return bytes([11, n - 1]) + struct.pack("<H", size) + bytes([fl])
    def txpkt(length, nseg, fl=0): return bytes([12]) + struct.pack("<H", length) + bytes([nseg - 1, fl])
    hdr = bytes(12)
    frame = bytes(range(256)) * 2 + bytes(88)  # 600 bytes
    # Harness set-up feature bits: 1 INDIRECT, 2 EVENT_IDX, 4 MRG_RXBUF,
    # 8 CSUM, 16 HOST_TSO4, 32 MAC.
    feat = (1 << 0) | (1 << 5) | (1 << 11) | (1 << 15) | (1 << 28) | (1 << 29)
    linux = (r32(0) + r32(4) + r32(8) + r32(0xc) + w32(0x70, 0) + w32(0x70, 1) + w32(0x70, 3) +
             w32(0x14, 1) + r32(0x10) + w32(0x14, 0) + r32(0x10) +
             w32(0x24, 1) + w32(0x20, 1) + w32(0x24, 0) + w32(0x20, feat) +
             w32(0x70, 0xb) + r32(0x70) + b"".join(access(0x100 + i, 0, False) for i in range(6)))
    for q, base in ((0, 0x1000), (1, 0x4000)):
        linux += (w32(0x30, q) + r32(0x44) + r32(0x34) + w32(0x38, 16) +
                  w32(0x80, base) + w32(0x84, 0) + w32(0x90, base + 0x1000) + w32(0x94, 0) +
                  w32(0xa0, base + 0x2000) + w32(0xa4, 0) + w32(0x44, 1))
    linux += w32(0x70, 0xf)
    tx_raw = (ram(0x30000, hdr + frame) + desc(1, 0, 0x30000, 12, 1, 1) +
              desc(1, 1, 0x3000c, len(frame), 0, 0) + avail(1, 0) + tx + drain)
    rx_raw = (desc(0, 0, 0x20000, 1536, 2, 0) + avail(0, 0) + inject(hdr + frame) + rx +
              r32(0x60) + w32(0x64, 1))
    big = hdr + bytes((i * 7) & 0xff for i in range(9000))
    return {
        "linux-tx-rx": linux + tx_raw + rx_raw,
        "setup-tx-rx": setup(0x3f, 4, 4) + txpkt(600, 3) + txpkt(60, 1, 1) + tx + drain +
        rxbuf(4, 1536) + inject(hdr + frame) + rx,
        "mergeable": setup(0x3f, 5, 4) + rxbuf(8, 1536, 1) + inject(big[:64], len(big)) +
        inject(hdr + frame) + both + drain,
        "starved": setup(0x3f, 4, 4) + rxbuf(3, 1536) + inject(big[:64], len(big)) + rx +
        rxbuf(4, 1536) + rx,
        "no-mrg-big": setup(0x3b, 4, 4) + rxbuf(1, 0, 2) + inject(big[:64], len(big)) + rx +
        rxbuf(1, 1024) + inject(hdr + frame) + rx,
        "reset-waiting": setup(0x3f, 4, 4) + rxbuf(2, 1536) + inject(big[:64], len(big)) + rx +
        reset + setup(0x3f, 4, 4) + rxbuf(8, 1536) + inject(hdr + frame) + rx + txpkt(100, 2) + tx,
        "hostile-rx": setup(0x3f, 4, 4) + desc(0, 15, 0x20000, 1536, 0, 0) + avail(0, 15) +
        rxbuf(1, 8) + rxbuf(2, 1536) + inject(hdr + frame) + inject(b"short") + inject(b"") + rx,
    }


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    linux = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("LIBVMM_LINUX_DIR", "")
    guests = sys.argv[3] if len(sys.argv) > 3 else ""
    small = None
    if linux and os.path.exists(os.path.join(linux, "vmlinux")):
        small = shrink_elf(open(os.path.join(linux, "vmlinux"), "rb").read())
    if small:
        write(f"{out}/linux", "vmlinux-pvh", linux_seed(small))
        write(f"{out}/linux", "vmlinux-64", linux_seed(small, flags=2))
        for name, z in compressed(small):
            write(f"{out}/decompress", name, bytes([0, 8]) + z)
    if linux and os.path.exists(os.path.join(linux, "bzImage")):
        bz = open(os.path.join(linux, "bzImage"), "rb").read()
        write(f"{out}/linux", "bzimage-head", linux_seed(bz[:64 << 10], initrd=b"07070100"))
        write(f"{out}/linux", "bzimage-head-host", linux_seed(bz[:64 << 10], flags=1))
    if guests and os.path.isdir(guests):
        for g in sorted(os.listdir(guests)):
            if g.endswith(".bin"):
                write(f"{out}/linux", "guest-" + g, linux_seed(open(os.path.join(guests, g), "rb").read()))
    for name, data in virtio_seeds().items():
        write(f"{out}/virtio", name, data)
    for name, data in virtio_net_seeds().items():
        write(f"{out}/virtio-net", name, data)
    for t in ("linux", "decompress", "devices", "msr-router", "vpmu", "virtio", "virtio-net"):
        os.makedirs(f"{out}/{t}", exist_ok=True)


main()
