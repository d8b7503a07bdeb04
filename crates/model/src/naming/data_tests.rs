//! Plans the whole sample province (Cao Bằng in 2011 and in 2025, copied from the project's
//! shared sample data into `testdata/`) and checks the traps it holds: three communes named Hưng
//! Đạo, Bình Lãng/Bình Lăng, townships named like their district, namesakes.

use std::collections::BTreeSet;

use super::*;

const UNITS_2011: &str = include_str!("testdata/units-2011.csv");
const PEOPLE_2011: &str = include_str!("testdata/people-2011.csv");
const UNITS_2025: &str = include_str!("testdata/units-2025.csv");
const PEOPLE_2025: &str = include_str!("testdata/people-2025.csv");

/// Splits one CSV record (RFC 4180: fields may be double-quoted, `""` inside quotes is `"`).
/// The sample files hold quoted fields with commas ("Sở Văn hóa, Thể thao và Du lịch") but no
/// line breaks inside fields.
fn csv_record(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("at least one field");
        match (c, quoted) {
            ('"', false) if field.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            (',', false) => fields.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quote in {line:?}");
    fields
}

/// The records of a file after its header, which must be `header`.
fn csv(text: &str, header: &str, width: usize) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    assert_eq!(lines.next().map(|h| h.trim_end_matches('\r')), Some(header));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let record = csv_record(l.trim_end_matches('\r'));
            assert_eq!(record.len(), width, "{l:?}");
            record
        })
        .collect()
}

fn load(units: &str, people: &str) -> (Vec<UnitInput>, Vec<PersonInput>) {
    let units = csv(units, "kind,code,name,parent", 4)
        .iter()
        .map(|r| UnitInput::new(&r[0], &r[1], &r[2], Some(&r[3])))
        .collect();
    let people = csv(people, "full_name,unit,position", 3)
        .iter()
        .map(|r| PersonInput::new(&r[0], &r[1]))
        .collect();
    (units, people)
}

fn plan_year(config: &NamingConfig, units: &str, people: &str, taken: &Taken) -> Plan {
    let (units, people) = load(units, people);
    let plan = plan(config, &units, &people, taken).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(plan.units.len(), units.len());
    assert_eq!(plan.people.len(), people.len());
    assert_unique_and_valid(&plan, taken);
    plan
}

/// Every local part is unique, not taken before, and matches `^[a-z0-9]+(\.[a-z0-9]+)*$`.
fn assert_unique_and_valid(plan: &Plan, taken: &Taken) {
    let mut seen = BTreeSet::new();
    for local in plan.locals() {
        assert!(seen.insert(local), "{local} given twice");
        assert!(!taken.contains(local), "{local} was already taken");
        assert!(local.len() <= 64);
        let labels: Vec<&str> = local.split('.').collect();
        assert!(
            labels.iter().all(|l| !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
            "{local} is not [a-z0-9]+(.[a-z0-9]+)*"
        );
    }
}

fn unit_local<'p>(plan: &'p Plan, code: &str) -> &'p str {
    &plan
        .unit(code)
        .unwrap_or_else(|| panic!("no unit {code}"))
        .local
}

fn person_locals<'p>(plan: &'p Plan, name: &str) -> Vec<&'p str> {
    plan.people
        .iter()
        .filter(|p| p.full_name == name)
        .map(|p| p.local.as_str())
        .collect()
}

