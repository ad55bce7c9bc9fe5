//! `tripline top`: a live full-screen view of a running daemon, read from its API — the latest
//! alerts, the top entities and the sensors' health. `q` quits, arrows move, Enter opens an
//! alert's detail, Esc goes back. The screen never waits for the network: a background thread
//! fetches every second and hands snapshots over.
//!
//! Everything shown comes from logs, so from attackers: control characters are replaced before
//! they reach the terminal (no escape sequences from a user name).

use crate::client::{HttpConn, Target};
use crate::output::printable;
use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;
use serde_json::Value;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::Duration;

/// What the daemon said last.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub alerts: Vec<Value>,
    pub entities: Vec<Value>,
    pub sensors: Vec<Value>,
    /// Why the last fetch failed, if it did.
    pub error: Option<String>,
}

/// The screen's state: what is shown and what is selected.
#[derive(Debug, Default)]
pub struct View {
    pub data: Snapshot,
    pub selected: usize,
    pub detail: bool,
}

impl View {
    /// Apply a key; false means quit.
    pub fn key(&mut self, code: KeyCode) -> bool {
        match code {
            KeyCode::Char('q') => return false,
            KeyCode::Esc if !self.detail => return false,
            KeyCode::Esc | KeyCode::Backspace => self.detail = false,
            KeyCode::Enter if !self.data.alerts.is_empty() => self.detail = true,
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.data.alerts.len().saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home => self.selected = 0,
            _ => {}
        }
        true
    }

    /// New data; the selection stays on the same alert when it is still listed.
    pub fn update(&mut self, data: Snapshot) {
        let id = self.data.alerts.get(self.selected).map(|a| a["id"].clone());
        self.data = data;
        self.selected = id
            .and_then(|id| self.data.alerts.iter().position(|a| a["id"] == id))
            .unwrap_or(0)
            .min(self.data.alerts.len().saturating_sub(1));
    }

