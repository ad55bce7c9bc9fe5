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
    // measured when the model shipped: recall 0.533, FPR 0.000, AUC 0.911 (the model of the
    // eleventh session: 0.633; its threshold now holds benign text to 3 % out of fold, and
    // the held-out set of eval_unseen.rs went from recall 0.61 at 8.7 % false positives to
    // 0.76 at 1.2 %)
    assert!(q.recall >= 0.48, "recall {}", q.recall);
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

/// The phrase families search each pattern only near its anchors (tried anchored where its
/// first literals occur): on every labelled text of the shared data, normalised, they find
/// exactly the families a search of each pattern over the whole text finds.
#[test]
fn family_search_near_anchors_finds_what_a_whole_text_search_finds() {
    use tripline_prompt::injection::Families;
    use tripline_prompt::normalise::{normalise, Limits};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/prompt-injection/train");
    let f = Families::new();
    assert!(f.anchored_patterns() >= 40, "{}", f.anchored_patterns());
    let mut n = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut texts: Vec<String> = tripline_prompt::hard_negatives::texts();
    for p in &files {
        texts.extend(
            read_rows_skipping(p, &[])
                .unwrap()
                .into_iter()
                .map(|r| r.text),
        );
    }
    for t in &texts {
        let lower = normalise(t, &Limits::default()).text.to_lowercase();
        let mut fast: Vec<_> = f
            .scan(&lower)
            .into_iter()
            .filter(|h| h.family.id() != "token_flooding")
            .map(|h| (h.family, h.score))
            .collect();
        fast.sort_by(|a, b| a.0.id().cmp(b.0.id()));
        assert_eq!(fast, f.scan_whole_text(&lower), "{t}");
        n += 1;
    }
    assert!(n > 2900, "{n} texts");
}
