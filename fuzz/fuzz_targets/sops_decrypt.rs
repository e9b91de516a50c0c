//! `sops_decrypt`: see `regcred::fuzzing::sops_decrypt` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::sops_decrypt(data));
}
