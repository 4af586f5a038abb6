//! Labelled attack samples: which techniques (or tactics, or rules) a sample file shows.
//!
//! Three sources, detected from the path given:
//! - SigmaHQ `regression_data` (a folder holding `info.yml` files): each sample is
//!   labelled with the rule id it was recorded for; the rule's technique tags become the
//!   sample's techniques when validating.
//! - A CSV file (`path,technique`, a header optional, paths relative to the CSV's
//!   folder): explicit technique labels; several rows may label one path.
//! - Any other folder, read in the EVTX-ATTACK-SAMPLES layout: the top-level folder
//!   under the given root names a tactic (`Credential Access`), and technique ids in a
//!   file name (`…_t1098.evtx`) label that file with the technique.

use crate::error::CoverageError;
use crate::model::AttackMatrix;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where a label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSource {
    /// SigmaHQ `regression_data` (`info.yml`).
    SigmaRegression,
    /// EVTX-ATTACK-SAMPLES folder layout.
    FolderLayout,
    /// A user CSV.
    Csv,
}

/// One labelled sample file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleLabel {
    /// The sample file.
    pub path: PathBuf,
    /// Technique ids it shows (upper-case, as labelled).
    pub techniques: BTreeSet<String>,
    /// Tactic shortnames it shows (when only the tactic is known).
    pub tactics: BTreeSet<String>,
    /// Rule ids it was recorded for (regression data).
    pub rule_ids: BTreeSet<String>,
    /// Where the label came from.
    pub source: LabelSource,
}

/// Labelled samples and the problems met while reading them.
#[derive(Debug, Default)]
pub struct Labels {
    /// The samples.
    pub samples: Vec<SampleLabel>,
    /// Problems with individual label files or rows (the rest was read).
    pub diagnostics: Vec<CoverageError>,
}

/// Reads the labels of `path` (a regression folder, a CSV, or a sample folder).
pub fn load_labels(path: &Path, matrix: &AttackMatrix) -> Labels {
    let mut labels = Labels::default();
    if path.is_file() {
        match read_csv(path) {
            Ok(samples) => labels.samples = samples,
            Err(e) => labels.diagnostics.push(e),
        }
        return labels;
    }
    let mut files = Vec::new();
    walk(path, &mut files, &mut labels.diagnostics);
    files.sort();
    if files
        .iter()
        .any(|f| f.file_name().is_some_and(|n| n == "info.yml"))
    {
        for info in files
            .iter()
            .filter(|f| f.file_name().is_some_and(|n| n == "info.yml"))
        {
            match read_regression_info(info) {
                Ok(sample) => labels.samples.extend(sample),
                Err(e) => labels.diagnostics.push(e),
            }
        }
    } else {
        for file in files.iter().filter(|f| has_ext(f, "evtx")) {
            labels.samples.push(folder_label(path, file, matrix));
        }
    }
    labels
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, diagnostics: &mut Vec<CoverageError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            diagnostics.push(CoverageError::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out, diagnostics);
        } else {
            out.push(path);
        }
    }
}

#[derive(Deserialize)]
struct RegressionInfo {
    #[serde(default)]
    rule_metadata: Vec<RuleMeta>,
    #[serde(default)]
    regression_tests_info: Vec<TestInfo>,
}

#[derive(Deserialize)]
struct RuleMeta {
    id: String,
}

#[derive(Deserialize)]
struct TestInfo {
    #[serde(default)]
    path: Option<String>,
}

fn read_regression_info(info: &Path) -> Result<Vec<SampleLabel>, CoverageError> {
    let text = std::fs::read_to_string(info).map_err(|source| CoverageError::Io {
        path: info.to_path_buf(),
        source,
    })?;
    let parsed: RegressionInfo = serde_yaml::from_str(&text).map_err(|e| CoverageError::Label {
        path: info.to_path_buf(),
        reason: e.to_string(),
    })?;
    let folder = info.parent().unwrap_or(Path::new("."));
    let rule_ids: BTreeSet<String> = parsed.rule_metadata.into_iter().map(|m| m.id).collect();
    // The `path` in info.yml is relative to the Sigma repository root; the sample sits
    // beside info.yml, so its file name is all we use.
    Ok(parsed
        .regression_tests_info
        .into_iter()
        .filter_map(|t| t.path)
        .filter_map(|p| Path::new(&p).file_name().map(|n| folder.join(n)))
        .filter(|p| has_ext(p, "evtx"))
        .map(|path| SampleLabel {
            path,
            techniques: BTreeSet::new(),
            tactics: BTreeSet::new(),
            rule_ids: rule_ids.clone(),
            source: LabelSource::SigmaRegression,
        })
        .collect())
}

