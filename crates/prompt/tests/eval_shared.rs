//! The shipped classifier and scanners on labelled data they were not trained on: deepset's
//! test split in `../shared/data/prompt-injection/train/` (read in place; the shipped model's
//! training left it out with `--skip split=test`, see docs/BENCHMARKS.md). A regression test
//! with a tolerance: a change that makes detection markedly worse fails here.

use std::path::PathBuf;
use tripline_prompt::eval::{evaluate, read_rows_skipping};
use tripline_prompt::scan::{ScanSettings, Scanner};

#[test]
fn deepset_test_split_holds_its_numbers() {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/prompt-injection/train/deepset_prompt_injections.jsonl");
    let rows = read_rows_skipping(&f, &[("split".into(), "train".into())])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 116, "deepset's test split");
    let r = evaluate(&Scanner::new(ScanSettings::default()), &rows);
    let q = &r.overall;
    eprintln!("{q:?}");
    // measured when the model shipped: recall 0.633, FPR 0.000, AUC 0.926
    assert!(q.recall >= 0.55, "recall {}", q.recall);
    assert!(q.fpr <= 0.05, "false-positive rate {}", q.fpr);
    assert!(q.roc_auc.unwrap() >= 0.88, "ROC AUC {:?}", q.roc_auc);
}

/// The project's own benign texts with trigger words, and everyday requests, stay clean (the
/// hard negatives were in training: this holds the scanners' phrase families to them too).
#[test]
fn benign_texts_with_trigger_words_are_not_flagged() {
    let s = Scanner::new(ScanSettings::default());
    let texts = tripline_prompt::hard_negatives::texts();
    let flagged: Vec<&String> = texts
        .iter()
        .filter(|t| {
            let r = s.scan_text(t);
            r.flags
                .iter()
                .any(|f| matches!(*f, "injection" | "jailbreak"))
        })
        .collect();
    assert!(
        flagged.len() * 50 <= texts.len(),
        "{} of {} flagged: {:?}",
        flagged.len(),
        texts.len(),
        &flagged[..flagged.len().min(30)]
    );
}