#[test]
fn the_sample_files_hold_quoted_commas() {
    assert_eq!(
        csv_record(r#"department,CB11-013,"Sở Văn hóa, Thể thao và Du lịch","#),
        [
            "department",
            "CB11-013",
            "Sở Văn hóa, Thể thao và Du lịch",
            ""
        ]
    );
    assert_eq!(csv_record(r#"a,"say ""hi""",b"#), ["a", r#"say "hi""#, "b"]);
    let quoted_with_comma = [UNITS_2011, PEOPLE_2011, UNITS_2025, PEOPLE_2025]
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| l.contains('"'))
        .count();
    assert_eq!(quoted_with_comma, 3);
}

#[test]
fn plans_cao_bang_2011() {
    let plan = plan_year(
        &NamingConfig::default(),
        UNITS_2011,
        PEOPLE_2011,
        &Taken::new(),
    );
    for (code, local) in [
        ("CB11-001", "vpubnd"),
        ("CB11-002", "sonoivu"),
        ("CB11-004", "sokhdt"),
        ("CB11-010", "sotnmt"),
        ("CB11-011", "sotttt"),
        ("CB11-012", "soldtbxh"),
        ("CB11-013", "sovhttdl"),
        ("CB11-016", "soyte"),
        ("CB11-018", "thanhtra"),
        ("CB11-019", "bandantoc"),
        ("CB11-020", "banqlkkt"),
        ("CB11-023", "banpchdndt"),
        ("CB11-026", "bandthdndt"),
        ("CB11-027", "bantctu"),
        ("CB11-031", "hoilhpntinh"),
        ("CB11-048", "caobang"),
        ("CB11-050", "baolac"),
        ("CB11-058", "hoaan"),
        ("CB11-059", "nguyenbinh"),
        ("CB11-062", "noivu.caobang"),
        ("CB11-070", "thanhtra.caobang"),
        ("CB11-087", "noivu.baolac"),
        ("CB11-089", "tckh.baolac"),
        ("CB11-095", "thanhtra.baolac"),
        // Three communes named Hưng Đạo: every one carries its district.
        ("CB11-238", "hungdao.caobang"),
        ("CB11-265", "hungdao.baolac"),
        ("CB11-411", "hungdao.nguyenbinh"),
        // Bình Lãng and Bình Lăng differ only in tone marks.
        ("CB11-281", "binhlang.thongnong"),
        ("CB11-348", "binhlang.quanguyen"),
        ("CB11-237", "vinhquang.caobang"),
        ("CB11-245", "vinhquang.baolam"),
        // Townships named like their district.
        ("CB11-254", "ttbaolac"),
        ("CB11-271", "ttthongnong"),
        ("CB11-311", "tttrungkhanh"),
        ("CB11-345", "ttquanguyen"),
        ("CB11-392", "ttnguyenbinh"),
        ("CB11-240", "pacmiau"),
        ("CB11-229", "songhien"),
    ] {
        assert_eq!(unit_local(&plan, code), local, "{code}");
    }
    for code in ["CB11-001", "CB11-018", "CB11-031", "CB11-046"] {
        assert!(plan.unit(code).unwrap().review, "{code} is reviewed");
    }
    assert!(!plan.unit("CB11-016").unwrap().review);
    assert!(
        plan.unit("CB11-281")
            .unwrap()
            .warnings
            .contains(&Warning::FoldsEqual {
                name: "Bình Lãng".into(),
                other: "Bình Lăng".into(),
            })
    );
    assert_eq!(plan.aliases, known_misprints());

    // Namesakes in number style, in input order; Ninh Văn Đạt is a duplicate too.
    assert_eq!(
        person_locals(&plan, "Nông Văn Đạt"),
        ["datnv", "datnv2", "datnv3", "datnv4"]
    );
    assert_eq!(person_locals(&plan, "Ninh Văn Đạt"), ["datnv5"]);
    assert_eq!(person_locals(&plan, "Nguyễn Văn Hùng"), ["hungnv"]);
    assert_eq!(person_locals(&plan, "Nguyễn Văn Hưng"), ["hungnv2"]);
    assert_eq!(person_locals(&plan, "Ngô Văn Hùng"), ["hungnv3"]);
    assert_eq!(person_locals(&plan, "Lý Thị Mỹ"), ["mylt"]);
    assert_eq!(person_locals(&plan, "Lý Thị Mĩ"), ["milt"]);
    assert_eq!(person_locals(&plan, "Tôn Nữ Thị Hồng Nhung"), ["nhungtnth"]);
    let hung = plan
        .people
        .iter()
        .find(|p| p.full_name == "Nguyễn Văn Hưng")
        .unwrap();
    assert!(hung.warnings.contains(&Warning::FoldsEqual {
        name: "Nguyễn Văn Hưng".into(),
        other: "Nguyễn Văn Hùng".into(),
    }));
}

#[test]
fn plans_cao_bang_2011_in_unit_style() {
    let config = NamingConfig {
        person_duplicates: DuplicateStyle::Unit,
        ..NamingConfig::default()
    };
    let plan = plan_year(&config, UNITS_2011, PEOPLE_2011, &Taken::new());
    assert_eq!(
        person_locals(&plan, "Nông Văn Đạt"),
        [
            "datnv",
            "datnv.soyte",
            "datnv.noivu.baolac",
            "datnv.hungdao.nguyenbinh"
        ]
    );
    assert_eq!(person_locals(&plan, "Ninh Văn Đạt"), ["datnv.sotaichinh"]);
}

#[test]
fn plans_cao_bang_2025() {
    let plan = plan_year(
        &NamingConfig::default(),
        UNITS_2025,
        PEOPLE_2025,
        &Taken::new(),
    );
    for (code, local) in [
        ("CB25-011", "songoaivu"),
        ("CB25-013", "sonnmt"),
        ("CB25-014", "sodttg"),
        ("CB25-038", "thucphan"),
        ("CB25-039", "nungtricao"),
        // One Hưng Đạo left: no suffix.
        ("CB25-047", "hungdao"),
        // Communes named like a retired district take the prefix xa.
        ("CB25-044", "xabaolam"),
        ("CB25-048", "xabaolac"),
        ("CB25-059", "xanguyenbinh"),
        ("CB25-063", "xathongnong"),
        ("CB25-069", "xahoaan"),
        ("CB25-075", "xathachan"),
        ("CB25-078", "xaphuchoa"),
        ("CB25-087", "xatrungkhanh"),
        ("CB25-057", "tinhtuc"),
        ("CB25-079", "bevandan"),
    ] {
        assert_eq!(unit_local(&plan, code), local, "{code}");
    }
    assert_eq!(
        person_locals(&plan, "Nông Văn Đạt"),
        ["datnv", "datnv2", "datnv3"]
    );
    assert_eq!(person_locals(&plan, "H'Mai Niê"), ["nieh"]);
    assert_eq!(person_locals(&plan, "Hoàng Anh"), ["anhh"]);
}

/// 2025 imported into a directory that already holds 2011: nothing given in 2011 is handed out
/// again (R12), and the later arrivals are disambiguated.
#[test]
fn plans_2025_over_2011() {
    let config = NamingConfig::default();
    let first = plan_year(&config, UNITS_2011, PEOPLE_2011, &Taken::new());
    let mut taken = Taken::new();
    for unit in &first.units {
        taken.add_unit(ExistingUnit {
            code: unit.code.clone(),
            kind: unit.kind.clone(),
            name: unit.name.clone(),
            local: unit.local.clone(),
        });
    }
    for person in &first.people {
        taken.add_person(&person.local, &person.full_name);
    }
    for alias in &first.aliases {
        taken.add_alias(&alias.alias, Some(&alias.target));
    }
    let second = plan_year(&config, UNITS_2025, PEOPLE_2025, &taken);
    assert_eq!(unit_local(&second, "CB25-002"), "sonoivu2");
    assert_eq!(unit_local(&second, "CB25-041"), "quanglam2");
    assert_eq!(
        person_locals(&second, "Nông Văn Đạt"),
        ["datnv6", "datnv7", "datnv8"]
    );
    assert!(second.unit("CB25-041").unwrap().review);
}