fn folder_label(root: &Path, file: &Path, matrix: &AttackMatrix) -> SampleLabel {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut tactics = BTreeSet::new();
    let mut components = relative.components();
    if relative.components().count() > 1 {
        if let Some(top) = components.next().and_then(|c| c.as_os_str().to_str()) {
            if let Some(tactic) = matrix.tactic(top) {
                tactics.insert(tactic.shortname.clone());
            }
        }
    }
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    SampleLabel {
        path: file.to_path_buf(),
        techniques: technique_ids_in(name).into_iter().collect(),
        tactics,
        rule_ids: BTreeSet::new(),
        source: LabelSource::FolderLayout,
    }
}

/// Technique ids (`T1234`, `T1234.001`) written in a piece of text, upper-cased. An id
/// must stand alone: not preceded or followed by another letter or digit.
pub fn technique_ids_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = (bytes[i] == b'T' || bytes[i] == b't')
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        let digits = bytes
            .get(i + 1..i + 5)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if starts && digits {
            let mut end = i + 5;
            if bytes.get(end) == Some(&b'.')
                && bytes
                    .get(end + 1..end + 4)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            {
                end += 4;
            }
            if !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                out.push(text[i..end].to_ascii_uppercase());
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn read_csv(path: &Path) -> Result<Vec<SampleLabel>, CoverageError> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| CoverageError::Label {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let mut samples: Vec<SampleLabel> = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = record.map_err(|e| CoverageError::Label {
            path: path.to_path_buf(),
            reason: format!("line {line}: {e}"),
        })?;
        let (Some(file), Some(technique)) = (record.get(0), record.get(1)) else {
            return Err(CoverageError::Label {
                path: path.to_path_buf(),
                reason: format!("line {line}: expected `path,technique`"),
            });
        };
        if line == 1 && file.eq_ignore_ascii_case("path") {
            continue;
        }
        let ids = technique_ids_in(technique);
        if ids.is_empty() {
            return Err(CoverageError::Label {
                path: path.to_path_buf(),
                reason: format!("line {line}: `{technique}` is not a technique id"),
            });
        }
        let sample_path = base.join(file);
        match samples.iter_mut().find(|s| s.path == sample_path) {
            Some(sample) => sample.techniques.extend(ids),
            None => samples.push(SampleLabel {
                path: sample_path,
                techniques: ids.into_iter().collect(),
                tactics: BTreeSet::new(),
                rule_ids: BTreeSet::new(),
                source: LabelSource::Csv,
            }),
        }
    }
    Ok(samples)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_technique_ids_in_file_names() {
        assert_eq!(
            technique_ids_in("4765_sidhistory_add_t1178.evtx"),
            ["T1178"]
        );
        assert_eq!(
            technique_ids_in("Win_4985_T1186_Process_Doppelganging"),
            ["T1186"]
        );
        assert_eq!(
            technique_ids_in("x T1059.001,T1003"),
            ["T1059.001", "T1003"]
        );
        assert!(technique_ids_in("UACME_59_Sysmon.evtx").is_empty());
        assert!(technique_ids_in("ST12345 AT1234").is_empty());
    }

    #[test]
    fn a_broken_info_yml_is_a_diagnostic_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("rules/a");
        let bad = dir.path().join("rules/b");
        std::fs::create_dir_all(&good).unwrap();
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(
            good.join("info.yml"),
            "id: x\nrule_metadata:\n  - id: rule-1\nregression_tests_info:\n  - type: evtx\n    path: regression_data/rules/a/rule-1.evtx\n",
        )
        .unwrap();
        std::fs::write(bad.join("info.yml"), "rule_metadata: [unclosed\n").unwrap();
        let labels = load_labels(dir.path(), &AttackMatrix::default());
        assert_eq!(labels.samples.len(), 1);
        assert_eq!(labels.samples[0].path, good.join("rule-1.evtx"));
        assert!(labels.samples[0].rule_ids.contains("rule-1"));
        assert_eq!(labels.diagnostics.len(), 1);
        let message = labels.diagnostics[0].to_string();
        assert!(message.contains("info.yml"), "{message}");
    }

    #[test]
    fn csv_labels_group_rows_by_path_and_reject_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("labels.csv");
        std::fs::write(
            &csv,
            "path,technique\na.evtx,T1059.001\na.evtx,t1003\nb.evtx,T1070\n",
        )
        .unwrap();
        let labels = load_labels(&csv, &AttackMatrix::default());
        assert!(labels.diagnostics.is_empty());
        assert_eq!(labels.samples.len(), 2);
        assert_eq!(labels.samples[0].techniques.len(), 2);
        std::fs::write(&csv, "a.evtx,not-a-technique\n").unwrap();
        let bad = load_labels(&csv, &AttackMatrix::default());
        assert!(bad.diagnostics[0].to_string().contains("line 1"));
    }
}
