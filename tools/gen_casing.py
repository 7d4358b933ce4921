#!/usr/bin/env python3
"""Generate lib/casing_data.h from Unicode's own data files.

What lib/casing.c needs to map case as Python's str.upper and str.lower do,
from one Unicode version (the newest Debian ships, kept in tools/unicode/ so
the tables never depend on the machine that builds them):

- each code point's simple (one-to-one) mapping (UnicodeData.txt), as
  two-stage tables of deltas: a block number per 256 code points, then the
  deltas of that block (identical blocks are stored once). utf8proc, which
  decodes and encodes UTF-8 for lib/casing.c, has mappings too, but of the
  system's utf8proc (Debian 12: Unicode 15.0): tables of our own keep every
  machine at the same version, at least as new as any Python's;
- the unconditional multi-character mappings of SpecialCasing.txt
  (e.g. U+00DF -> "SS", U+0130 -> "i\\u0307"); the conditional ones
  (Final_Sigma, language-specific) are skipped, as Python's str.upper and
  str.lower skip them; Final_Sigma is implemented in lib/casing.c;
- the Cased and Case_Ignorable properties (DerivedCoreProperties.txt),
  which the Final_Sigma rule is defined with.

Usage: tools/gen_casing.py [UNICODE_DIR] > lib/casing_data.h
UNICODE_DIR holds UnicodeData.txt, SpecialCasing.txt and
DerivedCoreProperties.txt, plain or .xz; it defaults to tools/unicode/.
tests/test_text.py checks that the committed file is what this prints.
"""

from __future__ import annotations

import lzma
import os
import re
import sys

UNICODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unicode")


def data_lines(path: str):
    """(fields, version) of a UCD file (or its .xz): fields of each non-comment line."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        with lzma.open(path + ".xz", "rt", encoding="utf-8") as f:
            text = f.read()
    version = re.search(r"^# \w+-(\d+\.\d+\.\d+)\.txt", text, re.M)
    rows = []
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if line:
            rows.append([field.strip() for field in line.split(";")])
    return rows, version.group(1) if version else "unknown"


def codepoints(field: str) -> list[int]:
    return [int(x, 16) for x in field.split()]


def simple_casing(directory: str) -> tuple[dict[int, int], dict[int, int]]:
    """UnicodeData.txt's simple uppercase and lowercase mappings (fields 12, 13)."""
    simple_upper, simple_lower = {}, {}
    unicode_rows, _ = data_lines(os.path.join(directory, "UnicodeData.txt"))
    for row in unicode_rows:
        cp = int(row[0], 16)
        if row[12]:
            simple_upper[cp] = int(row[12], 16)
        if row[13]:
            simple_lower[cp] = int(row[13], 16)
    return simple_upper, simple_lower


def special_casing(directory: str, simple_upper: dict[int, int], simple_lower: dict[int, int]):
    rows, version = data_lines(os.path.join(directory, "SpecialCasing.txt"))
    upper, lower = {}, {}
    for row in rows:
        # code; lower; title; upper; (condition_list;)
        if len(row) > 4 and row[4]:
            continue  # conditional: Final_Sigma or a language
        cp = int(row[0], 16)
        for mapping, simple, table in (
            (codepoints(row[1]), simple_lower, lower),
            (codepoints(row[3]), simple_upper, upper),
        ):
            if len(mapping) == 1:
                # One-to-one entries only repeat UnicodeData's simple mapping.
                if mapping[0] != simple.get(cp, cp):
                    raise SystemExit(
                        f"U+{cp:04X}: SpecialCasing one-to-one mapping differs from UnicodeData"
                    )
                continue
            if not 1 < len(mapping) <= 3:
                raise SystemExit(f"U+{cp:04X}: mapping of {len(mapping)} code points")
            table[cp] = mapping
    return upper, lower, version


