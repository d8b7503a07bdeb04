//! The directory through the real binary: `hopthu directory import` of the sample province
//! (CSV and .xlsx, BOM and CRLF, the bad files units really send), re-import, sign-in with the
//! printed one-time password, alias delivery, and the published directory over HTTP.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::harness::{DOMAIN, TestServer};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/data")
        .join(name)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `hopthu directory import …` with the server's configuration.
fn import(server: &TestServer, args: &[&str]) -> Output {
    let mut all = vec!["directory", "import"];
    all.extend_from_slice(args);
    server.cli(&all, "")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The start of a long output, for assertion messages.
fn short(s: &str) -> &str {
    match s.char_indices().nth(2000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A test file's text with LF line ends (the shared sample files have CRLF).
fn read_lf(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().replace("\r\n", "\n")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "import failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        short(&stdout(out)),
        short(&stderr(out))
    );
}

/// The dry-run JSON array of an import.
fn dry_run(server: &TestServer, units: &Path, people: Option<&Path>, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["--units", path_str(units)];
    if let Some(people) = people {
        args.extend(["--people", path_str(people)]);
    }
    args.extend(["--dry-run", "--format", "json"]);
    args.extend_from_slice(extra);
    let out = import(server, &args);
    assert_ok(&out);
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    value.as_array().expect("one JSON array").clone()
}

/// The address given to the row of `file` at `line`.
fn address_at(rows: &[Value], file: &str, line: u64) -> String {
    rows.iter()
        .find(|r| r["file"] == file && r["line"] == line)
        .unwrap_or_else(|| panic!("no {file} line {line}"))["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// (accounts, units, people, aliases) in the server's database.
fn counts(server: &TestServer) -> (u64, u64, u64, u64) {
    let out = server.sql(
        "SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM units),
                (SELECT COUNT(*) FROM people), (SELECT COUNT(*) FROM aliases)",
    );
    let n: Vec<u64> = out.trim().split('|').map(|s| s.parse().unwrap()).collect();
    (n[0], n[1], n[2], n[3])
}

/// The credentials sheet path printed by an import.
pub(super) fn sheet_path(out: &Output) -> PathBuf {
    let text = stdout(out);
    let line = text
        .lines()
        .find_map(|l| l.split("one-time passwords: ").nth(1))
        .unwrap_or_else(|| panic!("no credentials path printed: {text}"));
    PathBuf::from(line.trim())
}

/// The one-time password of `address` in a credentials sheet.
pub(super) fn password_of(sheet: &Path, address: &str) -> String {
    let text = std::fs::read_to_string(sheet).unwrap();
    let text = text.strip_prefix('\u{FEFF}').expect("a BOM for Excel");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (a, p) = (col("address"), col("password"));
    reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[a] == address)
        .unwrap_or_else(|| panic!("{address} not in {}", sheet.display()))[p]
        .to_owned()
}

fn write(server: &TestServer, name: &str, bytes: &[u8]) -> PathBuf {
    let path = server.dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_2011_province_from_csv_and_xlsx_gets_the_same_addresses() {
    let server = TestServer::start();
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
    let rows = dry_run(&server, &units, Some(&people), &[]);

    // The JSON shape: one object per input row, file/line/name/address.
    let unit_lines = std::fs::read_to_string(&units).unwrap().lines().count() - 1;
    let people_lines = std::fs::read_to_string(&people).unwrap().lines().count() - 1;
    assert_eq!(rows.len(), unit_lines + people_lines);
    for (i, row) in rows.iter().enumerate() {
        let file = row["file"].as_str().unwrap();
        assert!(file == "units" || file == "people", "{row}");
        let line = row["line"].as_u64().unwrap();
        let expected_line = if i < unit_lines {
            i + 2
        } else {
            i - unit_lines + 2
        };
        assert_eq!(line, expected_line as u64, "{row}");
        assert!(!row["name"].as_str().unwrap().is_empty(), "{row}");
        assert!(
            row["address"]
                .as_str()
                .unwrap()
                .ends_with(&format!("@{DOMAIN}")),
            "{row}"
        );
    }
    // The regulation's examples and the sample's traps.
    for (file, line, want) in [
        ("units", 12, "sotttt"),
        ("units", 17, "soyte"),
        ("units", 20, "bandantoc"),
        ("units", 32, "hoilhpntinh"),
        ("units", 51, "baolac"),
        ("people", 2, "datnv"),
        ("people", 3, "datnv2"),
    ] {
        assert_eq!(
            address_at(&rows, file, line),
            format!("{want}@{DOMAIN}"),
            "{file} line {line}"
        );
    }
    let addresses: Vec<&str> = rows
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    // Three communes named Hưng Đạo (in Cao Bằng town, Bảo Lạc, Nguyên Bình) all carry their
    // district; a township named like its district is prefixed.
    for want in [
        "ttbaolac",
        "hungdao.caobang",
        "hungdao.baolac",
        "hungdao.nguyenbinh",
    ] {
        assert!(
            addresses.contains(&format!("{want}@{DOMAIN}").as_str()),
            "{want} missing"
        );
    }
    let sotttt = rows
        .iter()
        .find(|r| r["address"] == format!("sotttt@{DOMAIN}"));
    assert_eq!(
        sotttt.unwrap()["aliases"][0],
        format!("soittt@{DOMAIN}"),
        "the misprint is kept as an alias"
    );

    // The same files as Excel workbooks.
    let (units_xlsx, people_xlsx) = (
        server.dir.join("units.xlsx"),
        server.dir.join("people.xlsx"),
    );
    for (csv, xlsx) in [(&units, &units_xlsx), (&people, &people_xlsx)] {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/csv_to_xlsx.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(csv)
            .arg(xlsx)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let from_xlsx = dry_run(&server, &units_xlsx, Some(&people_xlsx), &[]);
    assert_eq!(from_xlsx, rows, "xlsx and CSV give the same addresses");
}

#[test]
fn bom_and_crlf_give_the_same_result_as_plain_files() {
    let server = TestServer::start();
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
    let (units_lf, people_lf) = (
        write(&server, "units-lf.csv", read_lf(&units).as_bytes()),
        write(&server, "people-lf.csv", read_lf(&people).as_bytes()),
    );
    let plain = dry_run(&server, &units_lf, Some(&people_lf), &[]);
    let windows = |path: &Path, name: &str| {
        let bytes = format!("\u{FEFF}{}", read_lf(path).replace('\n', "\r\n"));
        write(&server, name, bytes.as_bytes())
    };
    let (units_w, people_w) = (
        windows(&units, "units-bom-crlf.csv"),
        windows(&people, "people-bom-crlf.csv"),
    );
    assert_eq!(dry_run(&server, &units_w, Some(&people_w), &[]), plain);
    assert_eq!(dry_run(&server, &units, Some(&people), &[]), plain);
}

#[test]
fn bad_files_are_refused_with_their_line_and_nothing_changes() {
    let server = TestServer::start();
    let units = data("units-2011.csv");
    assert_ok(&import(&server, &["--units", path_str(&units)]));
    let before = counts(&server);
    assert!(before.1 > 400, "{before:?}");

    let units_text = read_lf(&units);
    let bad_unit_parent = units_text.replacen(",CB11-050\n", ",CB11-999\n", 1);
    let bad_unit_line = units_text
        .lines()
        .position(|l| l.ends_with(",CB11-050"))
        .unwrap()
        + 1;
    let cases: Vec<(&str, Vec<u8>, &str, usize, &str)> = vec![
        (
            "people",
            b"full_name,unit,position\nNong Van Dat,CB11-002,\nHa Thi Hoa,CB11-999,\n".to_vec(),
            "people-unknown-unit.csv",
            3,
            "CB11-999",
        ),
        (
            "people",
            "full_name,unit\nNông Văn Đạt,CB11-002\n  ,CB11-016\n"
                .as_bytes()
                .to_vec(),
            "people-empty-name.csv",
            3,
            "empty",
        ),
        (
            "people",
            "full_name,unit_code\nNông Văn Đạt,CB11-002\n"
                .as_bytes()
                .to_vec(),
            "people-columns.csv",
            1,
            "wrong columns",
        ),
        (
            "people",
            b"full_name,unit\nHa Thi Hoa,CB11-002\nN\xF4ng V\xE3n \xD0a\xF2t,CB11-016\n".to_vec(),
            "people-windows-1258.csv",
            3,
            "not UTF-8",
        ),
        (
            "people",
            "full_name,unit\nN«ng V¨n §¹t,CB11-002\n"
                .as_bytes()
                .to_vec(),
            "people-tcvn3.csv",
            2,
            "legacy encoding",
        ),
        (
            "units",
            bad_unit_parent.into_bytes(),
            "units-unknown-parent.csv",
            bad_unit_line,
            "CB11-999",
        ),
        (
            "units",
            "kind,code,name,parent\ndepartment,CB11-900,,\n"
                .as_bytes()
                .to_vec(),
            "units-empty-name.csv",
            2,
            "empty",
        ),
    ];
    for (kind, bytes, name, line, reason) in cases {
        let path = write(&server, name, &bytes);
        let args = if kind == "people" {
            vec!["--units", path_str(&units), "--people", path_str(&path)]
        } else {
            vec!["--units", path_str(&path)]
        };
        for dry in [true, false] {
            let mut args = args.clone();
            if dry {
                args.extend(["--dry-run", "--format", "json"]);
            }
            let out = import(&server, &args);
            let err = stderr(&out);
            assert!(
                !out.status.success(),
                "{name} accepted: {}",
                short(&stdout(&out))
            );
            assert!(
                err.contains(&format!("{}:{line}:", path.display())),
                "{name}: no file:line {line} in {err}"
            );
            assert!(err.contains(reason), "{name}: no {reason:?} in {err}");
            assert!(out.stdout.is_empty(), "{name}: {}", short(&stdout(&out)));
        }
        assert_eq!(counts(&server), before, "{name} changed the database");
    }
    let sheets = std::fs::read_dir(server.data_dir().join("credentials"))
        .unwrap()
        .count();
    assert_eq!(sheets, 1, "only the first import wrote a sheet");
}

/// A spreadsheet bomb (cells at A1 and XFD1048576: a dense grid of 17 billion cells) and CSV
/// files too wide or too long are refused with their file:line, the process exits with an
/// error (it used to abort on the allocation) and nothing changes.
#[test]
fn oversized_sheets_are_refused_with_their_line() {
    let server = TestServer::start();
    let units = data("units-2011.csv");
    let bomb = server.dir.join("people-bomb.xlsx");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/py/xlsx_bomb.py");
    let made = Command::new("python3")
        .arg(&script)
        .arg(&bomb)
        .arg("CB11-002")
        .status()
        .unwrap();
    assert!(made.success());
    let wide = write(
        &server,
        "people-wide.csv",
        format!(
            "full_name,unit\nNông Văn Đạt,CB11-002{},x\n",
            ",".repeat(30)
        )
        .as_bytes(),
    );
    let mut long = String::from("full_name,unit\n");
    for i in 0..200_001 {
        long.push_str(&format!("Người {i},CB11-002\n"));
    }
    let long = write(&server, "people-long.csv", long.as_bytes());
    let before = counts(&server);
    for (path, line) in [(&bomb, 1_048_576), (&wide, 2), (&long, 200_001)] {
        for dry in [true, false] {
            let mut args = vec!["--units", path_str(&units), "--people", path_str(path)];
            if dry {
                args.push("--dry-run");
            }
            let out = import(&server, &args);
            let err = stderr(&out);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{}: {}",
                path.display(),
                short(&err)
            );
            assert!(
                err.contains(&format!("{}:{line}:", path.display())),
                "no file:line {line} in {}",
                short(&err)
            );
            assert!(err.contains("too large"), "{}", short(&err));
        }
    }
    assert_eq!(counts(&server), before, "nothing changed");
}

#[test]
fn unit_style_tells_namesakes_apart_by_their_unit() {
    let server = TestServer::start();
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
    let rows = dry_run(
        &server,
        &units,
        Some(&people),
        &["--person-duplicates", "unit"],
    );
    // people-2011.csv: Nông Văn Đạt of Sở Nội vụ (line 2), then of Sở Y tế (line 3).
    assert_eq!(address_at(&rows, "people", 2), format!("datnv@{DOMAIN}"));
    assert_eq!(
        address_at(&rows, "people", 3),
        format!("datnv.soyte@{DOMAIN}")
    );
    // The same from the configuration.
    let configured = TestServer::start_with("[naming]\nperson_duplicates = \"unit\"\n");
    let rows = dry_run(&configured, &units, Some(&people), &[]);
    assert_eq!(
        address_at(&rows, "people", 3),
        format!("datnv.soyte@{DOMAIN}")
    );
}

#[test]
fn importing_again_creates_nothing_twice() {
    let server = TestServer::start();
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
    let args = ["--units", path_str(&units), "--people", path_str(&people)];
    let first = import(&server, &args);
    assert_ok(&first);
    let after_first = counts(&server);
    let unit_rows = std::fs::read_to_string(&units).unwrap().lines().count() as u64 - 1;
    let people_rows = std::fs::read_to_string(&people).unwrap().lines().count() as u64 - 1;
    assert_eq!(after_first.1, unit_rows);
    assert_eq!(after_first.2, people_rows);
    assert_eq!(after_first.0, unit_rows + people_rows, "one mailbox each");
    assert_eq!(after_first.3, 1, "the soittt alias");

    // The units file alone, then both files again: nothing new.
    assert_ok(&import(&server, &args[..2]));
    let again = import(&server, &args);
    assert_ok(&again);
    assert!(stdout(&again).contains("nothing new"), "{}", stdout(&again));
    assert_eq!(counts(&server), after_first);
    let rows = dry_run(&server, &units, Some(&people), &[]);
    assert!(rows.iter().all(|r| r["status"] == "existing"), "{rows:?}");

    // A new person beside the existing ones gets the next free address.
    let more = format!(
        "{}Nông Văn Đạt,CB11-002,Chuyên viên\n",
        std::fs::read_to_string(&people).unwrap()
    );
    let more = write(&server, "people-more.csv", more.as_bytes());
    let rows = dry_run(&server, &units, Some(&more), &[]);
    let new: Vec<&Value> = rows.iter().filter(|r| r["status"] == "new").collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["address"], format!("datnv6@{DOMAIN}"));
}

#[test]
fn an_imported_person_signs_in_with_the_printed_one_time_password() {
    let server = TestServer::start();
    let (units, people) = (data("units-2011.csv"), data("people-2011.csv"));
    let out = import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&people)],
    );
    assert_ok(&out);
    let sheet = sheet_path(&out);
    let sheet = if sheet.is_absolute() {
        sheet
    } else {
        server.dir.join(sheet)
    };
    assert!(sheet.exists(), "{}", sheet.display());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sheet).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the sheet is readable by others");
    // One sheet per unit beside the whole one.
    assert!(sheet.with_file_name("CB11-016.csv").exists());

    for address in [format!("datnv2@{DOMAIN}"), format!("soyte@{DOMAIN}")] {
        let password = password_of(&sheet, &address);
        // The sheet's password is right, and must be changed before mail clients use it.
        let result = server.python("login_check.py", &[&address, &password, "--one-time"]);
        assert!(result.starts_with("MUST-CHANGE"), "{result}");
    }
}

