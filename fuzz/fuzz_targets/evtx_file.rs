//! Arbitrary bytes as an EVTX file, read the way `rampart hunt` reads one: `Input::file`
//! (which sniffs the signature; the `.evtx` name makes every input EVTX) then
//! `Input::read`, i.e. the `evtx` crate's header, chunk and record parsing plus our
//! flattening of each rendered record.
#![no_main]

mod scratch_input;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scratch_input::read_as_file(data, "evtx");
});
