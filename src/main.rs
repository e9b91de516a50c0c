fn main() {
    std::process::exit(regcred::cli::main());
}
