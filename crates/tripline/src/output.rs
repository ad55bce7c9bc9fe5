//! How alerts and parsed lines are shown: JSON objects and a readable table.

use std::io::{BufWriter, Stdout, Write};
use std::sync::{Arc, Mutex};
use tripline_event::json::json_line;
use tripline_event::{Alert, AlertView};

/// Prints alerts to stdout as JSON lines or as a table, from the store writer's thread (the
/// `finals` sink of a scan). A closed pipe (`| head`) stops printing quietly.
#[derive(Clone)]
pub struct Printer(Arc<Mutex<PrinterState>>);

struct PrinterState {
    out: BufWriter<Stdout>,
    json: bool,
    printed: u64,
    err: Option<std::io::Error>,
    /// One JSON line, reused.
    line: Vec<u8>,
}

impl Printer {
    pub fn stdout(json: bool) -> Printer {
        Printer(Arc::new(Mutex::new(PrinterState {
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            json,
            printed: 0,
            err: None,
            line: Vec::with_capacity(4096),
        })))
    }

    /// A sink that prints each alert handed to it.
    pub fn sink(&self) -> tripline_runtime::AlertSink {
        let p = self.clone();
        Box::new(move |a| {
            p.print(&a.view("open"));
        })
    }

    /// Print one alert; false once printing failed (the rest would fail too).
    pub fn print(&self, a: &AlertView<'_>) -> bool {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *guard;
        if st.err.is_some() {
            return false;
        }
        let r = if st.json {
            st.line.clear();
            json_line(a, &mut st.line);
            st.out.write_all(&st.line)
        } else {
            let header = if st.printed == 0 {
                alert_table_header()
            } else {
                String::new()
            };
            st.out
                .write_all(header.as_bytes())
                .and_then(|_| st.out.write_all(alert_row(a).as_bytes()))
        };
        st.printed += 1;
        st.err = r.err();
        st.err.is_none()
    }

    /// Flush; say `no alerts` in table mode when none were printed. A closed pipe is not an
    /// error.
    pub fn finish(&self) -> std::io::Result<()> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *guard;
        if st.printed == 0 && !st.json && st.err.is_none() {
            st.err = st.out.write_all(b"no alerts\n").err();
        }
        match st.err.take().or_else(|| st.out.flush().err()) {
            Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }
}

/// Strip control characters from attacker-written text before it reaches a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The header of the alert table.
pub fn alert_table_header() -> String {
    format!(
        "{:<9} {:<22} {:<28} {:>6} {:<20} {}\n",
        "SEVERITY", "RULE", "ENTITY", "COUNT", "LAST SEEN", "WHY"
    )
}

/// One row of the alert table (attacker-written text made printable).
pub fn alert_row(a: &AlertView<'_>) -> String {
    let entity = printable(&format!("{}:{}", a.entity.kind, a.entity.value));
    let why = printable(tripline_event::truncate_str(a.explanation, 100));
    format!(
        "{:<9} {:<22} {:<28} {:>6} {:<20} {}\n",
        a.severity.as_str(),
        a.rule,
        tripline_event::truncate_str(&entity, 28),
        a.count,
        a.last_seen
            .to_string()
            .trim_end_matches('Z')
            .replace('T', " "),
        why
    )
}

/// A fixed-width table of alerts.
pub fn alert_table(alerts: &[Alert]) -> String {
    if alerts.is_empty() {
        return "no alerts\n".into();
    }
    let mut s = alert_table_header();
    for a in alerts {
        s.push_str(&alert_row(&a.view("open")));
    }
    s
}
