#!/usr/bin/env python3
"""Write a deterministic, realistic-looking file tree for the benchmark image.

bench/run feeds the tree to `mkfs.ext4 -d`. What matters for guardian's cost
is the metadata, so the tree is shaped for that: many small files in nested
directories (in-use inodes), a few large directories with thousands of entries
(htree once e2fsck -D has indexed them), sparse files with hundreds to
thousands of extents (extent tree blocks at depth 1 and 2), xattrs both small
(inside the inode) and large (an xattr block of their own), and symlinks and
hard links. File contents are kept tiny because data blocks are never read.

--shape small keeps the layout but gives the files real sizes (90% at most
24 KiB, the rest up to 256 KiB): data blocks in use, extents in every inode,
the shape on which block ownership has the most to claim.

Everything derives from --seed, so the same arguments give the same tree; the
cache key in bench/run hashes this file together with its arguments.
"""

import argparse
import os
import random

FIXED_TIME = 1_600_000_000  # also what bench/run passes as E2FSPROGS_FAKE_TIME

WORDS = (
    "lib share doc src include bin etc var cache log spool mail www html "
    "static assets img css js node_modules vendor python3 site-packages "
    "perl locale man conf data backup home user project build tmp run opt "
    "kernel modules drivers firmware fonts icons themes plugins config db"
).split()
EXTS = ("", ".txt", ".conf", ".py", ".c", ".h", ".html", ".js", ".json",
        ".so", ".gz", ".log", ".png", ".md", ".xml", ".pm", ".mo")


class Tree:
    def __init__(self, root, seed, shape="mixed"):
        self.root = root
        self.shape = shape
        self.rng = random.Random(seed)
        # One random block; file contents are slices of it, so writing is
        # cheap while files still differ.
        self.blob = self.rng.randbytes(1 << 20)
        self.files = 0
        self.dirs = 0
        self.xattr_small = 0
        self.xattr_block = 0
        self.sparse = 0
        self.paths = []  # a sample of file paths, for hard links

    def name(self, i):
        return f"{self.rng.choice(WORDS)}-{i:x}{self.rng.choice(EXTS)}"

    def size(self):
        r = self.rng.random()
        if self.shape == "small":
            if r < 0.90:
                return self.rng.randint(1, 24576)
            return self.rng.randint(24577, 262144)
        if r < 0.75:
            return self.rng.randint(1, 100)
        if r < 0.95:
            return self.rng.randint(101, 4096)
        if r < 0.995:
            return self.rng.randint(4097, 32768)
        return self.rng.randint(32769, 262144)

    def write_file(self, path, size):
        start = self.rng.randrange(0, len(self.blob) - size)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, self.blob[start:start + size])
        finally:
            os.close(fd)
        r = self.rng.random()
        if r < 0.05:
            # Fits in the inode's extra space: no xattr block.
            os.setxattr(path, b"user.mime", b"text/plain")
            self.xattr_small += 1
        elif r < 0.06:
            # Too large for the inode: mke2fs puts it in an xattr block.
            n = self.rng.randint(300, 2000)
            os.setxattr(path, b"user.comment", self.blob[start:start + n])
            self.xattr_block += 1
        self.files += 1
        if len(self.paths) < 4096:
            self.paths.append(path)

    def sparse_file(self, path, extents):
        # One 4 KiB block every 8 KiB: each block becomes its own extent, so
        # more than 4 extents need a tree block, more than 1360 need depth 2.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for i in range(extents):
                os.pwrite(fd, self.blob[i * 64:i * 64 + 4096], i * 8192)
        finally:
            os.close(fd)
        self.files += 1
        self.sparse += 1

    def mkdir(self, path):
        os.mkdir(path, 0o755)
        self.dirs += 1

    def big_dir(self, path, entries):
        self.mkdir(path)
        for i in range(entries):
            self.write_file(os.path.join(path, f"msg.{i:07d}.{self.rng.randrange(1 << 30):08x}"), self.rng.randint(1, 200))

    def nested(self, path, budget, depth):
        """Fill `path` with about `budget` files spread over subdirectories."""
        here = min(budget, self.rng.randint(2, 40))
        for i in range(here):
            self.write_file(os.path.join(path, self.name(i)), self.size())
        budget -= here
        if budget <= 0:
            return
        if depth >= 6:
            for i in range(budget):
                self.write_file(os.path.join(path, self.name(here + i)), self.size())
            return
        subdirs = self.rng.randint(2, 8)
        for d in range(subdirs):
            share = budget // (subdirs - d) if d < subdirs - 1 else budget
            if share <= 0:
                continue
            sub = os.path.join(path, f"{self.rng.choice(WORDS)}.d{d}")
            self.mkdir(sub)
            self.nested(sub, share, depth + 1)
            budget -= share

    def links(self):
        linkdir = os.path.join(self.root, "links")
        self.mkdir(linkdir)
        for i, target in enumerate(self.paths[:2000]):
            rel = os.path.relpath(target, linkdir)
            if i % 4 == 0:
                os.link(target, os.path.join(linkdir, f"hard-{i}"))
            elif i % 4 == 1:
                # Longer than 60 bytes: a slow symlink with a data block.
                os.symlink("./" * 40 + rel, os.path.join(linkdir, f"slow-{i}"))
            else:
                os.symlink(rel, os.path.join(linkdir, f"sym-{i}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="empty directory to fill")
    ap.add_argument("--files", type=int, required=True, help="about this many files in total")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--shape", choices=("mixed", "small"), default="mixed")
    args = ap.parse_args()

    os.makedirs(args.root, exist_ok=True)
    t = Tree(args.root, args.seed, args.shape)
    scale = args.files / 300_000
    # Large directories (mail spools, caches): thousands of entries each.
    big = [max(200, int(n * scale)) for n in (12000, 8000, 5000, 3000, 2000, 1000)]
    spool = os.path.join(args.root, "var-spool")
    t.mkdir(spool)
    for i, n in enumerate(big):
        t.big_dir(os.path.join(spool, f"queue{i}"), n)

    # Multi-extent files: most at depth 1, a few at depth 2.
    sparse = os.path.join(args.root, "images")
    t.mkdir(sparse)
    for i in range(max(4, int(60 * scale))):
        t.sparse_file(os.path.join(sparse, f"disk{i}.img"), t.rng.randint(5, 1300))
    for i in range(max(1, int(4 * scale))):
        t.sparse_file(os.path.join(sparse, f"deep{i}.img"), t.rng.randint(1500, 3000))

    rest = args.files - t.files
    tops = 12
    for i in range(tops):
        top = os.path.join(args.root, f"{WORDS[i]}")
        t.mkdir(top)
        t.nested(top, rest // tops, 1)
    t.links()

    # Fixed atime/mtime everywhere (ctime cannot be set; mke2fs copies it).
    for dirpath, dirnames, filenames in os.walk(args.root):
        for n in filenames + dirnames:
            os.utime(os.path.join(dirpath, n), (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    os.utime(args.root, (FIXED_TIME, FIXED_TIME))

    print(f"files={t.files} dirs={t.dirs} xattr_small={t.xattr_small} "
          f"xattr_block={t.xattr_block} sparse={t.sparse}")


if __name__ == "__main__":
    main()