def derived_ranges(directory: str, names: tuple[str, ...]):
    rows, version = data_lines(os.path.join(directory, "DerivedCoreProperties.txt"))
    result = {name: [] for name in names}
    for row in rows:
        if row[1] in result:
            lo, _, hi = row[0].partition("..")
            result[row[1]].append((int(lo, 16), int(hi or lo, 16)))
    for name, ranges in result.items():
        ranges.sort()
        merged: list[list[int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        result[name] = merged
    return result, version


def emit_specials(out: list[str], name: str, table: dict[int, list[int]]) -> None:
    out.append(f"static const struct casing_special {name}[] = {{")
    for cp in sorted(table):
        mapping = table[cp] + [0] * (3 - len(table[cp]))
        body = ", ".join(f"0x{m:04X}" for m in mapping)
        out.append(f"    {{0x{cp:04X}, {len(table[cp])}, {{{body}}}}},")
    out.append("};")
    out.append("")


def emit_bits(out: list[str], name: str, table: dict[int, list[int]]) -> None:
    """A bitmap of the table's code points, so most lookups skip the search."""
    words = [0] * (max(table) // 64 + 1)
    for cp in table:
        words[cp // 64] |= 1 << (cp % 64)
    out.append(f"static const uint64_t {name}[{len(words)}] = {{")
    for k in range(0, len(words), 4):
        out.append("    " + " ".join(f"0x{w:016X}u," for w in words[k : k + 4]))
    out.append("};")
    out.append("")


def emit_deltas(out: list[str], name: str, mapping: dict[int, int]) -> None:
    """{name}_block[cp >> 8] -> a block of 256 deltas in {name}_delta (block 0: none)."""
    blocks: list[tuple[int, ...]] = [(0,) * 256]
    index: dict[tuple[int, ...], int] = {blocks[0]: 0}
    stage1 = []
    for high in range(0x110000 >> 8):
        block = tuple(mapping.get(cp, cp) - cp for cp in range(high << 8, (high + 1) << 8))
        if block not in index:
            index[block] = len(blocks)
            blocks.append(block)
        stage1.append(index[block])
    if len(blocks) > 256:
        raise SystemExit(f"{name}: {len(blocks)} distinct blocks, more than a uint8_t numbers")
    out.append(f"static const uint8_t {name}_block[{len(stage1)}] = {{")
    for k in range(0, len(stage1), 32):
        out.append("    " + ",".join(str(b) for b in stage1[k : k + 32]) + ",")
    out.append("};")
    out.append(f"static const int32_t {name}_delta[{len(blocks)}][256] = {{")
    for block in blocks:
        out.append("    {")
        for k in range(0, 256, 16):
            out.append("        " + ",".join(str(d) for d in block[k : k + 16]) + ",")
        out.append("    },")
    out.append("};")
    out.append("")


def emit_ranges(out: list[str], name: str, ranges: list[list[int]]) -> None:
    out.append(f"static const struct casing_range {name}[] = {{")
    for lo, hi in ranges:
        out.append(f"    {{0x{lo:04X}, 0x{hi:04X}}},")
    out.append("};")
    out.append("")


def main() -> None:
    directory = sys.argv[1] if len(sys.argv) > 1 else UNICODE_DIR
    simple_upper, simple_lower = simple_casing(directory)
    upper, lower, special_version = special_casing(directory, simple_upper, simple_lower)
    props, props_version = derived_ranges(directory, ("Cased", "Case_Ignorable"))
    out = [
        "/* Generated by tools/gen_casing.py; do not edit. Sources:",
        f" *   UnicodeData.txt {props_version} (simple mappings)",
        f" *   SpecialCasing.txt {special_version} (unconditional multi-character mappings)",
        f" *   DerivedCoreProperties.txt {props_version} (Cased, Case_Ignorable)",
        " * Included by lib/casing.c only. */",
        "",
        "struct casing_special { uint32_t code_point; uint32_t count; uint32_t mapping[3]; };",
        "struct casing_range { uint32_t first; uint32_t last; };",
        f'#define CASING_UNICODE_VERSION "{props_version}"',
        "",
    ]
    emit_deltas(out, "simple_upper", simple_upper)
    emit_deltas(out, "simple_lower", simple_lower)
    emit_specials(out, "upper_special", upper)
    emit_specials(out, "lower_special", lower)
    emit_bits(out, "upper_special_bits", upper)
    emit_bits(out, "lower_special_bits", lower)
    emit_ranges(out, "cased_ranges", props["Cased"])
    emit_ranges(out, "case_ignorable_ranges", props["Case_Ignorable"])
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
