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
    for t in ("linux", "decompress", "devices", "msr-router", "vpmu"):
        os.makedirs(f"{out}/{t}", exist_ok=True)


main()
