//! `yaml_roundtrip`: see `regcred::fuzzing::yaml_roundtrip` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::yaml_roundtrip(data));
}
