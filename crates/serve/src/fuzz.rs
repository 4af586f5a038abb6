//! The entry point of the `ingest_body` fuzz target (`fuzz/`), also run by a test on
//! mutated corpus lines: arbitrary bytes through every body parser of the ingest
//! routes. It must never panic, whatever the bytes.

use crate::api::{body, bulk};
use axum::http::{HeaderMap, HeaderValue};

/// Runs `data` as a plain and as a gzip-declared body through `/api/v1/events`'s and
/// `_bulk`'s parsers, with small limits so that caps are reached too.
pub fn fuzz_ingest_body(data: &[u8]) {
    let mut headers = HeaderMap::new();
    for declared_gzip in [false, true] {
        if declared_gzip {
            headers.insert(
                axum::http::header::CONTENT_ENCODING,
                HeaderValue::from_static("gzip"),
            );
        }
        let Ok(text) = body::decode(&headers, data, 1 << 20) else {
            continue;
        };
        let _ = body::parse(&text, "fuzz", 4096, 1000);
        let plan = bulk::plan(&text, Some("fuzz"), 4096);
        let _ = body::parse(&plan.documents, "fuzz", 4096, 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic mutation run (xorshift), so that every test run fuzzes a
    /// little: bit flips, truncations and splices of real-shaped lines.
    #[test]
    fn mutated_bodies_never_panic() {
        let seeds: [&[u8]; 4] = [
            br##"{"Event":{"System":{"EventID":1,"Channel":"Security","TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}}},"EventData":{"Image":"a.exe"}}}"##,
            b"{\"index\":{\"_index\":\"x\"}}\n{\"EventID\":4688,\"winlog\":{\"event_data\":{\"NewProcessName\":\"c\"}}}\n{\"delete\":{}}\n",
            b"[{\"a\":1},{\"b\":[1,2,{\"c\":null}]}]",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..3000 {
            let seed = seeds[round % seeds.len()];
            let mut data = seed.to_vec();
            for _ in 0..(next() % 8) {
                if data.is_empty() {
                    break;
                }
                let at = (next() as usize) % data.len();
                match next() % 4 {
                    0 => data[at] ^= 1 << (next() % 8),
                    1 => data.truncate(at),
                    2 => {
                        let bytes = b"{}[]\",:\n\\\x00\xff";
                        data.insert(at, bytes[(next() as usize) % bytes.len()]);
                    }
                    _ => {
                        let other = seeds[(next() as usize) % seeds.len()];
                        data.splice(at..at, other.iter().copied());
                    }
                }
            }
            fuzz_ingest_body(&data);
        }
    }
}