#[test]
fn mail_to_an_alias_reaches_its_target() {
    let server = TestServer::start();
    let units = data("units-2011.csv");
    let out = import(&server, &["--units", path_str(&units)]);
    assert_ok(&out);
    assert!(server.dir.join(sheet_path(&out)).exists());
    let target = format!("sotttt@{DOMAIN}");
    // The one-time password is replaced first: mail clients are refused until then.
    let password = "mat-khau-moi-2026";
    let out = server.cli(
        &["account", "password", &target, "--no-force-change"],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let subjects = server.python(
        "directory_alias.py",
        &[&format!("soittt@{DOMAIN}"), &target, password],
    );
    assert!(
        subjects.contains("Gửi Sở Thông tin và Truyền thông qua địa chỉ cũ"),
        "{subjects}"
    );
    // An alias added by the operator works the same way, and the namespace stays one.
    let out = server.cli(&["directory", "alias", "sotnmt.cu", "sotnmt"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = server.cli(&["directory", "alias", "soyte", "sotnmt"], "");
    assert!(!out.status.success(), "an address cannot become an alias");
}

fn curl(server: &TestServer, path: &str) -> (String, String) {
    let url = format!("http://127.0.0.1:{}{path}", server.port("http"));
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-D", "-", &url])
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {url}: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn the_public_directory_finds_without_diacritics() {
    let server = TestServer::start();
    let people = write(
        &server,
        "people-public.csv",
        "full_name,unit,position,public\n\
         Nông Văn Đạt,CB11-016,Giám đốc,x\n\
         Hà Thị Hòa,CB11-031,Chuyên viên,\n\
         Lý A Sần,CB11-058,Chánh Văn phòng,có\n"
            .as_bytes(),
    );
    let units = data("units-2011.csv");
    assert_ok(&import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&people)],
    ));

    let (head, body) = curl(&server, "/directory.json?q=hoa%20an");
    assert!(head.contains("content-type: application/json"), "{head}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let units_found: Vec<&str> = json["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert!(units_found.contains(&"Huyện Hòa An"), "{units_found:?}");
    assert!(
        !units_found.iter().any(|n| n.contains("Văn hóa")),
        "{units_found:?}"
    );

    let (_, body) = curl(&server, "/directory.json?q=dat");
    let json: Value = serde_json::from_str(&body).unwrap();
    let people_found = json["people"].as_array().unwrap();
    assert_eq!(people_found.len(), 1, "{body}");
    assert_eq!(people_found[0]["name"], "Nông Văn Đạt");
    assert_eq!(people_found[0]["address"], format!("datnv@{DOMAIN}"));
    assert_eq!(people_found[0]["unit"], "Sở Y tế");

    // Hà Thị Hòa is not public.
    let (_, body) = curl(&server, "/directory.json?q=hoa");
    assert!(!body.contains("Hà Thị Hòa"), "{body}");
    assert!(body.contains("Huyện Hòa An"), "{body}");

    let (head, body) = curl(&server, "/directory.csv?q=dat");
    assert!(
        head.contains("content-type: text/csv; charset=utf-8"),
        "{head}"
    );
    assert!(
        body.starts_with("\u{FEFF}type,code,name,address,position,unit\r\n"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "person,CB11-016,Nông Văn Đạt,datnv@{DOMAIN},Giám đốc,Sở Y tế\r\n"
        )),
        "{body}"
    );

    let (head, body) = curl(&server, "/directory.vcf?q=s%E1%BA%A7n");
    assert!(
        head.contains("content-type: text/vcard; charset=utf-8"),
        "{head}"
    );
    assert!(body.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"), "{body}");
    assert!(body.contains("FN:Lý A Sần\r\n"), "{body}");
    assert!(
        body.contains(&format!("EMAIL;TYPE=INTERNET,WORK:sanla@{DOMAIN}")),
        "{body}"
    );
    assert!(body.contains("ORG:Huyện Hòa An\r\n"), "{body}");

    let (head, body) = curl(&server, "/directory?q=hoa+an");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(body.contains("<html lang=\"vi\">"), "{body}");
    assert!(body.contains("Huyện Hòa An"), "{body}");
    assert!(!body.contains("Hà Thị Hòa"), "{body}");
    let (_, everything) = curl(&server, "/directory");
    assert!(everything.contains(&format!("mailto:soyte@{DOMAIN}")));
}

#[test]
fn operator_overrides_are_used_kept_and_never_take_a_given_address() {
    let server = TestServer::start();
    let units = data("units-2011.csv");
    let people = write(
        &server,
        "people-override.csv",
        "full_name,unit,email\n\
         Nông Văn Đạt,CB11-002,dat.noivu@caobang.gov.vn\n\
         Hà Thị Hòa,CB11-016,\n"
            .as_bytes(),
    );
    let rows = dry_run(&server, &units, Some(&people), &[]);
    assert_eq!(
        address_at(&rows, "people", 2),
        format!("dat.noivu@{DOMAIN}")
    );
    assert_eq!(address_at(&rows, "people", 3), format!("hoaht@{DOMAIN}"));
    assert_ok(&import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&people)],
    ));
    // Importing the same file again: the override is the person's address, nothing is new.
    let rows = dry_run(&server, &units, Some(&people), &[]);
    assert!(rows.iter().all(|r| r["status"] == "existing"), "{rows:?}");

    // An override may not take an address already given, nor a reserved name.
    let taken = write(
        &server,
        "people-taken.csv",
        "full_name,unit,local\nLý A Sần,CB11-002,soyte\nLý A Sần,CB11-003,postmaster\n".as_bytes(),
    );
    let out = import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&taken)],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    for line in [2, 3] {
        assert!(
            err.contains(&format!("{}:{line}:", taken.display())),
            "line {line}: {err}"
        );
    }
    assert!(err.contains("already held"), "{err}");
}

