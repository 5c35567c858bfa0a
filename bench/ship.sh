#!/bin/sh
# bench/ship.sh - mls-ship against `tar -c | zstd -3` on the same tree.
#
# Makes a tree of 10,000 files (~100 MB: small text-like sources, medium
# and large files, part random, part compressible) in a temp dir, then
# prints ONE JSON object: the time of a first mls-ship, of tar|zstd -3 -T1
# (single-threaded, as mls-ship is) on the same tree, their ratio, and the
# time and bytes written of a second, unchanged ship.
# Run with the build dir first on PATH: PATH=$builddir:$PATH sh bench/ship.sh
set -eu
: "${MLS_BENCH_FILES:=10000}"
PY=/usr/bin/python3
command -v mls-ship >/dev/null || { echo "bench/ship.sh: mls-ship not on PATH" >&2; exit 69; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mls-bench-ship.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp/home" MLS_DATA_HOME="$tmp/data"
unset MLS_CONFIG MLS_STORE XDG_DATA_HOME
mkdir -p "$HOME"

$PY - "$tmp/tree" "$MLS_BENCH_FILES" <<'PYEOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
words = [b"import", b"torch", b"def", b"return", b"self", b"layer", b"loss",
         b"for", b"in", b"range", b"x", b"=", b"(", b")", b"\n", b"    "]
total = 0
for i in range(n):
    d = os.path.join(root, "pkg%02d" % (i % 50), "mod%02d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    r = rng.random()
    if r < 0.90:            # sources: 1-8 KiB, compressible
        size = rng.randint(1024, 8192)
        body = b" ".join(rng.choice(words) for _ in range(size // 4))[:size]
    elif r < 0.99:          # data: 10-40 KiB, half random
        size = rng.randint(10240, 40960)
        body = os.urandom(size // 2) + bytes(size - size // 2)
    else:                   # blobs: 256-512 KiB, random
        size = rng.randint(256 << 10, 512 << 10)
        body = os.urandom(size)
    with open(os.path.join(d, "f%05d.%s" % (i, "py" if r < 0.9 else "bin")), "wb") as f:
        f.write(body)
    total += len(body)
PYEOF

now() { date +%s.%N; }
# warm the page cache so that neither side pays for the first read
tar -cf - -C "$tmp/tree" . > /dev/null

t0=$(now)
mls-ship "$tmp/tree" > "$tmp/first.json"
t1=$(now)
tar -cf - -C "$tmp/tree" . | zstd -3 -T1 -q -c > "$tmp/tree.tar.zst"
t2=$(now)
store_before=$(du -sb "$MLS_DATA_HOME/store" | cut -f1)
mls-ship "$tmp/tree" > "$tmp/second.json"
t3=$(now)
store_after=$(du -sb "$MLS_DATA_HOME/store" | cut -f1)

$PY - "$tmp" "$t0" "$t1" "$t2" "$t3" "$store_before" "$store_after" <<'PYEOF'
import json, os, sys
tmp = sys.argv[1]
t0, t1, t2, t3 = map(float, sys.argv[2:6])
before, after = int(sys.argv[6]), int(sys.argv[7])
first = json.load(open(os.path.join(tmp, "first.json")))
second = json.load(open(os.path.join(tmp, "second.json")))
ship, tz, again = t1 - t0, t2 - t1, t3 - t2
print(json.dumps({
    "bench": "ship",
    "files": first["files"],
    "bytes": first["bytes"],
    "ship_s": round(ship, 3),
    "ship_archive_bytes": first["size"],
    "tar_zstd_s": round(tz, 3),
    "tar_zstd_bytes": os.path.getsize(os.path.join(tmp, "tree.tar.zst")),
    "ratio_ship_to_tar_zstd": round(ship / tz, 3) if tz > 0 else None,
    "second_ship_s": round(again, 3),
    "second_ship_same_id": first["id"] == second["id"],
    "second_ship_uploaded": second["uploaded"],
    "second_ship_store_bytes_written": after - before,
    "second_ship_tmp_bytes_written": second["size"],
}))
PYEOF
