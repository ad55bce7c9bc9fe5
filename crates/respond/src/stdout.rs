//! `stdout_json` (`output.stdout_json`): every new or grown alert as one JSON line on stdout,
//! the shape `once --json` and the API use.

use crate::{RespondError, Responder};
use std::io::Write;
use tripline_event::Alert;

/// Writes alerts to stdout as JSON lines.
#[derive(Default)]
pub struct StdoutJson {
    line: Vec<u8>,
}

impl Responder for StdoutJson {
    fn name(&self) -> &'static str {
        "stdout_json"
    }

    fn respond(&mut self, alerts: &[Alert]) -> Result<(), RespondError> {
        let mut out = std::io::stdout().lock();
        for a in alerts {
            self.line.clear();
            tripline_event::json::json_line(&a.view("open"), &mut self.line);
            out.write_all(&self.line)?;
        }
        Ok(out.flush()?)
    }
}
