//! Values for Sigma `|expand` placeholders (`%name%`), shared by every command that
//! loads rules: given on the command line, in a file, or both.
//!
//! A placeholder stands for values only the site knows (its domain controllers, admin
//! accounts, jump hosts…), so SigmaHQ ships such rules without them; a rule whose
//! placeholder gets no value fails to load with a diagnostic naming it.

use anyhow::Context;
use clap::Args;
use rampart_sigma::LoadOptions;
use serde_yaml::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `--placeholder NAME=VALUE` and `--placeholders FILE`.
#[derive(Debug, Default, Args)]
pub struct PlaceholderArgs {
    /// A value for an `|expand` placeholder, as NAME=VALUE (without the `%` signs);
    /// repeat to give a placeholder several values. Rules using a placeholder with no
    /// value fail to load.
    #[arg(long = "placeholder", value_name = "NAME=VALUE")]
    placeholder: Vec<String>,
    /// Placeholder values from a YAML file: a map of name to a value or a list of
    /// values, either at the top level or under `vars:` (pySigma's pipeline layout).
    /// `--placeholder` values are added to the file's.
    #[arg(long = "placeholders", value_name = "FILE")]
    placeholders_file: Option<PathBuf>,
}

impl PlaceholderArgs {
    /// The load options these arguments ask for.
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        let mut placeholders = match &self.placeholders_file {
            Some(path) => read_file(path)?,
            None => HashMap::new(),
        };
        for assignment in &self.placeholder {
            let Some((name, value)) = assignment.split_once('=') else {
                anyhow::bail!("--placeholder `{assignment}` is not NAME=VALUE");
            };
            let name = normalize_name(name);
            if name.is_empty() {
                anyhow::bail!("--placeholder `{assignment}` has an empty name");
            }
            placeholders
                .entry(name)
                .or_default()
                .push(value.to_string());
        }
        Ok(LoadOptions {
            placeholders,
            ..LoadOptions::default()
        })
    }
}

/// `name`, `%name%` and ` name ` all name the same placeholder.
fn normalize_name(name: &str) -> String {
    name.trim().trim_matches('%').to_string()
}

/// Reads a placeholder file: `{name: value | [values]}`, at the top level or under
/// `vars`.
fn read_file(path: &Path) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read placeholder file {}", path.display()))?;
    let root: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("placeholder file {} is not valid YAML", path.display()))?;
    parse_placeholders(&root).with_context(|| format!("placeholder file {}", path.display()))
}

/// The placeholders of a parsed file (see [`read_file`]).
fn parse_placeholders(root: &Value) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let map = match root.get("vars") {
        Some(vars) => vars,
        None => root,
    };
    let Value::Mapping(map) = map else {
        if map.is_null() {
            return Ok(HashMap::new());
        }
        anyhow::bail!("expected a map of placeholder names to values");
    };
    let mut out = HashMap::new();
    for (key, value) in map {
        let name = scalar_text(key)
            .map(|name| normalize_name(&name))
            .filter(|name| !name.is_empty())
            .with_context(|| format!("placeholder name {key:?} is not a plain name"))?;
        let values = match value {
            Value::Sequence(items) => items
                .iter()
                .map(|item| {
                    scalar_text(item).with_context(|| {
                        format!("placeholder `{name}`: value {item:?} is not a string or number")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            other => vec![scalar_text(other).with_context(|| {
                format!("placeholder `{name}`: value {other:?} is not a string, number or list")
            })?],
        };
        out.entry(name).or_insert_with(Vec::new).extend(values);
    }
    Ok(out)
}

/// The text of a YAML scalar (strings, numbers, booleans).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<HashMap<String, Vec<String>>> {
        parse_placeholders(&serde_yaml::from_str(text)?)
    }

    #[test]
    fn top_level_and_vars_layouts_read_alike() -> anyhow::Result<()> {
        let flat = parse("known_cdcs: [DC01, 10.0.0.5]\nadmins: root\n")?;
        let pipeline = parse(
            "name: site\nvars:\n  '%known_cdcs%':\n    - DC01\n    - 10.0.0.5\n  admins: root\n",
        )?;
        assert_eq!(flat, pipeline);
        assert_eq!(flat["known_cdcs"], ["DC01", "10.0.0.5"]);
        assert_eq!(flat["admins"], ["root"]);
        Ok(())
    }

    #[test]
    fn nested_values_are_refused_with_the_name() {
        let error = parse("known_cdcs: {a: b}").err().map(|e| format!("{e:#}"));
        assert!(
            error.as_deref().is_some_and(|e| e.contains("known_cdcs")),
            "{error:?}"
        );
    }

    #[test]
    fn command_line_values_add_to_the_file() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("placeholders.yml");
        std::fs::write(&file, "known_cdcs: DC01\n")?;
        let args = PlaceholderArgs {
            placeholder: vec!["%known_cdcs%=DC02".into(), "other=x=y".into()],
            placeholders_file: Some(file),
        };
        let options = args.load_options()?;
        assert_eq!(options.placeholders["known_cdcs"], ["DC01", "DC02"]);
        assert_eq!(options.placeholders["other"], ["x=y"]);
        let bad = PlaceholderArgs {
            placeholder: vec!["novalue".into()],
            placeholders_file: None,
        };
        assert!(bad.load_options().is_err());
        Ok(())
    }
}
