#!/bin/sh
# bench/ship.sh - mls-ship against `tar -c | zstd -3` on the same tree.
#
# Makes a tree of 10,000 files (~100 MB: small text-like sources, medium
# and large files, part random, part compressible) in a temp dir, then, in
# each of MLS_BENCH_ROUNDS rounds (default 3), side by side on the same
# tree: a first mls-ship (empty data dir), tar -c | zstd -3 -T1, a second
# ship of the unchanged tree, a ship after one source file changed.  Prints
# ONE JSON object: per measure the best (min) wall and CPU (user+sys of the
# process and its children) seconds over the rounds, the first-ship ratio
# to tar|zstd, and the bytes the unchanged ship wrote (write(2) bytes, its
# JSON record on stdout excepted) and added to the store.
# Run with the build dir first on PATH: PATH=$builddir:$PATH sh bench/ship.sh
set -eu
: "${MLS_BENCH_FILES:=10000}" "${MLS_BENCH_ROUNDS:=3}"
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

# warm the page cache so that neither side pays for the first read
tar -cf - -C "$tmp/tree" . > /dev/null
# the files' times a second behind us, as in a tree edited a while ago
# (the cache hashes again what changed within a second of a ship)
sleep 1

$PY - "$tmp" "$MLS_BENCH_ROUNDS" <<'PYEOF'
import json, os, resource, shutil, subprocess, sys, time
tmp, rounds = sys.argv[1], int(sys.argv[2])
tree, data = os.path.join(tmp, "tree"), os.environ["MLS_DATA_HOME"]

def run(cmd):
    """wall s, cpu s, stdout, stderr, bytes written by the command"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    # the shell's /proc io after the wait counts its reaped children's
    p = subprocess.run(["sh", "-c", '{ ' + cmd + '; } >"$0.out" 2>"$0.err"; rc=$?; '
                        'grep ^wchar: /proc/$$/io; exit $rc',
                        os.path.join(tmp, "cmd")],
                       capture_output=True, text=True)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("bench/ship.sh: %s: exit %d: %s" % (cmd, p.returncode,
                 open(os.path.join(tmp, "cmd.err")).read()))
    out = open(os.path.join(tmp, "cmd.out"), errors="replace").read()
    err = open(os.path.join(tmp, "cmd.err"), errors="replace").read()
    wchar = int(p.stdout.split()[1]) - len(out.encode()) - len(err.encode())
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t1 - t0, cpu, out, err, wchar

def du(path):
    n = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            n += os.lstat(os.path.join(d, f)).st_size
    return n

ship = "mls-ship -v '%s'" % tree
m = {k: [] for k in ("first", "tar", "again", "change")}
res = {}
victim = os.path.join(tree, "pkg00", "mod00", "f00000.py")
for r in range(rounds):
    shutil.rmtree(data, ignore_errors=True)
    w, c, out, _, _ = run(ship)
    first = json.loads(out)
    m["first"].append((w, c))
    w, c, _, _, _ = run("tar -cf - -C '%s' . | zstd -3 -T1 -q -c > '%s/t.zst'"
                        % (tree, tmp))
    m["tar"].append((w, c))
    res["tar_zstd_bytes"] = os.path.getsize(os.path.join(tmp, "t.zst"))
    before = du(os.path.join(data, "store"))
    w, c, out, err, wrote = run(ship)
    second = json.loads(out)
    m["again"].append((w, c))
    res["second_ship_same_id"] = first["id"] == second["id"]
    res["second_ship_uploaded"] = second["uploaded"]
    res["second_ship_from_cache"] = "known from the cache" in err
    res["second_ship_packed"] = "pack:" in err
    res["second_ship_bytes_written"] = wrote
    res["second_ship_store_bytes_added"] = du(os.path.join(data, "store")) - before
    with open(victim, "ab") as f:
        f.write(b"# round %d\n" % r)
    os.utime(victim, (time.time() - 5, time.time() - 5))
    time.sleep(1.1)   # its ctime a second behind too
    w, c, out, err, wrote = run(ship)
    m["change"].append((w, c))
    res["one_change_new_id"] = json.loads(out)["id"] != first["id"]
    res["one_change_hashed_only_it"] = err.count("changed") == 1
    res["one_change_bytes_uploaded"] = json.loads(out)["size"]

best = lambda k, i: round(min(x[i] for x in m[k]), 3)
print(json.dumps({
    "bench": "ship",
    "rounds": rounds,
    "files": first["files"],
    "bytes": first["bytes"],
    "ship_archive_bytes": first["size"],
    "first_ship_s": best("first", 0), "first_ship_cpu_s": best("first", 1),
    "tar_zstd_s": best("tar", 0), "tar_zstd_cpu_s": best("tar", 1),
    "ratio_ship_to_tar_zstd": round(best("first", 0) / best("tar", 0), 3),
    "second_ship_s": best("again", 0), "second_ship_cpu_s": best("again", 1),
    "one_change_ship_s": best("change", 0),
    "one_change_ship_cpu_s": best("change", 1),
    **res,
}))
PYEOF
