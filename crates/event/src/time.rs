//! Event time: microseconds since the Unix epoch, in UTC.
//!
//! Windows, rates and replays all run on the timestamp found in the data, never on the wall
//! clock, so replaying a week of logs yields the same alerts as watching it live. The civil-date
//! arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`: exact, branch-light and
//! allocation-free, which matters because every line of input goes through it.

use std::fmt;

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A calendar date and time of day, without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Civil {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

pub const MICROS_PER_SEC: i64 = 1_000_000;

impl Timestamp {
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(MICROS_PER_SEC))
    }

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1000))
    }

    /// The current wall-clock time; used only for `observed` times, never for windows.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_micros() as i64)
    }

    pub const fn secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    pub const fn millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// `self + secs` seconds, saturating.
    pub const fn add_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// Seconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / MICROS_PER_SEC as f64
    }

    /// The civil date and time in UTC.
    pub fn to_civil_utc(self) -> Civil {
        let secs = self.secs();
        let micros = self.0.rem_euclid(MICROS_PER_SEC) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (sod / 3600) as u8,
            minute: (sod / 60 % 60) as u8,
            second: (sod % 60) as u8,
            micros,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; RFC3339_MAX];
        f.write_str(self.write_rfc3339(&mut buf))
    }
}

/// Longest RFC 3339 text [`Timestamp::rfc3339`] writes: a six-digit year, micros and `Z`.
const RFC3339_MAX: usize = 32;

impl Timestamp {
    /// RFC 3339 in UTC (`2017-07-14T02:40:00Z`, micros only when non-zero), written into `buf`
    /// without the formatting machinery: alerts print several timestamps each.
    pub fn write_rfc3339(self, buf: &mut [u8; RFC3339_MAX]) -> &str {
        /// `v` (below 100) in two digits, then `sep`: most fields, without a digit loop.
        fn put2(buf: &mut [u8; RFC3339_MAX], n: &mut usize, v: u8, sep: u8) {
            buf[*n] = b'0' + v / 10 % 10;
            buf[*n + 1] = b'0' + v % 10;
            buf[*n + 2] = sep;
            *n += 3;
        }
        /// `v` in at least `width` digits, then `sep`.
        fn put(buf: &mut [u8; RFC3339_MAX], n: &mut usize, v: u64, width: usize, sep: u8) {
            let mut digits = [0u8; 20];
            let (mut v, mut len) = (v, 0);
            while v > 0 || len == 0 {
                digits[len] = b'0' + (v % 10) as u8;
                v /= 10;
                len += 1;
            }
            for _ in len..width {
                buf[*n] = b'0';
                *n += 1;
            }
            for d in digits[..len].iter().rev() {
                buf[*n] = *d;
                *n += 1;
            }
            buf[*n] = sep;
            *n += 1;
        }
        let c = self.to_civil_utc();
        let mut n = 0;
        if c.year < 0 {
            // years before 0 are not something logs contain; keep them correct anyway
            buf[0] = b'-';
            n = 1;
        }
        let b = &mut *buf;
        put(b, &mut n, c.year.unsigned_abs() as u64 % 1_000_000, 4, b'-');
        put2(b, &mut n, c.month, b'-');
        put2(b, &mut n, c.day, b'T');
        put2(b, &mut n, c.hour, b':');
        put2(b, &mut n, c.minute, b':');
        if c.micros != 0 {
            put2(b, &mut n, c.second, b'.');
            put(b, &mut n, c.micros as u64, 6, b'Z');
        } else {
            put2(b, &mut n, c.second, b'Z');
        }
        std::str::from_utf8(&buf[..n]).unwrap_or("")
    }
}

impl Civil {
    /// Seconds since the epoch if this civil time were UTC. Fields are not range-checked beyond
    /// what the arithmetic needs; parsers validate before calling.
    pub fn to_utc_secs(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
    }

    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 61
            && self.micros < 1_000_000
    }
}

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = year as i64 - if month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((y + if m <= 2 { 1 } else { 0 }) as i32, m, d)
}

impl serde::Serialize for Timestamp {
    /// Serialized as an RFC 3339 UTC string: what people and `jq` read.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; RFC3339_MAX];
        s.serialize_str(self.write_rfc3339(&mut buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            Timestamp::from_secs(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp(1_500_000_000_123_456).to_string(),
            "2017-07-14T02:40:00.123456Z"
        );
        assert_eq!(
            Timestamp(1_500_000_000_000_001).to_string(),
            "2017-07-14T02:40:00.000001Z"
        );
        assert_eq!(Timestamp::from_secs(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_secs(253_402_300_799).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp::from_secs(951_782_400)).unwrap(),
            "\"2000-02-29T00:00:00Z\""
        );
    }

    #[test]
    fn validity_checks_month_lengths() {
        let c = |y, m, d| Civil {
            year: y,
            month: m,
            day: d,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
        };
        assert!(c(2024, 2, 29).is_valid());
        assert!(!c(2023, 2, 29).is_valid());
        assert!(!c(2023, 13, 1).is_valid());
        assert!(!c(2023, 4, 31).is_valid());
    }
}
