"""Malformed (and a few oddly-made but valid) pytorch_model.bin files for the reader's tests.

Called by tools/make_test_data.py as make(out_dir, state_dict), with the mixed-dtypes state dict.
Hostile pickles are written by hand, opcode by opcode, so nothing here ever unpickles them.
Each file's name says what is wrong with it; tests/io/pytorch_bin_test.cpp lists the error
words expected for each.
"""
import io
import os
import random
import struct
import zipfile
from collections import OrderedDict

import torch

PREFIX = "archive"


# ---- a tiny pickle assembler (protocol 2 opcodes, plus what protocol 4 adds) -------------------

def proto(v=2):
    return b"\x80" + bytes([v])


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def uni(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def short_uni(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def i32(v):
    return b"J" + struct.pack("<i", v)


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def rebuild(key, numel, offset, size, stride, storage="FloatStorage"):
    """_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""
    pid = tup(uni("storage"), glob("torch", storage), uni(key), uni("cpu"), i32(numel))
    args = tup(pid + b"Q", i32(offset), tup(*map(i32, size)), tup(*map(i32, stride)), b"\x89",
               glob("collections", "OrderedDict") + b")R")
    return glob("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def state_dict_pickle(items):
    """OrderedDict of name -> already-assembled value pickles."""
    body = b"".join(uni(k) + v for k, v in items)
    return proto() + glob("collections", "OrderedDict") + b")R(" + body + b"u."


# ---- zips ---------------------------------------------------------------------------------------

def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in entries:
            # A fixed timestamp keeps reruns byte-identical.
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compression)


def torch_entries(obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return [(n, z.read(n)) for n in z.namelist()]


def floats(n):
    return struct.pack("<%df" % n, *[float(i) for i in range(n)])


def make(out_dir, state_dict):
    os.makedirs(out_dir, exist_ok=True)

    def path(name):
        return os.path.join(out_dir, name)

    def pickle_only(name, pkl, storages=()):
        write_zip(path(name), [(PREFIX + "/data.pkl", pkl)] +
                  [(PREFIX + "/data/" + k, v) for k, v in storages] +
                  [(PREFIX + "/version", b"3\n")])

    # Code-execution attempts: each names a global the reader must refuse on sight.
    pickle_only("global_os_system.bin",
                proto() + glob("os", "system") + uni("echo pwned") + b"\x85R.")
    stack_global = (short_uni("builtins") + b"\x94" + short_uni("eval") + b"\x94\x93\x94" +
                    short_uni("print(1)") + b"\x94\x85\x94R\x94.")
    pickle_only("global_builtins_eval.bin",
                proto(4) + b"\x95" + struct.pack("<Q", len(stack_global)) + stack_global)
    pickle_only("global_getattr.bin", proto() + glob("__builtin__", "getattr") +
                tup(glob("collections", "OrderedDict"), uni("__init__")) + b"R.")
    # INST (protocol 0) imports and calls in one opcode; it is simply not supported.
    pickle_only("inst_opcode.bin", b"(ios\nsystem\n" + uni("echo pwned") + b".")

    # Structure errors.
    small = OrderedDict(w=torch.arange(6, dtype=torch.float32).reshape(2, 3),
                        b=torch.arange(3, dtype=torch.float32))
    entries = torch_entries(small)
    prefix = entries[0][0].split("/")[0]
    write_zip(path("no_data_pkl.bin"), [e for e in entries if not e[0].endswith("/data.pkl")])
    write_zip(path("missing_storage.bin"), [e for e in entries if e[0] != prefix + "/data/1"])
    write_zip(path("short_storage.bin"),
              [(n, d[:4] if n == prefix + "/data/0" else d) for n, d in entries])
    pkl = dict(entries)[prefix + "/data.pkl"]
    write_zip(path("truncated_pickle.bin"),
              [(n, d[:-1] if n.endswith("/data.pkl") else d) for n, d in entries])
    write_zip(path("unknown_opcode.bin"),
              [(n, pkl[:2] + b"\xff" + pkl[2:] if n.endswith("/data.pkl") else d)
               for n, d in entries])
    write_zip(path("top_level_list.bin"), torch_entries([torch.zeros(2), torch.ones(3)]))
    write_zip(path("value_not_tensor.bin"), torch_entries({"w": torch.zeros(2), "n": 3}))
    write_zip(path("nested_state_dict.bin"), torch_entries({"state_dict": small, "epoch": 1}))

    # Views that reach outside their 6-element storage.
    six = [("0", floats(6))]
    pickle_only("view_offset_past_storage.bin",
                state_dict_pickle([("t", rebuild("0", 6, 4, [3], [1]))]), six)
    pickle_only("view_stride_past_storage.bin",
                state_dict_pickle([("t", rebuild("0", 6, 0, [2, 3], [3, 2]))]), six)
    pickle_only("view_negative_stride.bin",
                state_dict_pickle([("t", rebuild("0", 6, 5, [3], [-1]))]), six)
    pickle_only("storage_numel_beyond_record.bin",
                state_dict_pickle([("t", rebuild("0", 1000, 0, [1000], [1]))]), six)

    # Whole-file problems.
    full = io.BytesIO()
    torch.save(state_dict, full)
    blob = full.getvalue()
    with open(path("truncated_bin.bin"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    torch.save(state_dict, path("legacy.bin"), _use_new_zipfile_serialization=False)
    rng = random.Random(1234)
    junk = bytes(rng.randrange(256) for _ in range(4096))
    with open(path("not_a_zip.bin"), "wb") as f:
        f.write(b"JUNK" + junk)

    # Valid files made differently from torch's default; they must load like mixed_dtypes.bin.
    torch.save(state_dict, path("protocol4.bin"), pickle_protocol=4)
    write_zip(path("deflated.bin"), torch_entries(state_dict), zipfile.ZIP_DEFLATED)
    # Python's zipfile does not pad entries to 64 bytes as torch does, so storages are misaligned.
    write_zip(path("unaligned_stored.bin"), torch_entries(state_dict))
