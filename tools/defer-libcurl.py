#!/usr/bin/env python3
"""Makes an ELF executable load libcurl at run time instead of at start-up.

`make release` runs this on the static tradejob binary. It removes the load-time dependency on libcurl.so.4: the
DT_NEEDED entry and its symbol-version requirement (without the latter the dynamic loader would assert that the
library is loaded). The binary's calls into libcurl stay lazy PLT calls, bound at their first use; tradejob's
HTTPTransport (`Libcurl.swift`) dlopens libcurl with global symbols before it makes its first URLSession, so a run
that sends no HTTP request never loads libcurl and the ~30 libraries it depends on.

Refuses (exit 1, nothing written) a binary that binds every symbol at start (BIND_NOW). A binary without the
dependency (already deferred: `make release` again without a relink) is left as it is (exit 0).
Usage: defer-libcurl.py BINARY [SONAME]
"""
import os
import struct
import sys

DT_NULL, DT_NEEDED, DT_STRTAB, DT_FLAGS, DT_FLAGS_1 = 0, 1, 5, 30, 0x6FFFFFFB
DT_VERNEED, DT_VERNEEDNUM, DT_BIND_NOW = 0x6FFFFFFE, 0x6FFFFFFF, 24
DF_BIND_NOW, DF_1_NOW = 0x8, 0x1


def fail(message):
    sys.exit("defer-libcurl: " + message)


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: defer-libcurl.py BINARY [SONAME]")
    path, soname = sys.argv[1], (sys.argv[2] if len(sys.argv) == 3 else "libcurl.so.4")
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail(f"{path}: not a little-endian 64-bit ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = {}
    for i in range(shnum):
        fields = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections[i] = {"type": fields[1], "addr": fields[3], "offset": fields[4], "size": fields[5], "link": fields[6],
                       "info": fields[7], "header": shoff + i * shentsize}
    by_type = {s["type"]: s for s in sections.values()}
    dynamic = by_type.get(6)  # SHT_DYNAMIC
    versym = by_type.get(0x6FFFFFFF)  # SHT_GNU_versym
    verneed = by_type.get(0x6FFFFFFE)  # SHT_GNU_verneed
    if dynamic is None:
        fail(f"{path}: no dynamic section (a fully static binary needs nothing done)")
    dynstr = sections[dynamic["link"]]

    def string(offset):
        start = dynstr["offset"] + offset
        return data[start:data.index(b"\0", start)].decode()

    entries = [struct.unpack_from("<qQ", data, dynamic["offset"] + 16 * k) for k in range(dynamic["size"] // 16)]
    entries = entries[:next(k for k, e in enumerate(entries) if e[0] == DT_NULL) + 1]
    for tag, value in entries:
        if tag == DT_BIND_NOW or (tag == DT_FLAGS and value & DF_BIND_NOW) or (tag == DT_FLAGS_1 and value & DF_1_NOW):
            fail(f"{path}: linked with BIND_NOW; its libcurl calls cannot be bound lazily")
    needed = [k for k, (tag, value) in enumerate(entries) if tag == DT_NEEDED and string(value) == soname]
    if not needed:
        print(f"defer-libcurl: {path} does not load {soname} at start-up (nothing to do)")
        return

    # The version requirement on the library: unlink it from the chain and collect its version indices.
    removed_indices = set()
    if verneed is not None:
        previous, offset = None, verneed["offset"]
        while True:
            _, count, file_name, aux, next_offset = struct.unpack_from("<HHIII", data, offset)
            if string(file_name) == soname:
                aux_offset = offset + aux
                for _ in range(count):
                    _, _, other, _, aux_next = struct.unpack_from("<IHHII", data, aux_offset)
                    removed_indices.add(other)
                    aux_offset += aux_next
                if previous is None:
                    # The chain now starts at the next entry (or is empty).
                    for k, (tag, value) in enumerate(entries):
                        if tag == DT_VERNEED and next_offset:
                            entries[k] = (tag, value + next_offset)
                else:
                    prev_next, = struct.unpack_from("<I", data, previous + 12)
                    struct.pack_into("<I", data, previous + 12, prev_next + next_offset if next_offset else 0)
                for k, (tag, value) in enumerate(entries):
                    if tag == DT_VERNEEDNUM:
                        entries[k] = (tag, value - 1)
                struct.pack_into("<I", data, verneed["header"] + 0x2C, verneed["info"] - 1)  # sh_info: the entry count
                if previous is None and not next_offset:
                    entries = [e for e in entries if e[0] not in (DT_VERNEED, DT_VERNEEDNUM)]
                break
            if not next_offset:
                break
            previous, offset = offset, offset + next_offset
    if versym is not None and removed_indices:
        for k in range(versym["size"] // 2):
            index, = struct.unpack_from("<H", data, versym["offset"] + 2 * k)
            if index & 0x7FFF in removed_indices:
                struct.pack_into("<H", data, versym["offset"] + 2 * k, 1)  # VER_NDX_GLOBAL

    kept = [e for k, e in enumerate(entries) if k not in needed]
    kept += [(DT_NULL, 0)] * (len(entries) - len(kept))
    for k, (tag, value) in enumerate(kept):
        struct.pack_into("<qQ", data, dynamic["offset"] + 16 * k, tag, value)

    temporary = path + ".defer-libcurl.tmp"
    with open(temporary, "wb") as out:
        out.write(data)
    os.chmod(temporary, os.stat(path).st_mode & 0o7777)
    os.replace(temporary, path)
    print(f"defer-libcurl: {path} no longer loads {soname} at start-up ({len(removed_indices)} version requirement(s) removed)")


if __name__ == "__main__":
    main()
