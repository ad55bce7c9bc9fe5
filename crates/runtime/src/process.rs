//! This process's own numbers, read from `/proc`: CPU time and memory, for `/metrics`, `once
//! --stats` and the benchmarks.

/// A `kB` field (`VmRSS`, `VmHWM`) of `/proc/<pid>/status`; `pid` may be `self`. 0 when it
/// cannot be read.
pub fn status_kb(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Sum of clock-tick fields of a `/proc/<pid>/stat` text, numbered after the command name
/// (0 = state; 11, 12 = utime, stime; 13, 14 = cutime, cstime), in seconds.
pub fn stat_seconds(stat: &str, fields: &[usize]) -> f64 {
    let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    fields
        .iter()
        .filter_map(|i| f.get(*i)?.parse::<f64>().ok())
        .sum::<f64>()
        / 100.0
}

/// (CPU seconds, peak RSS in KiB) of this process.
pub fn self_usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    (stat_seconds(&stat, &[11, 12]), status_kb("self", "VmHWM"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_cpu_time_and_memory_and_a_stat_line_is_read_past_its_name() {
        let (cpu, peak) = self_usage();
        assert!(cpu >= 0.0 && peak > 0, "{cpu} {peak}");
        assert!(status_kb("self", "VmRSS") > 0);
        assert_eq!(status_kb("self", "NoSuchField"), 0);
        // a command name with spaces and parentheses does not shift the fields
        let stat = "42 (a) b (c)) S 1 1 1 0 -1 0 0 0 0 0 250 150 0 0";
        assert_eq!(stat_seconds(stat, &[11, 12]), 4.0);
        assert_eq!(stat_seconds("garbage", &[11]), 0.0);
    }
}
