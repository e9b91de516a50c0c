//! `spec_parse`: see `regcred::fuzzing::spec_parse` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::spec_parse(data));
}
