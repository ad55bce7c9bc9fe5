use std::time::Instant;
use tripline_prompt::*;
fn main() {
    let texts: Vec<String> = std::fs::read_to_string("/tmp/le4k.jsonl")
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let fam = injection::Families::new();
    let sec = secrets::Secrets::builtin();
    let pii = pii::Pii::all();
    let m = classifier::Model::builtin();
    let lim = normalise::Limits::default();
    let sc = scan::Scanner::new(scan::ScanSettings::default());
    let lowered: Vec<String> = texts
        .iter()
        .map(|t| normalise::normalise(t, &lim).text.to_lowercase())
        .collect();
    for _ in 0..3 {
        let k = 1e6 / texts.len() as f64;
        let a = Instant::now();
        for t in &texts {
            let n = normalise::normalise(t, &lim);
            let _ = n.text.to_lowercase();
        }
        let tn = a.elapsed().as_secs_f64() * k;
        let a = Instant::now();
        for l in &lowered {
            let _ = fam.scan(l).len();
        }
        let tf = a.elapsed().as_secs_f64() * k;
        let a = Instant::now();
        for l in &lowered {
            let _ = m.score(l);
        }
        let tc = a.elapsed().as_secs_f64() * k;
        let a = Instant::now();
        for t in &texts {
            let _ = sec.scan(t).len();
        }
        let ts = a.elapsed().as_secs_f64() * k;
        let a = Instant::now();
        for t in &texts {
            let _ = pii.scan(t).len();
        }
        let tp = a.elapsed().as_secs_f64() * k;
        let a = Instant::now();
        for t in &texts {
            let _ = sc.scan_text(t);
        }
        let tt = a.elapsed().as_secs_f64() * k;
        println!("µs per text: normalise {tn:.1} families {tf:.1} classifier {tc:.1} secrets {ts:.1} pii {tp:.1} | whole scan {tt:.1}");
    }
}
