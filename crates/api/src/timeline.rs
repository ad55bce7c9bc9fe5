//! An entity's timeline: every event and alert for an address, a network, a user or a session,
//! across all sensors, in time order. Both come from the store: alerts however old, and the
//! events `tripline run` stores with each batch (`store.keep_events`; scans store none).

use tripline_event::net::{canonical, Cidr};
use tripline_store::{EventRow, EventsAbout};

/// What the timeline's `entity` parameter names, for alerts and for events.
pub struct Who {
    /// As the alert table writes it: an address in canonical text, else as given.
    pub alerts: String,
    pub events: EventsAbout,
}

impl Who {
    /// An address (`203.0.113.7`), a network (`203.0.113.0/24`), or anything else as a user
    /// name or session id.
    pub fn parse(v: &str) -> Who {
        match Cidr::parse(v) {
            Ok(c) if c.prefix == if c.addr.is_ipv4() { 32 } else { 128 } => {
                let ip = canonical(c.addr);
                Who {
                    alerts: tripline_event::net::IpText::new(ip).to_string(),
                    events: EventsAbout::Ip(ip),
                }
            }
            Ok(c) => Who {
                alerts: v.to_string(),
                events: EventsAbout::Net(c),
            },
            Err(_) => Who {
                alerts: v.to_string(),
                events: EventsAbout::Name(v.to_string()),
            },
        }
    }
}

/// One event as the timeline shows it.
pub(crate) fn event_json(ev: &EventRow<'_>) -> serde_json::Value {
    let mut v = serde_json::to_value(ev).unwrap_or_default();
    v["type"] = "event".into();
    v
}
