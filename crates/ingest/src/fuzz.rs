//! Entry point for the `json_flatten` fuzz target in `fuzz/`: the three JSON flatteners
//! must agree on every input. The logic lives here so that unit tests exercise it on
//! stable Rust and the target stays a one-liner.

use crate::{flatten_json, FieldAliases};
use serde_json::Value as Json;

/// Reads `data` as one JSON text with the fast path, the serde stream and the
/// reference flattener, and panics, naming the path, if an event differs from the
/// reference's (or a path refuses a text serde_json accepts). Returns whether the
/// text was JSON, so the work cannot be optimised away.
pub fn fuzz_json_flatteners_agree(data: &[u8]) -> bool {
    let aliases = FieldAliases::builtin();
    let Ok(json) = serde_json::from_slice::<Json>(data) else {
        // Invalid JSON: no path may make an event of it. (Bytes that are not UTF-8
        // are the exception: serde_json does not check the strings it skips, such as
        // an `Event`'s `#attributes`, and a record is not lost for them.)
        if let Ok(text) = std::str::from_utf8(data) {
            assert!(
                crate::fast_record::flatten(text, &aliases).is_none(),
                "the fast path took invalid JSON"
            );
            assert!(crate::stream::flatten_slice(data, &aliases).is_err());
        }
        return false;
    };
    if !json.is_object() {
        return true;
    }
    let reference = flatten_json(&json, &aliases);
    if let Some(fast) = std::str::from_utf8(data)
        .ok()
        .and_then(|text| crate::fast_record::flatten(text, &aliases))
    {
        assert_eq!(fast, reference, "fast path");
    }
    let streamed = crate::stream::flatten_streamed(data, &aliases);
    assert_eq!(streamed.ok().as_ref(), Some(&reference), "serde stream");
    true
}

#[cfg(test)]
mod tests {
    use super::fuzz_json_flatteners_agree;

    #[test]
    fn odd_inputs_agree_or_are_refused_by_all() {
        for text in [
            "",
            "{",
            "[]",
            "{\"Event\":{\"System\":{\"EventID\":1}}} x",
            "{\"Event\":{\"System\":{\"EventID\":01}}}",
            "{\"Event\":{\"System\":{\"EventID\":\"a\u{1}b\"}}}",
            "{\"Event\":{\"System\":{\"EventID\":\"\\ud800\"}}}",
            "{\"Event\":{\"System\":{\"EventID\":1,\"EventID\":{\"#text\":2}}}}",
            "{\"a\":{\"b\":1},\"a\":{\"c\":2}}",
            "{\"a.b\":1,\"a\":{\"b\":2}}",
            "{\"Event\":{\"System\":{\"A\":1},\"System\":{\"B\":2}}}",
            "{\"Event\":{\"System\":{\"EventID\":1},\"EventData\":{\"X\":1e400}}}",
        ] {
            fuzz_json_flatteners_agree(text.as_bytes());
        }
        // Found by fuzzing: an empty top-level key (the stream joined `.x`); a
        // section that is not an object (the stream failed on its type); a byte that
        // is not UTF-8 in a skipped attribute.
        fuzz_json_flatteners_agree(br##"{"":{"#x":{"xmlns":"u"}}}"##);
        fuzz_json_flatteners_agree(br##"{"Event":{"#a":"x"},"System":0,"K":"v"}"##);
        fuzz_json_flatteners_agree(
            br##"{"Event":{"System":{"P":{"#attributes":[1]}},"EventData":7}}"##,
        );
        fuzz_json_flatteners_agree(
            b"{\"Event\":{\"#attributes\":{\"x\":\"a\xbab\"},\"System\":{}}}",
        );
    }
}
