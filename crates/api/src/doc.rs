//! The OpenAPI 3 document (`GET /api/openapi.json`), generated from the handlers' annotations
//! and the response shapes below. The shapes mirror what the handlers serialize; a test holds
//! each to the JSON the API really returns.

use std::collections::BTreeMap;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tripline",
        description = "Alerts from tripline's detections, their workflow, and the daemon's state. \
                       Every route but /healthz needs `Authorization: Bearer <token>` \
                       (`tripline token`)."
    ),
    paths(
        super::healthz_doc,
        super::readyz,
        super::list_alerts,
        super::alert_detail,
        super::acknowledge,
        super::resolve,
        super::stream,
        super::entities,
        super::stats,
        super::sensors,
        super::entity_timeline,
        super::metrics,
        super::openapi_json,
    ),
    components(schemas(
        AlertDoc, AnomalyDoc, FeatureDoc, EntityDoc, AlertPage, AlertDetail, Technique, ApiErrorDoc, Actor, EntityDoc2,
        Entities, Stats, Bucket, Sensors, Sensor, TimelineDoc, TimelineItem, TechniqueName
    )),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// An alert: a (rule, entity) pair that grows while the attack lasts.
#[derive(ToSchema)]
#[schema(as = Alert)]
#[allow(dead_code)]
pub struct AlertDoc {
    /// Stable id, 16 hex digits.
    id: String,
    /// Rule id, e.g. `ssh.bruteforce`.
    rule: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    severity: String,
    /// 0–1: how sure and how bad.
    score: f32,
    entity: EntityDoc,
    src_ip: Option<String>,
    user: Option<String>,
    host: String,
    /// The sensor of the event that opened it: `files`, `journald` or `cowrie`.
    sensor: String,
    /// ATT&CK technique ids.
    techniques: Vec<String>,
    /// Events that moved the alert.
    count: u64,
    /// RFC 3339.
    first_seen: String,
    last_seen: String,
    /// Why it fired, in words.
    explanation: String,
    /// The first and latest input lines (attacker-written text: escape it).
    evidence: Vec<String>,
    /// `open`, `acknowledged` or `resolved`.
    state: String,
    /// Who set the state and when (absent until someone did).
    state_by: Option<String>,
    state_at: Option<String>,
    /// Only on `anomaly` alerts.
    anomaly: Option<AnomalyDoc>,
}

/// Where an anomaly alert's behaviour window stands against the model's baseline.
#[derive(ToSchema)]
#[schema(as = AnomalyDetail)]
#[allow(dead_code)]
pub struct AnomalyDoc {
    /// The forest's own score, `2^(−E[h]/c(ψ))`.
    raw_score: f64,
    /// Percentile of the training windows scoring below it (0–100).
    percentile: f64,
    /// Risk band of the calibrated score: `normal`, `low`, `medium`, `high`, `critical`.
    band: String,
    /// The features that made the window stand out, most first.
    features: Vec<FeatureDoc>,
}

/// One feature of a window, in counts and seconds.
#[derive(ToSchema)]
#[schema(as = FeatureDetail)]
#[allow(dead_code)]
pub struct FeatureDoc {
    name: String,
    value: f64,
    baseline_median: f64,
}

/// What an alert is about.
#[derive(ToSchema)]
#[schema(as = Entity)]
#[allow(dead_code)]
pub struct EntityDoc {
    /// `ip`, `user` or `subnet`.
    #[schema(rename = "type")]
    r#type: String,
    value: String,
}

/// A page of alerts, most recently seen first.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AlertPage {
    alerts: Vec<AlertDoc>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// An ATT&CK technique.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Technique {
    id: String,
    name: Option<String>,
    url: String,
}

/// One alert with its techniques named.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AlertDetail {
    alert: AlertDoc,
    techniques: Vec<Technique>,
}

/// An error: what went wrong and, for bad input, which parameter.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ApiErrorDoc {
    error: String,
    parameter: Option<String>,
}

/// Who acknowledges or resolves (`api` when absent).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Actor {
    by: Option<String>,
}

/// An entity's alerts summed up.
#[derive(ToSchema)]
#[schema(as = EntitySummary)]
#[allow(dead_code)]
pub struct EntityDoc2 {
    #[schema(rename = "type")]
    r#type: String,
    value: String,
    score: f32,
    severity: String,
    alerts: u64,
    events: u64,
    first_seen: String,
    last_seen: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Entities {
    entities: Vec<EntityDoc2>,
}

/// Alert counts in one time bucket.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Bucket {
    start: String,
    total: u64,
    by_severity: BTreeMap<String, u64>,
    by_rule: BTreeMap<String, u64>,
    by_technique: BTreeMap<String, u64>,
    /// `files`, `journald`, `cowrie`: the sensor of the event that opened each alert.
    by_sensor: BTreeMap<String, u64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Stats {
    bucket_seconds: u64,
    buckets: Vec<Bucket>,
    /// Each technique the buckets count: its name and ATT&CK page.
    techniques: BTreeMap<String, TechniqueName>,
}

/// An ATT&CK technique's name and page.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TechniqueName {
    name: String,
    url: String,
}

/// A watched source as the daemon reports it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Sensor {
    /// `files`, `cowrie` or `journald`.
    sensor: String,
    path: String,
    /// `reading` or `missing`.
    state: String,
    offset: u64,
    /// The journal cursor (journald), null for files.
    cursor: Option<String>,
    size: u64,
    lag_bytes: u64,
    lag_seconds: f64,
    lines: u64,
    events: u64,
    unparsed_lines: u64,
    truncated_lines: u64,
    parse_errors: u64,
    /// Events a push source (a listener) refused because the pipeline was behind.
    dropped: u64,
    lines_per_second: f64,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Sensors {
    sensors: Vec<Sensor>,
}

/// One item of a timeline: an event (`type` = `event`, the event's fields) or an alert
/// (`type` = `alert`, placed at its first-seen time, the alert in `alert`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TimelineItem {
    /// `event` or `alert`.
    #[schema(rename = "type")]
    kind: String,
    /// Event time (an alert: first seen).
    ts: String,
    /// Event: `files`, `journald` or `cowrie`.
    sensor: Option<String>,
    /// Event: its kind, e.g. `ssh.auth_failure`.
    #[schema(rename = "kind")]
    event_kind: Option<String>,
    host: Option<String>,
    src_ip: Option<String>,
    user: Option<String>,
    session: Option<String>,
    /// Event: occurrences this line stands for.
    count: Option<u64>,
    /// Event: evidence against its source.
    hostile: Option<bool>,
    /// Event: the input line.
    raw: Option<String>,
    /// Alert: the alert.
    alert: Option<AlertDoc>,
}

/// An entity's timeline, oldest first.
#[derive(ToSchema)]
#[schema(as = Timeline)]
#[allow(dead_code)]
pub struct TimelineDoc {
    entity: String,
    items: Vec<TimelineItem>,
}
