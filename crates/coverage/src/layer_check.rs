//! Checks a Navigator layer's JSON against the rules of the layer format 4.5 property
//! tables (required fields, allowed values, types), so tests can show that the Navigator
//! would open what `layer` writes. Written from the spec, not from the Navigator's code.

/// Checks a layer's JSON against the layer format 4.5 rules; returns the violations.
pub fn check_layer(layer: &serde_json::Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    let str_of =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_str()).map(str::to_string);
    need(
        str_of(layer, "name").is_some(),
        "`name` (string) is required".into(),
    );
    let domain = str_of(layer, "domain").unwrap_or_default();
    need(
        ["enterprise-attack", "mobile-attack", "ics-attack"].contains(&domain.as_str()),
        format!("`domain` must be enterprise-attack, mobile-attack or ics-attack, not `{domain}`"),
    );
    match layer.get("versions") {
        Some(versions) => {
            need(
                str_of(versions, "layer").as_deref() == Some("4.5"),
                "`versions.layer` must be \"4.5\"".into(),
            );
            let navigator = str_of(versions, "navigator").unwrap_or_default();
            let parts: Vec<u32> = navigator
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect();
            need(
                parts.len() == 3 && (parts[0], parts[1]) >= (4, 9),
                format!("`versions.navigator` must be at least 4.9.0, not `{navigator}`"),
            );
        }
        None => need(false, "`versions` is required for format 4.5".into()),
    }
    if let Some(sorting) = layer.get("sorting") {
        need(
            sorting.as_u64().is_some_and(|s| s <= 3),
            "`sorting` must be 0..3".into(),
        );
    }
    if let Some(platforms) = layer.pointer("/filters/platforms") {
        let valid: &[&str] = match domain.as_str() {
            "enterprise-attack" => &[
                "PRE",
                "Windows",
                "Linux",
                "macOS",
                "Network",
                "AWS",
                "GCP",
                "Azure",
                "Azure AD",
                "Office 365",
                "SaaS",
                "IaaS",
                "Google Workspace",
                "Containers",
                "Network Devices",
                "Identity Provider",
                "Office Suite",
                "ESXi",
            ],
            "mobile-attack" => &["Android", "iOS"],
            _ => &[
                "Windows",
                "Control Server",
                "Data Historian",
                "Engineering Workstation",
                "Field Controller/RTU/PLC/IED",
                "Human-Machine Interface",
                "Input/Output Server",
                "Safety Instrumented System/Protection Relay",
                "None",
            ],
        };
        for p in platforms.as_array().into_iter().flatten() {
            let name = p.as_str().unwrap_or_default();
            need(
                valid.contains(&name),
                format!("platform `{name}` is not one of {domain}'s"),
            );
        }
    }
    if let Some(layout) = layer.get("layout") {
        let one_of = |key: &str, allowed: &[&str]| {
            layout
                .get(key)
                .and_then(|v| v.as_str())
                .is_none_or(|v| allowed.contains(&v))
        };
        need(
            one_of("layout", &["side", "flat", "mini"]),
            "`layout.layout` must be side, flat or mini".into(),
        );
        need(
            one_of("aggregateFunction", &["average", "min", "max", "sum"]),
            "`layout.aggregateFunction` is invalid".into(),
        );
        need(
            one_of("expandedSubtechniques", &["none", "all", "annotated"]),
            "`layout.expandedSubtechniques` is invalid".into(),
        );
    }
    for (i, technique) in layer
        .get("techniques")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let id = str_of(technique, "techniqueID").unwrap_or_default();
        need(
            is_technique_id(&id),
            format!("techniques[{i}].techniqueID `{id}` is not T#### or T####.###"),
        );
        if let Some(tactic) = technique.get("tactic") {
            let ok = tactic.as_str().is_some_and(|t| {
                !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            });
            need(
                ok,
                format!("techniques[{i}].tactic must be a tactic shortname"),
            );
        }
        if let Some(score) = technique.get("score") {
            need(
                score.is_number(),
                format!("techniques[{i}].score must be a number"),
            );
        }
        if let Some(color) = technique.get("color") {
            need(
                color
                    .as_str()
                    .is_some_and(|c| c.is_empty() || is_hex_color(c)),
                format!("techniques[{i}].color must be a hex colour"),
            );
        }
        for key in ["comment"] {
            if let Some(v) = technique.get(key) {
                need(
                    v.is_string(),
                    format!("techniques[{i}].{key} must be a string"),
                );
            }
        }
        for key in ["enabled", "showSubtechniques"] {
            if let Some(v) = technique.get(key) {
                need(
                    v.is_boolean(),
                    format!("techniques[{i}].{key} must be a boolean"),
                );
            }
        }
        check_metadata(
            technique.get("metadata"),
            &format!("techniques[{i}].metadata"),
            &mut need,
        );
    }
    if let Some(gradient) = layer.get("gradient") {
        let colors = gradient.get("colors").and_then(|c| c.as_array());
        need(
            colors.is_some_and(|c| {
                c.len() >= 2 && c.iter().all(|x| x.as_str().is_some_and(is_hex_color))
            }),
            "`gradient.colors` needs at least two hex colours".into(),
        );
        let min = gradient.get("minValue").and_then(|v| v.as_f64());
        let max = gradient.get("maxValue").and_then(|v| v.as_f64());
        need(
            matches!((min, max), (Some(a), Some(b)) if b > a),
            "`gradient` needs numbers minValue < maxValue".into(),
        );
    }
    for (i, item) in layer
        .get("legendItems")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        need(
            str_of(item, "label").is_some() && str_of(item, "color").is_some(),
            format!("legendItems[{i}] needs label and color"),
        );
    }
    check_metadata(layer.get("metadata"), "metadata", &mut need);
    problems
}

fn check_metadata(
    metadata: Option<&serde_json::Value>,
    place: &str,
    need: &mut impl FnMut(bool, String),
) {
    let Some(metadata) = metadata else { return };
    let Some(items) = metadata.as_array() else {
        need(false, format!("{place} must be an array"));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let pair = item.get("name").is_some_and(|v| v.is_string())
            && item.get("value").is_some_and(|v| v.is_string());
        let divider = item.get("divider").is_some_and(|v| v.is_boolean());
        need(
            pair || divider,
            format!("{place}[{i}] must be {{name, value}} strings or a divider"),
        );
    }
}

fn is_hex_color(c: &str) -> bool {
    c.strip_prefix('#')
        .is_some_and(|h| (h.len() == 6 || h.len() == 3) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_technique_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.is_none_or(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_catches_what_the_spec_forbids() {
        let mut bad = serde_json::json!({
            "name": "x", "domain": "enterprise", "versions": {"layer": "4.4", "navigator": "4.8.0"},
            "techniques": [{"techniqueID": "T59", "score": "high", "tactic": "Execution"}],
            "gradient": {"colors": ["#fff"], "minValue": 10, "maxValue": 0},
            "metadata": [{"name": "a"}]
        });
        let problems = check_layer(&bad);
        assert_eq!(problems.len(), 9, "{problems:#?}");
        bad["domain"] = "enterprise-attack".into();
        assert_eq!(check_layer(&bad).len(), 8);
    }
}
