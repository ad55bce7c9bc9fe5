//! The dashboard in a real browser: Debian's chromium, headless, driven through chromedriver
//! (both installed by `./scripts/check`). Signs in, watches an attack appended to a followed
//! file arrive in the live feed, opens it, acknowledges it, follows its entity to the timeline,
//! and checks that a username written as HTML by the attacker stays text. Screenshots of the
//! overview and the alert are saved under `target/test-artifacts/`.

mod common;

use common::{append, http, start, watch_config};
use fantoccini::{Client, ClientBuilder, Locator};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const XSS_USER: &str = "<img src=x onerror=alert(1)>";
const ATTACKER: &str = "203.0.113.77";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: ./scripts/check installs Debian's chromium and chromium-driver"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let end = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "chromedriver did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromium session. Chromium on a loaded machine sometimes dies before it reports its
/// DevTools port ("DevToolsActivePort file doesn't exist"): that start, and only that, is tried
/// again (three times at most, each with a fresh profile).
async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut last = None;
    for attempt in 0..3 {
        let dir = profile.join(format!("attempt-{attempt}"));
        match session(driver, &dir).await {
            Ok(c) => return c,
            Err(fantoccini::error::NewSessionError::SessionNotCreated(e)) => {
                eprintln!("chromium did not start (attempt {attempt}): {e}");
                last = Some(e);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("a chromium session: {e:?}"),
        }
    }
    panic!("a chromium session: {last:?}")
}

