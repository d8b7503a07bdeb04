//! `[report]`: the six-monthly report (Đ17). Đ13.1 counts working days — Monday to Friday —
//! less the public holidays the province observes, written here as dates (they move each year
//! with the lunar calendar, so they are configuration, not code).

use serde::Deserialize;

/// `[report]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawReport {
    /// Public holidays, `YYYY-MM-DD` (Tết, 30/4, 1/5, 2/9 and the days the government adds).
    pub holidays: Vec<String>,
}

/// The validated `[report]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The holidays as days since 1970-01-01, sorted.
    pub holidays: Vec<i64>,
}

impl Report {
    /// Whether the day (days since 1970-01-01) is a configured public holiday.
    pub fn is_holiday(&self, day: i64) -> bool {
        self.holidays.binary_search(&day).is_ok()
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as days since 1970-01-01, if it is a real date.
fn parse_day(s: &str) -> Option<i64> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

pub(crate) fn validate(raw: RawReport, problems: &mut Vec<String>) -> Report {
    let mut holidays = Vec::new();
    for (i, h) in raw.holidays.iter().enumerate() {
        match parse_day(h) {
            Some(day) => holidays.push(day),
            None => problems.push(format!(
                "report.holidays[{i}]: {h:?} is not a date YYYY-MM-DD"
            )),
        }
    }
    holidays.sort_unstable();
    holidays.dedup();
    Report { holidays }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_are_dates() {
        let mut problems = Vec::new();
        let r = validate(
            RawReport {
                holidays: vec![
                    "2026-09-02".into(),
                    "1970-01-01".into(),
                    "2026-02-30".into(),
                ],
            },
            &mut problems,
        );
        assert_eq!(r.holidays, vec![0, 20_698]);
        assert!(r.is_holiday(20_698));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("report.holidays[2]"));
        assert_eq!(parse_day("2024-02-29"), Some(19_782));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("2026-1-01"), None);
    }
}