    pub fn draw(&self, f: &mut Frame<'_>) {
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(5), Constraint::Length(1)])
            .split(f.area());
        if self.detail {
            self.draw_detail(f, rows[0]);
        } else {
            let cols = Layout::default()
                .direction(Direction::Horizontal)
                .constraints([Constraint::Percentage(64), Constraint::Percentage(36)])
                .split(rows[0]);
            self.draw_alerts(f, cols[0]);
            let side = Layout::default()
                .direction(Direction::Vertical)
                .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
                .split(cols[1]);
            self.draw_entities(f, side[0]);
            self.draw_sensors(f, side[1]);
        }
        let status = match &self.data.error {
            Some(e) => Span::styled(
                format!(" {} ", text(e)),
                Style::default().fg(Color::Black).bg(Color::Red),
            ),
            None => Span::raw(if self.detail {
                " Esc back  q quit".to_string()
            } else {
                format!(
                    " {} alerts  ↑↓ move  Enter detail  q quit",
                    self.data.alerts.len()
                )
            }),
        };
        f.render_widget(Paragraph::new(Line::from(status)), rows[1]);
    }

    fn draw_alerts(&self, f: &mut Frame<'_>, area: Rect) {
        let rows = self.data.alerts.iter().map(|a| {
            let sev = a["severity"].as_str().unwrap_or("");
            Row::new(vec![
                Cell::from(short_time(&a["last_seen"])),
                Cell::from(sev.to_string()).style(severity_style(sev)),
                Cell::from(text(a["rule"].as_str().unwrap_or(""))),
                Cell::from(text(a["entity"]["value"].as_str().unwrap_or(""))),
                Cell::from(a["count"].to_string()),
            ])
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(19),
                Constraint::Length(8),
                Constraint::Length(22),
                Constraint::Min(12),
                Constraint::Length(7),
            ],
        )
        .header(
            Row::new(["LAST SEEN", "SEVERITY", "RULE", "ENTITY", "COUNT"])
                .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .block(Block::default().borders(Borders::ALL).title(" alerts "));
        let mut state = TableState::default().with_selected(Some(self.selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    fn draw_entities(&self, f: &mut Frame<'_>, area: Rect) {
        let lines: Vec<Line> = self
            .data
            .entities
            .iter()
            .map(|e| {
                let sev = e["severity"].as_str().unwrap_or("");
                Line::from(vec![
                    Span::styled(format!("{:<8} ", sev), severity_style(sev)),
                    Span::raw(format!(
                        "{} ({} alerts, {} events)",
                        text(e["value"].as_str().unwrap_or("")),
                        e["alerts"],
                        e["events"]
                    )),
                ])
            })
            .collect();
        f.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" top entities, 24 h "),
            ),
            area,
        );
    }

    fn draw_sensors(&self, f: &mut Frame<'_>, area: Rect) {
        let lines: Vec<Line> = self
            .data
            .sensors
            .iter()
            .map(|s| {
                let ok = s["state"] == "reading" && s["lag_bytes"].as_u64().unwrap_or(0) == 0;
                Line::from(vec![
                    Span::styled(
                        if ok { "● " } else { "▲ " },
                        Style::default().fg(if ok { Color::Green } else { Color::Yellow }),
                    ),
                    Span::raw(format!(
                        "{} {} · {:.0} lines/s · lag {} B · {} unparsed",
                        text(s["path"].as_str().unwrap_or("")),
                        text(s["state"].as_str().unwrap_or("")),
                        s["lines_per_second"].as_f64().unwrap_or(0.0),
                        s["lag_bytes"],
                        s["unparsed_lines"],
                    )),
                ])
            })
            .collect();
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" sensors ")),
            area,
        );
    }

    fn draw_detail(&self, f: &mut Frame<'_>, area: Rect) {
        let Some(a) = self.data.alerts.get(self.selected) else {
            return;
        };
        let field = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(
                    format!("{k:<12}"),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(v),
            ])
        };
        let s = |v: &Value| text(v.as_str().unwrap_or("-"));
        let mut lines = vec![
            field("rule", s(&a["rule"])),
            field("severity", s(&a["severity"])),
            field("score", a["score"].to_string()),
            field(
                "entity",
                format!("{} {}", s(&a["entity"]["type"]), s(&a["entity"]["value"])),
            ),
            field("user", s(&a["user"])),
            field("count", a["count"].to_string()),
            field("first seen", s(&a["first_seen"])),
            field("last seen", s(&a["last_seen"])),
            field(
                "techniques",
                a["techniques"]
                    .as_array()
                    .map(|t| t.iter().map(s).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            ),
            field("state", s(&a["state"])),
            Line::from(""),
            Line::from(s(&a["explanation"])),
            Line::from(""),
            Line::from(Span::styled(
                "evidence",
                Style::default().add_modifier(Modifier::BOLD),
            )),
        ];
        for e in a["evidence"].as_array().into_iter().flatten() {
            lines.push(Line::from(s(e)));
        }
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" alert {} ", s(&a["id"]))),
            ),
            area,
        );
    }
}

/// Attacker-written text made safe for a terminal.
fn text(s: &str) -> String {
    printable(s)
}

fn short_time(v: &Value) -> String {
    v.as_str()
        .map(|t| t.trim_end_matches('Z').replace('T', " "))
        .map(|t| tripline_event::truncate_str(&t, 19).to_string())
        .unwrap_or_default()
}

fn severity_style(s: &str) -> Style {
    Style::default().fg(match s {
        "critical" => Color::Magenta,
        "high" => Color::Red,
        "medium" => Color::Yellow,
        "low" => Color::Cyan,
        _ => Color::Gray,
    })
}

/// Fetch a snapshot from the API at `to`.
fn fetch(conn: &mut Option<HttpConn>, to: &Target, token: &str) -> Snapshot {
    let addr = to.addr.as_str();
    let mut get = |path: &str| -> Result<Value> {
        if conn.is_none() {
            *conn = Some(HttpConn::open(to)?);
        }
        let c = conn.as_mut().context("no connection")?;
        let r = c.get_json(addr, token, path);
        if r.is_err() {
            *conn = None; // reconnect next time
        }
        r
    };
    let list = |v: Result<Value>, key: &str| -> Result<Vec<Value>> {
        Ok(v?[key].as_array().cloned().unwrap_or_default())
    };
    let result = (|| -> Result<Snapshot> {
        Ok(Snapshot {
            alerts: list(get("/api/v1/alerts?limit=200"), "alerts")?,
            entities: list(get("/api/v1/entities?limit=12"), "entities")?,
            sensors: list(get("/api/v1/sensors"), "sensors")?,
            error: None,
        })
    })();
    result.unwrap_or_else(|e| Snapshot {
        error: Some(format!("{addr}: {e:#}")),
        ..Snapshot::default()
    })
}

