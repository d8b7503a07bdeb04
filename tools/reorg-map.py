#!/usr/bin/env python3
"""Writes the map of a reorganisation (`old_code,new_code`) from two units files, for
`hopthu directory reorganise --units NEW --map MAP`.

    tools/reorg-map.py OLD_UNITS NEW_UNITS > MAP

The rules, for the province's 2011 → 2025 reform (no district level, merged departments):
1. a unit whose name (with its kind word) is in the new file goes to that unit;
2. the departments, boards and organisations the reform merged go where SPECIAL says;
3. a district goes to the commune or ward of the same name part (the town to its centre,
   CENTRE), and its offices follow it;
4. a commune, ward or township goes to the new one of the same name part, else to where its
   district went.
Every old unit gets one row, in the old file's order; a unit the rules cannot place stops the
script with its code.
"""
import csv
import sys
import unicodedata

# Merged by the 2025 reform (old code → new code), for the sample province's codes.
SPECIAL = {
    "CB11-004": "CB25-004",  # Sở Kế hoạch và Đầu tư → Sở Tài chính
    "CB11-007": "CB25-013",  # Sở Nông nghiệp và PTNT → Sở Nông nghiệp và Môi trường
    "CB11-008": "CB25-006",  # Sở Giao thông vận tải → Sở Xây dựng
    "CB11-010": "CB25-013",  # Sở Tài nguyên và Môi trường → Sở Nông nghiệp và Môi trường
    "CB11-011": "CB25-008",  # Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ
    "CB11-012": "CB25-002",  # Sở Lao động - TB&XH → Sở Nội vụ
    "CB11-019": "CB25-014",  # Ban Dân tộc → Sở Dân tộc và Tôn giáo
    "CB11-020": "CB25-005",  # Ban Quản lý Khu kinh tế → Sở Công Thương
    "CB11-021": "CB25-002",  # Ban Thi đua - Khen thưởng → Sở Nội vụ
    "CB11-022": "CB25-014",  # Ban Tôn giáo → Sở Dân tộc và Tôn giáo
    "CB11-028": "CB25-020",  # Ban Tuyên giáo → Ban Tuyên giáo và Dân vận
    "CB11-029": "CB25-020",  # Ban Dân vận → Ban Tuyên giáo và Dân vận
    "CB11-043": "CB25-022",  # Liên minh Hợp tác xã → Ủy ban MTTQ
    "CB11-046": "CB25-037",  # Báo Cao Bằng → Báo và PT-TH Cao Bằng
    "CB11-047": "CB25-037",  # Đài PT-TH → Báo và PT-TH Cao Bằng
}
# The provincial town had no commune of its name: its centre ward.
CENTRE = {"CB11-048": "CB25-038"}
KIND_WORDS = ["huyện", "thị xã", "thành phố", "quận", "xã", "phường", "thị trấn"]
LOCAL = {"commune", "ward", "township"}


def fold(s):
    s = unicodedata.normalize("NFD", s.lower().replace("đ", "d"))
    return " ".join("".join(c for c in s if not unicodedata.combining(c)).split())


def name_part(name):
    n = " ".join(name.lower().split())
    for w in sorted(KIND_WORDS, key=len, reverse=True):
        if n.startswith(w + " "):
            return fold(n[len(w) + 1:])
    return fold(n)


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def main(old_path, new_path):
    old, new = read(old_path), read(new_path)
    by_name = {fold(u["name"]): u["code"] for u in new}
    local_by_part = {}
    for u in new:
        if u["kind"] in LOCAL:
            local_by_part.setdefault(name_part(u["name"]), u["code"])
    dest = {}
    for u in old:
        code, kind = u["code"], u["kind"]
        if code in SPECIAL:
            dest[code] = SPECIAL[code]
        elif fold(u["name"]) in by_name:
            dest[code] = by_name[fold(u["name"])]
        elif kind == "district":
            dest[code] = CENTRE.get(code) or local_by_part.get(name_part(u["name"]))
    for u in old:  # offices and communes follow their district
        code = u["code"]
        if dest.get(code):
            continue
        if u["kind"] in LOCAL and name_part(u["name"]) in local_by_part:
            dest[code] = local_by_part[name_part(u["name"])]
        else:
            dest[code] = dest.get(u["parent"])
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["old_code", "new_code"])
    for u in old:
        if not dest.get(u["code"]):
            sys.exit(f"{u['code']} {u['name']}: no place in {new_path}")
        out.writerow([u["code"], dest[u["code"]]])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
