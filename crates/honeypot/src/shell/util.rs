//! Small helpers the shell's modules share: UTC calendar arithmetic (the fake host keeps its
//! clock in UTC, as most servers do), human-readable sizes in the styles of GNU coreutils and
//! procps, hex digests, and a bounded, char-safe truncation.

use sha2::{Digest, Sha256};

pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Day names, Sunday first (as `struct tm`'s `tm_wday`).
pub(crate) const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Seconds since the epoch, now (0 if the clock is before 1970).
pub(crate) fn now() -> i64 {
    tripline_event::Timestamp::now().secs()
}

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tm {
    pub year: i64,
    /// 1 to 12
    pub mon: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub wday: u32,
}

impl Tm {
    pub fn month_name(&self) -> &'static str {
        MONTHS[(self.mon.clamp(1, 12) - 1) as usize]
    }
    pub fn day_name(&self) -> &'static str {
        DAYS[(self.wday % 7) as usize]
    }
    /// `Thu May 14 09:12:44 UTC 2026`, as `date` prints in the C locale.
    pub fn date(&self) -> String {
        format!(
            "{} {} {:2} {:02}:{:02}:{:02} UTC {}",
            self.day_name(),
            self.month_name(),
            self.day,
            self.hour,
            self.min,
            self.sec,
            self.year
        )
    }
    /// `2026-05-14 09:12:44`
    pub fn iso(&self) -> String {
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.mon, self.day, self.hour, self.min, self.sec
        )
    }
    /// `09:12:44`
    pub fn clock(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.min, self.sec)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Breaks down seconds since the epoch (UTC).
pub(crate) fn tm(unix: i64) -> Tm {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u32;
    let (year, mon, day) = civil_from_days(days);
    Tm {
        year,
        mon,
        day,
        hour: secs / 3600,
        min: secs / 60 % 60,
        sec: secs % 60,
        wday: (days + 4).rem_euclid(7) as u32,
    }
}

/// Seconds since the epoch of a UTC date and time.
pub(crate) fn unix_of(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> i64 {
    days_from_civil(y, m, d) * 86_400 + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss)
}

/// `ls -l`'s time column: `May 14 09:12` within six months of now, else `May 14  2024`.
pub(crate) fn ls_time(t: i64, now: i64) -> String {
    let b = tm(t);
    let six_months = 15_778_476; // 365.2425 / 2 days
    if t > now - six_months && t <= now + 3600 {
        format!("{} {:2} {:02}:{:02}", b.month_name(), b.day, b.hour, b.min)
    } else {
        format!("{} {:2}  {}", b.month_name(), b.day, b.year)
    }
}

/// GNU `-h` sizes (ls, df, du): powers of 1024 rounded up, one decimal below 10.
pub(crate) fn human_ceil(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    v /= 1024.0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    // GNU rounds up; a value that rounds up to 10 or 1024 moves to the next form
    let tenths = (v * 10.0 - 1e-9).ceil() / 10.0;
    if tenths < 10.0 {
        format!("{tenths:.1}{}", UNITS[unit])
    } else {
        let whole = (v - 1e-9).ceil();
        if whole >= 1024.0 && unit < UNITS.len() - 1 {
            format!("1.0{}", UNITS[unit + 1])
        } else {
            format!("{whole:.0}{}", UNITS[unit])
        }
    }
}

/// procps `free -h` sizes: `3.8Gi`, `511Mi`, `0B`.
pub(crate) fn human_procps(kib: u64) -> String {
    const UNITS: [&str; 5] = ["Ki", "Mi", "Gi", "Ti", "Pi"];
    if kib == 0 {
        return "0B".into();
    }
    let mut v = kib as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of bytes, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-1 (for `sha1sum`; sha2 does not have it and a fake host's checksums need no crate).
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(crate) use tripline_event::truncate_str as clip;

/// A 64-bit FNV-1a hash, for deterministic per-path variation (file times, binary bytes).
pub(crate) fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips_and_knows_weekdays() {
        for days in [-1000i64, 0, 1, 59, 365, 10_957, 20_000, 25_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // 2024-02-29 was a Thursday
        let t = tm(unix_of(2024, 2, 29, 13, 5, 9));
        assert_eq!((t.year, t.mon, t.day, t.wday), (2024, 2, 29, 4));
        assert_eq!(t.date(), "Thu Feb 29 13:05:09 UTC 2024");
        assert_eq!(tm(0).iso(), "1970-01-01 00:00:00");
    }

    #[test]
    fn ls_time_switches_to_the_year_after_six_months() {
        let now = unix_of(2026, 5, 14, 9, 0, 0);
        assert_eq!(ls_time(unix_of(2026, 5, 1, 8, 7, 0), now), "May  1 08:07");
        assert_eq!(ls_time(unix_of(2025, 3, 3, 8, 7, 0), now), "Mar  3  2025");
    }

    #[test]
    fn human_sizes_match_coreutils_and_procps() {
        assert_eq!(human_ceil(220), "220");
        assert_eq!(human_ceil(4096), "4.0K");
        assert_eq!(human_ceil(4097), "4.1K");
        assert_eq!(human_ceil(13 * 1024 - 5), "13K");
        assert_eq!(human_ceil(1_258_291), "1.2M");
        assert_eq!(human_ceil(1_258_292), "1.3M");
        assert_eq!(human_procps(0), "0B");
        assert_eq!(human_procps(4_015_376), "3.8Gi");
        assert_eq!(human_procps(523_412), "511Mi");
    }

    #[test]
    fn sha1_matches_known_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            hex(&sha1(&long)),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn clip_never_splits_a_char() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("héllo", 3), "hé");
        assert_eq!(clip("abc", 10), "abc");
    }
}