async fn session(
    driver: &Driver,
    profile: &Path,
) -> Result<Client, fantoccini::error::NewSessionError> {
    let caps = serde_json::json!({
        "browserName": "chrome",
        // an alert() the page might run stays open, so the test can see it
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
}

/// Poll `f` every 20 ms until it yields a value; panic naming `what` after `within`.
async fn wait_for<T, Fut: Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut f: impl FnMut() -> Fut,
) -> T {
    let end = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < end, "waited {within:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Click the first element matching `css`.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The text of the first element matching `css`, if there is one.
async fn text_of(c: &Client, css: &str) -> Option<String> {
    let e = c.find(Locator::Css(css)).await.ok()?;
    e.text().await.ok()
}

fn artifacts() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// sshd lines: `n` failures for the attacker's HTML-shaped user name, stamped now.
fn xss_attack(n: usize) -> String {
    let now = tripline_event::Timestamp::now();
    (0..n)
        .map(|i| {
            format!(
                "{now} web1 sshd[{}]: Failed password for invalid user {XSS_USER} from {ATTACKER} port {} ssh2\n",
                7000 + i,
                50000 + i
            )
        })
        .collect()
}

#[test]
fn dashboard_signs_in_shows_live_alerts_acknowledges_and_never_runs_attacker_text() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, log) = watch_config(dir.path(), "[api]\nbind = \"127.0.0.1:0\"\n");
    let daemon = start(&cfg);
    let token = std::fs::read_to_string(dir.path().join("api.token"))
        .unwrap()
        .trim()
        .to_string();
    let base = format!("http://{}", daemon.api);
    let driver = Driver::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let profile = dir.path().join("chromium");
    rt.block_on(async {
        let c = browser(&driver, &profile).await;

        // a stranger is sent to the form; a wrong token is refused there
        c.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/login");
        let field = c.find(Locator::Id("token")).await.unwrap();
        field.send_keys("not-the-token").await.unwrap();
        click(&c, "button[type=submit]").await;
        let refused = wait_for("the refusal", Duration::from_secs(5), || {
            text_of(&c, ".error")
        })
        .await;
        assert!(refused.contains("not the token"), "{refused}");

        // the right token opens the dashboard, and the live stream connects
        c.find(Locator::Id("token"))
            .await
            .unwrap()
            .send_keys(&token)
            .await
            .unwrap();
        click(&c, "button[type=submit]").await;
        wait_for("the live stream", Duration::from_secs(5), || async {
            (text_of(&c, "#live.on").await.as_deref() == Some("live")).then_some(())
        })
        .await;
        assert_eq!(c.current_url().await.unwrap().path(), "/");
        let cookies = c.get_all_cookies().await.unwrap();
        let session = cookies
            .iter()
            .find(|k| k.name() == "tripline_session")
            .expect("a session cookie");
        assert_eq!(session.http_only(), Some(true));
        assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
        let loaded = c
            .execute(
                "const n = performance.getEntriesByType('navigation')[0];
                 const bytes = performance.getEntriesByType('resource')
                     .concat([n]).reduce((s, e) => s + (e.transferSize || 0), 0);
                 return [n.domContentLoadedEventEnd, n.loadEventEnd, bytes];",
                vec![],
            )
            .await
            .unwrap();
        eprintln!("dashboard: domContentLoaded, load (ms), bytes transferred: {loaded}");

        // an attack appended to the watched file shows up in the live feed within 2 s
        let appended = Instant::now();
        let appended_ms = c
            .execute("return Date.now();", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        append(&log, &xss_attack(6));
        let row = wait_for(
            "the alert in the live feed",
            Duration::from_secs(2),
            || async {
                for li in c.find_all(Locator::Css("#feed li.fresh")).await.ok()? {
                    if li.text().await.ok()?.contains("ssh.bruteforce") {
                        return Some(li);
                    }
                }
                None
            },
        )
        .await;
        let seen = appended.elapsed();
        let received: f64 = row
            .attr("data-received")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        eprintln!(
            "dashboard: appended to shown in the feed: {:.0} ms (seen by the test after {:.0} ms)",
            received - appended_ms,
            seen.as_secs_f64() * 1000.0
        );
        assert!(row.text().await.unwrap().contains(ATTACKER));

        // its detail: explanation, techniques, evidence, all as text
        row.find(Locator::Css("a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let title = wait_for("the alert detail", Duration::from_secs(5), || {
            text_of(&c, "#alert h2")
        })
        .await;
        assert!(title.contains("ssh.bruteforce"), "{title}");
        let evidence = text_of(&c, "#alert .evidence").await.unwrap();
        assert!(
            evidence.contains(XSS_USER),
            "evidence shown as text: {evidence}"
        );
        let explanation = text_of(&c, "#alert .explanation").await.unwrap();
        assert!(explanation.contains(XSS_USER), "{explanation}");
        let techniques = text_of(&c, "#alert ul").await.unwrap();
        assert!(techniques.contains("T1110.001"), "{techniques}");

        // nothing the attacker wrote became markup, and no script ran
        for img in c.find_all(Locator::Css("img")).await.unwrap() {
            let src = img.attr("src").await.unwrap().unwrap_or_default();
            assert_eq!(
                src, "/assets/icon.svg",
                "an image the page did not put there"
            );
        }
        assert!(
            c.get_alert_text().await.is_err(),
            "a dialog opened: attacker text ran as script"
        );
        std::fs::write(
            artifacts().join("dashboard-alert.png"),
            c.screenshot().await.unwrap(),
        )
        .unwrap();

        // acknowledge it: the page shows who, the API agrees
        click(&c, "#ack").await;
        wait_for("the acknowledged state", Duration::from_secs(5), || async {
            let s = text_of(&c, "#alert .state").await?;
            (s == "acknowledged").then_some(())
        })
        .await;
        let id = c.current_url().await.unwrap().fragment().unwrap()["/alert/".len()..].to_string();
        let (status, body) = http(
            &daemon.api,
            "GET",
            &format!("/api/v1/alerts/{id}"),
            Some(&token),
        );
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["alert"]["state"], "acknowledged");
        assert_eq!(v["alert"]["state_by"], "dashboard");

        // the entity's timeline: the six events and the alert, in time order
        click(&c, &format!("#alert a[href='#/entity/{ATTACKER}']")).await;
        let timeline = wait_for("the timeline", Duration::from_secs(5), || async {
            let t = text_of(&c, "#entity table").await?;
            t.contains("ssh.bruteforce").then_some(t)
        })
        .await;
        assert!(timeline.contains(XSS_USER), "{timeline}");
        let events = c
            .find_all(Locator::Css("#entity tr td.raw"))
            .await
            .unwrap()
            .len();
        assert_eq!(events, 6, "{timeline}");

        // the overview: the chart, the attacker among the top entities; Escape goes there
        c.find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys(&fantoccini::key::Key::Escape.to_string())
            .await
            .unwrap();
        wait_for("the overview", Duration::from_secs(5), || async {
            let bars = c.find_all(Locator::Css("#chart rect")).await.ok()?;
            let top = text_of(&c, "#entities").await?;
            (!bars.is_empty() && top.contains(ATTACKER)).then_some(())
        })
        .await;
        assert!(c.get_alert_text().await.is_err());
        std::fs::write(
            artifacts().join("dashboard.png"),
            c.screenshot().await.unwrap(),
        )
        .unwrap();

        // signing out ends the session
        click(&c, "#logout").await;
        wait_for("the sign-in form", Duration::from_secs(5), || async {
            (c.current_url().await.ok()?.path() == "/login").then_some(())
        })
        .await;
        c.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/login");
        c.close().await.unwrap();
    });
    daemon.sigterm();
}