/// Run the view against the daemon's API at `addr` until `q`.
pub fn top(addr: Target, token: String) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "top is a full-screen view and needs a terminal; without one, use `tripline alerts` or the API (/api/v1/alerts, /api/v1/sensors)"
        );
    }
    let (tx, rx) = channel::<Snapshot>();
    std::thread::spawn(move || {
        let mut conn = None;
        loop {
            if tx.send(fetch(&mut conn, &addr, &token)).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let mut terminal = ratatui::try_init()?;
    let result = run_loop(&mut terminal, rx);
    ratatui::restore();
    result
}

fn run_loop(terminal: &mut ratatui::DefaultTerminal, rx: Receiver<Snapshot>) -> Result<()> {
    let mut view = View::default();
    loop {
        match rx.try_recv() {
            Ok(s) => view.update(s),
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => return Ok(()),
        }
        terminal.draw(|f| view.draw(f))?;
        if event::poll(Duration::from_millis(100))? {
            if let Event::Key(k) = event::read()? {
                if k.kind == KeyEventKind::Press && !view.key(k.code) {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn alert(id: &str, rule: &str, user: &str) -> Value {
        serde_json::json!({
            "id": id, "rule": rule, "severity": "high", "score": 0.8,
            "entity": {"type": "ip", "value": "203.0.113.5"}, "user": user,
            "count": 7, "first_seen": "2026-11-22T10:00:00Z", "last_seen": "2026-11-22T10:05:00Z",
            "techniques": ["T1110.001"], "state": "open",
            "explanation": "7 failed SSH logins", "evidence": ["line \u{1b}[2Jone", "line two"],
        })
    }

    fn screen(view: &View) -> String {
        let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
        t.draw(|f| view.draw(f)).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn lists_moves_opens_and_quits() {
        let mut v = View::default();
        v.update(Snapshot {
            alerts: vec![
                alert("a1", "ssh.bruteforce", "root"),
                alert("a2", "ssh.spray", "\u{1b}]0;pwned\u{7}admin"),
            ],
            entities: vec![serde_json::json!({"type": "ip", "value": "203.0.113.5",
                "severity": "high", "alerts": 2, "events": 14})],
            sensors: vec![
                serde_json::json!({"path": "/var/log/auth.log", "state": "reading",
                "lag_bytes": 0, "lines_per_second": 12.0, "unparsed_lines": 3}),
            ],
            error: None,
        });
        let s = screen(&v);
        assert!(
            s.contains("ssh.bruteforce") && s.contains("ssh.spray"),
            "{s}"
        );
        assert!(s.contains("203.0.113.5 (2 alerts, 14 events"), "{s}");
        assert!(s.contains("/var/log/auth.log reading"), "{s}");
        assert!(s.contains("2 alerts"), "{s}");
        assert!(v.key(KeyCode::Down));
        assert_eq!(v.selected, 1);
        assert!(v.key(KeyCode::Down));
        assert_eq!(v.selected, 1, "stays on the last");
        assert!(v.key(KeyCode::Enter));
        assert!(v.detail);
        let s = screen(&v);
        assert!(s.contains("alert a2"), "{s}");
        assert!(s.contains("T1110.001"), "{s}");
        // no escape sequence reaches the terminal
        assert!(!s.contains('\u{1b}'), "{s}");
        assert!(s.contains("?]0;pwned?admin"), "{s}");
        assert!(s.contains("line ?[2Jone"), "{s}");
        assert!(v.key(KeyCode::Esc));
        assert!(!v.detail);
        // new data keeps the selection on the same alert
        v.update(Snapshot {
            alerts: vec![
                alert("a0", "ssh.scan", "x"),
                alert("a1", "ssh.bruteforce", "root"),
                alert("a2", "ssh.spray", "y"),
            ],
            ..Snapshot::default()
        });
        assert_eq!(v.selected, 2);
        assert!(!v.key(KeyCode::Char('q')));
    }

    #[test]
    fn a_daemon_that_cannot_be_reached_is_said_so() {
        let mut conn = None;
        let s = fetch(&mut conn, &Target::plain("127.0.0.1:1"), "t");
        assert!(s.alerts.is_empty());
        let e = s.error.clone().expect("an error");
        assert!(e.contains("127.0.0.1:1"), "{e}");
        let v = View {
            data: s,
            ..View::default()
        };
        assert!(screen(&v).contains("127.0.0.1:1"));
    }
}
