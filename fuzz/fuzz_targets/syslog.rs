//! Arbitrary bytes as one syslog message and as a TCP stream: parsing gives an event
//! with a time and a channel (or refuses empty input), and the framer never yields a
//! frame longer than its cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_ingest::syslog::fuzz_syslog(data);
});
