//! Labelled feature tables from CSV: a header naming the columns, one of them `label`
//! (1 = anomaly, 0 = normal), every other column a finite number. Anything else is refused
//! with the file, the line and the column named.

use crate::forest::Matrix;
use std::path::Path;

/// Feature rows, their column names, and a label per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub names: Vec<String>,
    pub x: Matrix,
    pub labels: Vec<bool>,
}

/// Why a table cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {what}")]
pub struct DataError {
    pub file: String,
    pub what: String,
}

/// Read `path` (see the module documentation).
pub fn read_csv(path: &Path) -> Result<Labelled, DataError> {
    let file = path.display().to_string();
    let fail = |what: String| DataError {
        file: file.clone(),
        what,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| fail(e.to_string()))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| fail(format!("line 1: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let label_col = header
        .iter()
        .position(|h| h == "label")
        .ok_or_else(|| fail("no `label` column in the header (1 = anomaly, 0 = normal)".into()))?;
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != label_col)
        .map(|(_, h)| h.clone())
        .collect();
    if names.is_empty() {
        return Err(fail("no feature columns besides `label`".into()));
    }
    let mut data = vec![];
    let mut labels = vec![];
    let mut record = csv::StringRecord::new();
    loop {
        let more = rdr
            .read_record(&mut record)
            .map_err(|e| fail(e.to_string()))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(fail(format!(
                "line {line}: {} cells, the header has {}",
                record.len(),
                header.len()
            )));
        }
        for (i, cell) in record.iter().enumerate() {
            let cell = cell.trim();
            if i == label_col {
                labels.push(match cell {
                    "1" | "1.0" => true,
                    "0" | "0.0" => false,
                    _ => {
                        return Err(fail(format!(
                            "line {line}, column `label`: {cell:?} is not 0 or 1"
                        )))
                    }
                });
                continue;
            }
            let v: f64 = cell.parse().map_err(|_| {
                fail(format!(
                    "line {line}, column `{}`: {cell:?} is not a number",
                    header[i]
                ))
            })?;
            if !v.is_finite() || !(v as f32).is_finite() {
                return Err(fail(format!(
                    "line {line}, column `{}`: {cell} is not a finite number",
                    header[i]
                )));
            }
            data.push(v as f32);
        }
    }
    if labels.is_empty() {
        return Err(fail("no rows".into()));
    }
    let cols = names.len();
    Ok(Labelled {
        names,
        x: Matrix::new(data, cols),
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Labelled, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        read_csv(&p)
    }

    #[test]
    fn a_good_table_is_read_with_the_label_anywhere() {
        let t = table("a,label,b\n1,0,2\n3.5,1,-4e2\n").unwrap();
        assert_eq!(t.names, ["a", "b"]);
        assert_eq!(t.x.data, [1.0, 2.0, 3.5, -400.0]);
        assert_eq!(t.labels, [false, true]);
    }

    #[test]
    fn every_bad_table_is_named_with_the_place() {
        let cases = [
            ("a,b\n1,2\n", "no `label` column"),
            ("a,label\n1,0\n2\n", "line 3: 1 cells, the header has 2"),
            (
                "a,label\n1,0\nx,1\n",
                "line 3, column `a`: \"x\" is not a number",
            ),
            (
                "a,label\nNaN,0\n",
                "line 2, column `a`: NaN is not a finite number",
            ),
            (
                "a,label\ninf,0\n",
                "line 2, column `a`: inf is not a finite number",
            ),
            ("a,label\n1e300,0\n", "is not a finite number"),
            (
                "a,label\n1,2\n",
                "line 2, column `label`: \"2\" is not 0 or 1",
            ),
            ("a,label\n", "no rows"),
            ("label\n1\n", "no feature columns"),
        ];
        for (text, want) in cases {
            let e = table(text).unwrap_err().to_string();
            assert!(e.contains("t.csv") && e.contains(want), "{text:?}: {e}");
        }
        let e = read_csv(Path::new("/nonexistent/x.csv")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.csv"), "{e}");
    }
}
