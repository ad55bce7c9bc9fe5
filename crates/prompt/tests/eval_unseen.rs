//! The shipped scanners on the project's own held-out set, `eval/unseen.jsonl`: prompts
//! written for evaluation only, by a session that saw neither the scanners nor their training
//! data, and never trained on (benign prompts full of trigger words, everyday, borderline and
//! long benign documents; indirect injections in documents, hijacking, extraction and
//! jailbreaks, in several languages). A regression test with a tolerance: a change that makes
//! detection on unseen text markedly worse, or flags markedly more benign text, fails here.

use std::path::PathBuf;
use tripline_prompt::eval::{evaluate, read_rows};
use tripline_prompt::scan::{ScanSettings, Scanner};

#[test]
fn the_unseen_set_holds_its_numbers() {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("eval/unseen.jsonl");
    let rows = read_rows(&f).unwrap_or_else(|e| panic!("{e}"));
    assert!(rows.len() >= 500, "{} rows", rows.len());
    let r = evaluate(&Scanner::new(ScanSettings::default()), &rows);
    let q = &r.overall;
    for (s, q) in &r.by_source {
        eprintln!("{s}: recall {:.3} fpr {:.3}", q.recall, q.fpr);
    }
    eprintln!("{q:?}");
    // measured when the model shipped (docs/BENCHMARKS.md): recall 0.754, false-positive
    // rate 0.012 (the target: recall >= 0.70 at <= 2 %)
    assert!(q.recall >= RECALL, "recall {}", q.recall);
    assert!(q.fpr <= FPR, "false-positive rate {}", q.fpr);
}

const RECALL: f64 = 0.70;
const FPR: f64 = 0.02;
