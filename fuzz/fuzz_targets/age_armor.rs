//! `age_armor`: see `regcred::fuzzing::age_armor` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::age_armor(data));
}