/// R4: a look-alike letter of a mis-converted legacy file (`Ð` U+00D0 for `Đ`) is a warning on
/// its row, named with its code point, in the dry run (text and JSON); the import goes through
/// and the letter folds to `d` (R2).
#[test]
fn a_lookalike_letter_is_a_warning_and_folds_to_d() {
    let server = TestServer::start();
    let units = write(
        &server,
        "units-eth.csv",
        "kind,code,name,parent\n\
         department,D1,Sở Nội vụ,\n\
         department,D2,Sở \u{00D0}ối ngoại,\n"
            .as_bytes(),
    );
    let people = write(
        &server,
        "people-eth.csv",
        "full_name,unit\nHà Thị Hòa,D1\nNông Văn \u{00D0}ạt,D1\n".as_bytes(),
    );
    let rows = dry_run(&server, &units, Some(&people), &[]);
    let row = |file: &str, line: u64| {
        rows.iter()
            .find(|r| r["file"] == file && r["line"] == line)
            .unwrap_or_else(|| panic!("no {file} line {line}: {rows:?}"))
            .clone()
    };
    let dat = row("people", 3);
    assert_eq!(dat["address"], format!("datnv@{DOMAIN}"), "{dat}");
    assert_eq!(dat["review"], true, "{dat}");
    let warnings = dat["warnings"].to_string();
    assert!(warnings.contains("U+00D0 \u{00D0}"), "{warnings}");
    let unit = row("units", 3);
    assert_eq!(unit["address"], format!("sodoingoai@{DOMAIN}"), "{unit}");
    assert!(
        unit["warnings"].to_string().contains("U+00D0 \u{00D0}"),
        "{unit}"
    );
    // Clean rows carry no warning.
    assert!(row("people", 2).get("warnings").is_none(), "{rows:?}");
    assert!(row("units", 2).get("warnings").is_none(), "{rows:?}");

    // The text dry run shows the warning under its row.
    let out = import(
        &server,
        &[
            "--units",
            path_str(&units),
            "--people",
            path_str(&people),
            "--dry-run",
        ],
    );
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("datnv@{DOMAIN}")))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(lines[at].trim_start().starts_with('3'), "{text}");
    assert!(lines[at + 1].contains("U+00D0 \u{00D0}"), "{text}");
    assert_eq!(counts(&server).2, 0, "a dry run changes nothing");

    // The real import applies, with the folded address and the name as written.
    assert_ok(&import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&people)],
    ));
    let stored = server.sql(&format!(
        "SELECT full_name FROM people WHERE address = 'datnv@{DOMAIN}'"
    ));
    assert_eq!(stored.trim(), "Nông Văn \u{00D0}ạt");
    let stored = server.sql(&format!(
        "SELECT code FROM units WHERE address = 'sodoingoai@{DOMAIN}'"
    ));
    assert_eq!(stored.trim(), "D2");
}

