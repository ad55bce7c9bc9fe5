//! The fuzz entry point of the gateway's request parsing and the prompt scanners:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run prompt_request` (from the repository root) runs it at length;
//! `tests/fuzz_corpus.rs` runs it on the seed corpus and mutations of it in every test run.
//!
//! The bytes are a request body to every route (JSON parsing, the text walker with its caps,
//! each text found scanned by every scanner) and, as text, a prompt (normalisation with its
//! decoders and caps, then every scanner). Nothing may panic; what the walker returns stays
//! within its caps.

use crate::request::{self, Route};
use std::sync::LazyLock;
use tripline_prompt::scan::{Part, ScanSettings, Scanner};

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| Scanner::new(ScanSettings::default()));

/// Most texts a fuzzed body may yield (the walker's cap in this entry point).
pub const MAX_TEXTS: usize = 64;

pub fn request_and_scan(data: &[u8]) {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        for route in [
            Route::Chat,
            Route::Completions,
            Route::Responses,
            Route::Embeddings,
        ] {
            if let Ok(texts) = request::texts(route, &body, MAX_TEXTS) {
                assert!(texts.len() <= MAX_TEXTS, "{} texts", texts.len());
                let parts: Vec<Part<'_>> = texts
                    .iter()
                    .map(|t| Part {
                        role: &t.role,
                        text: &t.text,
                    })
                    .collect();
                let r = SCANNER.scan(&parts);
                assert!((0.0..=1.0).contains(&r.score), "score {}", r.score);
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let r = SCANNER.scan_text(&text);
    assert!((0.0..=1.0).contains(&r.score), "score {}", r.score);
    assert_eq!(r.flagged, !r.flags.is_empty());
}
