#!/usr/bin/env bash
# Builds the Fashion-MNIST subset embedded with the Shinso CLI: the first 10,000 training and
# the first 2,000 test images and labels, as gzip'd IDX files (gzip mtime 0, no file name, so
# the output is byte-for-byte reproducible).
#
# Usage: make-fashion-mnist-subset.sh [SOURCE_DIR] [OUTPUT_DIR]
#   SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (Debian: apt-get install dataset-fashion-mnist)
#   OUTPUT_DIR defaults to fashion-mnist-subset/ next to this script
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${1:-/usr/share/datasets/fashion-mnist}"
out="${2:-$here/fashion-mnist-subset}"
train_count=10000
test_count=2000

for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ ! -f "$src/$f.gz" && ! -f "$src/$f" ]]; then
    echo "error: $src/$f(.gz) not found; install the Debian package dataset-fashion-mnist or pass SOURCE_DIR" >&2
    exit 1
  fi
done
mkdir -p "$out"

/usr/bin/python3 - "$src" "$out" "$train_count" "$test_count" <<'PY'
import gzip, os, struct, sys

src, out, train_count, test_count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def read_idx(name):
    path = os.path.join(src, name + ".gz")
    opener = gzip.open if os.path.exists(path) else open
    if not os.path.exists(path):
        path = os.path.join(src, name)
    with opener(path, "rb") as f:
        data = f.read()
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != 0x08:
        sys.exit(f"error: {path}: not an unsigned-byte IDX file")
    dims = list(struct.unpack(">" + "i" * ndim, data[4:4 + 4 * ndim]))
    payload = data[4 + 4 * ndim:]
    item = 1
    for d in dims[1:]:
        item *= d
    if len(payload) != dims[0] * item:
        sys.exit(f"error: {path}: payload is {len(payload)} bytes, expected {dims[0] * item}")
    return type_code, dims, payload, item

def write_subset(name, count):
    type_code, dims, payload, item = read_idx(name)
    if dims[0] < count:
        sys.exit(f"error: {name} has only {dims[0]} items, {count} requested")
    dims[0] = count
    header = struct.pack(">HBB", 0, type_code, len(dims)) + struct.pack(">" + "i" * len(dims), *dims)
    path = os.path.join(out, name + ".gz")
    with open(path, "wb") as raw:
        # filename="" and mtime=0 keep the gzip header free of anything that varies between runs.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
            gz.write(header + payload[:count * item])
    print(f"{path}: {dims} ({os.path.getsize(path)} bytes)")

write_subset("train-images-idx3-ubyte", train_count)
write_subset("train-labels-idx1-ubyte", train_count)
write_subset("t10k-images-idx3-ubyte", test_count)
write_subset("t10k-labels-idx1-ubyte", test_count)
PY
