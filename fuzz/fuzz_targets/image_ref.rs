//! `image_ref`: see `regcred::fuzzing::image_ref` for what it checks.
fn main() {
    afl::fuzz!(|data: &[u8]| regcred::fuzzing::image_ref(data));
}
