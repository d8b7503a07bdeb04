#!/usr/bin/env python3
"""Generates a people file for `hopthu directory import` (the import benchmark).

    python3 tools/gen-people.py --units crates/server/tests/it/data/units-2011.csv \
        --count 20000 > /tmp/people-20000.csv
    hopthu directory import --units crates/server/tests/it/data/units-2011.csv \
        --people /tmp/people-20000.csv --config hopthu.toml

Names are drawn (with a fixed seed, so runs compare) from common Kinh, Tày, Nùng, H'Mông and
Dao family, middle and given names, so namesakes are frequent, as they are in a real province.
Columns: full_name,unit,position,staff_id,phone,public.
"""
import argparse
import csv
import random
import sys

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Nông", "Bế", "Lục", "Đàm", "Hà", "Lý",
          "Triệu", "Vi", "Lăng", "Mã", "Ngô", "Đinh", "Đặng", "Bàn", "Chu", "Dương", "La", "Lô",
          "Sầm", "Hứa", "Ninh", "Vàng", "Giàng", "Thào", "Tẩn", "Chảo", "Phùng", "Vũ", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Đức", "Hồng", "Kim", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Xuân",
          "Mạnh", "Tiến", "Hữu", "Bích", "Seo", "A", "Láo", "Quẩy", "Mùi", "Công", "Anh"]
GIVEN = ["Đạt", "Hoa", "Minh", "Hùng", "Hưng", "Hòa", "Lan", "Mai", "Tuấn", "Thủy", "Hằng",
         "Dũng", "Linh", "Phượng", "Cường", "Huy", "Nhung", "Hương", "Sần", "Phử", "Mến", "Tươi",
         "Khánh", "Quân", "Thắng", "Hiển", "Xuân", "Vân", "Duyên", "Thoa", "Lực", "Hải", "Thuận",
         "Ngần", "Chỉnh", "Pó", "Chòi", "Lìn", "Mây", "Sài", "Kiềm", "Oanh", "Nguyệt", "Diếp"]
POSITIONS = ["", "", "", "Chuyên viên", "Chuyên viên chính", "Phó Trưởng phòng",
             "Trưởng phòng", "Văn thư", "Kế toán", "Cán bộ chuyên trách CNTT"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", required=True, help="units file (kind,code,name,parent)")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=75)
    args = parser.parse_args()
    with open(args.units, encoding="utf-8-sig", newline="") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    rng = random.Random(args.seed)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["full_name", "unit", "position", "staff_id", "phone", "public"])
    for i in range(args.count):
        words = [rng.choice(FAMILY), rng.choice(MIDDLE)]
        if rng.random() < 0.3:
            words.append(rng.choice(MIDDLE))
        words.append(rng.choice(GIVEN))
        out.writerow([
            " ".join(words),
            rng.choice(codes),
            rng.choice(POSITIONS),
            f"CB{i + 1:06d}",
            f"09{rng.randrange(10**8):08d}",
            "x" if rng.random() < 0.05 else "",
        ])


if __name__ == "__main__":
    main()
