fn main() {
    std::process::exit(regcred::run());
}
