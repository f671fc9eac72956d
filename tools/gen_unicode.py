#!/usr/bin/env python3
"""gen_unicode.py - generates the Unicode tables of the learn tokenizer.

Usage:  python3 tools/gen_unicode.py learn.c [UCD_DIR]

Rewrites, in place, the region of the given C file between the lines
    /* BEGIN GENERATED UNICODE TABLES */
    /* END GENERATED UNICODE TABLES */
with tables computed from the Unicode Character Database in UCD_DIR (default
/usr/share/unicode, Debian package `unicode-data`). Plain python3, standard library only.

Tables (all `static const`, compact, read-only):
  learn__ucp_stage1 / learn__ucp_stage2 / learn__ucp_stage3
      A three-stage table giving one byte of properties per code point (0..0x10FFFF):
        bits 0-2  general category group, as llama.cpp's unicode flags group them:
                  0 Cn (unassigned), 1 N, 2 L, 3 Z, 4 M, 5 P, 6 S, 7 C (Cc Cf Co Cs)
        bit 3     White_Space (PropList.txt)
        bit 4     NFC check: NFC_Quick_Check is not Yes, or the canonical combining class is
                  not 0. Text with no such code point is already in NFC.
      With S3 = LEARN__UCP_SHIFT3, S2 = LEARN__UCP_SHIFT2:
        b2 = stage1[cp >> (S3 + S2)]
        b3 = stage2[b2 << S2 | (cp >> S3) & (2^S2 - 1)]
        props(cp) = stage3[b3 << S3 | cp & (2^S3 - 1)]
  learn__ucp_ccc
      Canonical combining classes as sorted breakpoints (start << 8 | ccc): the class of cp is
      that of the last breakpoint <= cp.
  learn__ucp_decomp
      Canonical decompositions (one step; apply repeatedly), sorted by code point, packed as
      cp << 42 | first << 21 | second (second = 0 for singletons); bit 63 marks a pair that is
      not a primary composite (Full_Composition_Exclusion). Hangul syllables are algorithmic
      and not listed.
  learn__ucp_comp
      Indices into learn__ucp_decomp of the primary composites, sorted by (first, second).
"""

import os
import sys

BEGIN = "/* BEGIN GENERATED UNICODE TABLES */"
END = "/* END GENERATED UNICODE TABLES */"
MAX_CP = 0x110000

CAT_GROUP = {
    "Cn": 0,
    "Nd": 1, "Nl": 1, "No": 1,
    "Lu": 2, "Ll": 2, "Lt": 2, "Lm": 2, "Lo": 2,
    "Zs": 3, "Zl": 3, "Zp": 3,
    "Mn": 4, "Mc": 4, "Me": 4,
    "Pc": 5, "Pd": 5, "Ps": 5, "Pe": 5, "Pi": 5, "Pf": 5, "Po": 5,
    "Sm": 6, "Sc": 6, "Sk": 6, "So": 6,
    "Cc": 7, "Cf": 7, "Co": 7, "Cs": 7,
}
FLAG_SPACE = 8
FLAG_NFC = 16


def die(msg):
    sys.stderr.write("gen_unicode.py: %s\n" % msg)
    sys.exit(1)