/// The JSON directory at `path`: (unit codes, people names), in order.
fn published(server: &TestServer, path: &str) -> (Vec<String>, Vec<String>) {
    let (head, body) = curl(server, path);
    assert!(head.starts_with("http/1.1 200"), "{path}: {head}{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    let strings = |key: &str, field: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[field].as_str().unwrap().to_owned())
            .collect()
    };
    (strings("units", "code"), strings("people", "name"))
}

/// Đ6: `?unit=CODE` publishes one unit's subtree (JSON, CSV, vCard); an unknown code is a 404;
/// heads are published unless configured not to; a revoked person leaves and a moved one moves
/// at once.
#[test]
fn the_published_directory_of_one_unit() {
    // Sở Khoa học và Công nghệ is the focal unit of 2011, which approves the changes below.
    let config = "[lifecycle]\nfocal_unit = \"CB11-014\"\n";
    let server = TestServer::start_with(config);
    let units = data("units-2011.csv");
    let people = write(
        &server,
        "people-feeds.csv",
        // Huyện Hòa An (CB11-058): its head (not marked public), then Phòng Nội vụ (CB11-191)
        // and Xã Dân Chủ (CB11-372) below it; Sở Y tế (CB11-016) elsewhere.
        "full_name,unit,position,public,head\n\
         Nông Văn Đạt,CB11-058,Chủ tịch,,x\n\
         Hà Thị Hòa,CB11-191,Chuyên viên,x,\n\
         Lý A Sần,CB11-372,Chủ tịch,x,\n\
         Hoàng Văn Minh,CB11-016,Giám đốc,x,\n\
         Lục Thị Hoa,CB11-191,Chuyên viên,,\n"
            .as_bytes(),
    );
    assert_ok(&import(
        &server,
        &["--units", path_str(&units), "--people", path_str(&people)],
    ));
    let in_hoa_an: Vec<String> = read_lf(&units)
        .lines()
        .filter(|l| l.ends_with(",CB11-058") || l.contains(",CB11-058,"))
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();

    let (codes, names) = published(&server, "/directory.json?unit=CB11-058");
    assert_eq!(codes.first().map(String::as_str), Some("CB11-058"));
    let mut sorted = codes.clone();
    sorted.sort();
    let mut want = in_hoa_an.clone();
    want.sort();
    assert_eq!(
        sorted, want,
        "the district and the units below it, nothing else"
    );
    assert_eq!(
        names,
        ["Nông Văn Đạt", "Hà Thị Hòa", "Lý A Sần"],
        "head first, tree order"
    );
    // The whole province still has everyone public.
    let (all_codes, all_names) = published(&server, "/directory.json");
    assert!(all_codes.len() > codes.len() && all_codes.contains(&"CB11-016".into()));
    assert!(
        all_names.contains(&"Hoàng Văn Minh".into()),
        "{all_names:?}"
    );
    assert!(
        !all_names.contains(&"Lục Thị Hoa".into()),
        "not public: {all_names:?}"
    );
    // A look-up inside the subtree.
    let (_, names) = published(&server, "/directory.json?unit=CB11-058&q=san");
    assert_eq!(names, ["Lý A Sần"]);

    // CSV and vCard of a smaller subtree.
    let (head, body) = curl(&server, "/directory.csv?unit=CB11-191");
    assert!(head.contains("content-type: text/csv"), "{head}");
    assert!(
        body.contains(&format!("person,CB11-191,Hà Thị Hòa,hoaht@{DOMAIN}")),
        "{body}"
    );
    assert!(
        !body.contains("Lý A Sần") && !body.contains("Huyện Hòa An,"),
        "{body}"
    );
    let (_, body) = curl(&server, "/directory.vcf?unit=CB11-372");
    assert!(body.contains("FN:Lý A Sần\r\n"), "{body}");
    assert!(!body.contains("Hà Thị Hòa"), "{body}");

    // An unknown unit: 404, saying which code.
    for path in [
        "/directory.json?unit=CB11-999",
        "/directory.csv?unit=CB11-999",
        "/directory.vcf?unit=CB11-999",
        "/directory?unit=CB11-999",
    ] {
        let (head, body) = curl(&server, path);
        assert!(head.starts_with("http/1.1 404"), "{path}: {head}");
        assert!(
            body.contains("CB11-999") && body.contains("no unit"),
            "{body}"
        );
    }

    // Revoked: gone at once. Moved: under the new unit at once.
    let lifecycle = |args: &[&str]| {
        let mut all = vec!["lifecycle", "file"];
        all.extend_from_slice(args);
        all.push("--approve");
        let out = server.cli(&all, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    lifecycle(&["resignation", "--person", &format!("sanla@{DOMAIN}")]);
    lifecycle(&[
        "transfer",
        "--person",
        &format!("hoaht@{DOMAIN}"),
        "--unit",
        "CB11-016",
    ]);
    let (_, names) = published(&server, "/directory.json?unit=CB11-058");
    assert_eq!(names, ["Nông Văn Đạt"]);
    let (_, mut names) = published(&server, "/directory.json?unit=CB11-016");
    names.sort();
    assert_eq!(names, ["Hoàng Văn Minh", "Hà Thị Hòa"]);
    let (_, names) = published(&server, "/directory.json");
    assert!(!names.contains(&"Lý A Sần".into()), "{names:?}");

    // Heads unpublished by configuration: only those marked public.
    let quiet = TestServer::start_with(&format!("{config}\n[directory]\npublish_heads = false\n"));
    assert_ok(&import(
        &quiet,
        &["--units", path_str(&units), "--people", path_str(&people)],
    ));
    let (_, names) = published(&quiet, "/directory.json?unit=CB11-058");
    assert_eq!(names, ["Hà Thị Hòa", "Lý A Sần"]);
}
