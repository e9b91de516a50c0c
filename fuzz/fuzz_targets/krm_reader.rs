//! `krm_reader`: see `regcred::fuzzing::krm_reader` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::krm_reader(data));
}