def parse_ranges(path, prop_filter):
    """Yields (first, last, fields) for each data line of a UCD property file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(";")]
            if not prop_filter(fields):
                continue
            r = fields[0].split("..")
            first = int(r[0], 16)
            last = int(r[1], 16) if len(r) > 1 else first
            yield first, last, fields


def read_ucd(ucd):
    cat = bytearray(MAX_CP)  # 0 = Cn
    ccc = bytearray(MAX_CP)
    decomp = {}  # cp -> tuple of code points (canonical, one step)
    lower = {}
    with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
        first = None
        for line in f:
            p = line.rstrip("\n").split(";")
            if len(p) != 15:
                continue
            cp = int(p[0], 16)
            name, gc = p[1], p[2]
            if gc not in CAT_GROUP:
                die("unknown general category %s at %04X" % (gc, cp))
            if name.endswith(", First>"):
                first = cp
                continue
            lo = first if name.endswith(", Last>") else cp
            first = None
            for c in range(lo, cp + 1):
                cat[c] = CAT_GROUP[gc]
                ccc[c] = int(p[3])
            if p[5] and not p[5].startswith("<"):
                decomp[cp] = tuple(int(x, 16) for x in p[5].split())
            if p[13]:
                lower[cp] = int(p[13], 16)
    return cat, ccc, decomp, lower


def ucd_version(ucd):
    path = os.path.join(ucd, "DerivedNormalizationProps.txt")
    with open(path, encoding="utf-8") as f:
        head = f.readline()
    # "# DerivedNormalizationProps-15.0.0.txt"
    v = head.strip().lstrip("#").strip()
    if v.startswith("DerivedNormalizationProps-") and v.endswith(".txt"):
        return v[len("DerivedNormalizationProps-"):-4]
    die("cannot read the Unicode version from %s" % path)


def three_stage(props):
    """Smallest three-stage table: returns (shift3, shift2, stage1, stage2, stage3)."""
    best = None
    for s3 in (4, 5, 6):
        size3 = 1 << s3
        blocks3, st2_flat, st3 = {}, [], []
        for start in range(0, MAX_CP, size3):
            blk = bytes(props[start:start + size3])
            if blk not in blocks3:
                blocks3[blk] = len(blocks3)
                st3 += blk
            st2_flat.append(blocks3[blk])
        for s2 in (3, 4, 5, 6):
            size2 = 1 << s2
            blocks2, st1, st2 = {}, [], []
            for i in range(0, len(st2_flat), size2):
                blk = tuple(st2_flat[i:i + size2])
                if blk not in blocks2:
                    blocks2[blk] = len(blocks2)
                    st2 += blk
                st1.append(blocks2[blk])
            w1 = 1 if len(blocks2) <= 256 else 2
            w2 = 1 if len(blocks3) <= 256 else 2
            total = len(st1) * w1 + len(st2) * w2 + len(st3)
            if best is None or total < best[0]:
                best = (total, s3, s2, st1, st2, st3, w1, w2)
    return best[1:]


def c_array(ctype, name, values, fmt):
    """A C array definition with lines of at most 96 characters."""
    out = ["static const %s %s[%d] = {" % (ctype, name, len(values))]
    line = "   "
    for v in values:
        item = " " + (fmt % v) + ","
        if len(line) + len(item) > 96:
            out.append(line)
            line = "   "
        line += item
    if line.strip():
        out.append(line)
    out.append("};")
    return "\n".join(out)


def generate(ucd):
    version = ucd_version(ucd)
    cat, ccc, decomp, lower = read_ucd(ucd)

    space = set()
    for first, last, _ in parse_ranges(os.path.join(ucd, "PropList.txt"),
                                       lambda f: f[1] == "White_Space"):
        space.update(range(first, last + 1))
    nfc_not_yes = set()
    excluded = set()
    for first, last, fields in parse_ranges(
            os.path.join(ucd, "DerivedNormalizationProps.txt"),
            lambda f: f[1] in ("NFC_QC", "Full_Composition_Exclusion")):
        rng = range(first, last + 1)
        if fields[1] == "NFC_QC" and fields[2] in ("N", "M"):
            nfc_not_yes.update(rng)
        elif fields[1] == "Full_Composition_Exclusion":
            excluded.update(rng)

    # The tokenizer lower-cases only ASCII letters when it matches contractions ('s, 'T, ...):
    # check that no other code point lower-cases to one of the letters involved.
    for cp, lo in lower.items():
        if cp >= 0x80 and lo < 0x80 and chr(lo) in "stmdrevl":
            die("U+%04X lower-cases to '%s': the contraction matcher needs it" % (cp, chr(lo)))

    props = bytearray(MAX_CP)
    for cp in range(MAX_CP):
        v = cat[cp]
        if cp in space:
            v |= FLAG_SPACE
        if cp in nfc_not_yes or ccc[cp] != 0:
            v |= FLAG_NFC
        props[cp] = v
    s3, s2, stage1, stage2, stage3, w1, w2 = three_stage(props)

    ccc_breaks = []
    prev = None
    for cp in range(MAX_CP):
        if ccc[cp] != prev:
            ccc_breaks.append(cp << 8 | ccc[cp])
            prev = ccc[cp]

    dec = []
    for cp in sorted(decomp):
        d = decomp[cp]
        if len(d) > 2:
            die("canonical decomposition of U+%04X has %d code points" % (cp, len(d)))
        first, second = d[0], (d[1] if len(d) == 2 else 0)
        composite = len(d) == 2 and cp not in excluded
        dec.append((cp, first, second, composite))
    dec_packed = [(0 if c else 1 << 63) | cp << 42 | a << 21 | b for cp, a, b, c in dec]
    comp = sorted((i for i, e in enumerate(dec) if e[3]), key=lambda i: (dec[i][1], dec[i][2]))
    if len(dec) > 0xFFFF:
        die("too many decompositions for 16-bit indices")

    s1type = "uint8_t" if w1 == 1 else "uint16_t"
    s2type = "uint8_t" if w2 == 1 else "uint16_t"
    parts = [
        BEGIN,
        "/* Generated by tools/gen_unicode.py from the Unicode Character Database %s (the files in"
        % version,
        "   /usr/share/unicode of Debian's unicode-data package). Do not edit by hand; regenerate",
        "   with:  python3 tools/gen_unicode.py learn.c",
        "   The layout of each table is described at the top of tools/gen_unicode.py. */",
        '#define LEARN__UCD_VERSION "%s"' % version,
        "#define LEARN__UCP_SHIFT3 %d" % s3,
        "#define LEARN__UCP_SHIFT2 %d" % s2,
        "#define LEARN__UCP_CAT 7u   /* general category group: */",
        "#define LEARN__UCP_CN 0u    /*   unassigned */",
        "#define LEARN__UCP_N 1u",
        "#define LEARN__UCP_L 2u",
        "#define LEARN__UCP_Z 3u",
        "#define LEARN__UCP_M 4u",
        "#define LEARN__UCP_P 5u",
        "#define LEARN__UCP_S 6u",
        "#define LEARN__UCP_C 7u",
        "#define LEARN__UCP_SPACE %du  /* White_Space */" % FLAG_SPACE,
        "#define LEARN__UCP_NFC %du   /* may change under NFC */" % FLAG_NFC,
        c_array(s1type, "learn__ucp_stage1", stage1, "%d"),
        c_array(s2type, "learn__ucp_stage2", stage2, "%d"),
        c_array("uint8_t", "learn__ucp_stage3", list(stage3), "%d"),
        c_array("uint32_t", "learn__ucp_ccc", ccc_breaks, "0x%x"),
        c_array("uint64_t", "learn__ucp_decomp", dec_packed, "0x%xu"),
        c_array("uint16_t", "learn__ucp_comp", comp, "%d"),
        END,
    ]
    stats = "UCD %s: three-stage %d + %d + %d bytes (shifts %d, %d), %d ccc breaks, " \
            "%d decompositions, %d composites" % (
                version, len(stage1) * w1, len(stage2) * w2, len(stage3), s3, s2,
                len(ccc_breaks), len(dec), len(comp))
    return "\n".join(parts), stats


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    path = argv[1]
    ucd = argv[2] if len(argv) == 3 else "/usr/share/unicode"
    if not os.path.exists(os.path.join(ucd, "UnicodeData.txt")):
        die("%s/UnicodeData.txt not found (install Debian's unicode-data package)" % ucd)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    b = text.find(BEGIN)
    e = text.find(END)
    if b < 0 or e < 0 or e < b or text.find(BEGIN, b + 1) >= 0:
        die("%s: expected exactly one '%s' ... '%s' region" % (path, BEGIN, END))
    region, stats = generate(ucd)
    new = text[:b] + region + text[e + len(END):]
    if new != text:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(tmp, path)
    sys.stderr.write("gen_unicode.py: %s: %s\n" % (path, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
