//! The floors `bench/run` measures regcred against, on the same input:
//!
//! * `copy`: read stdin and write it to stdout, no parsing: what reading
//!   and writing the bytes costs;
//! * `parse`: read stdin and run yaml-rust2's event parser over it (the
//!   parser regcred falls back to for YAML its fast reader leaves alone),
//!   writing nothing.
//!
//! Built by `bench/run` (`cargo build --release --example bench-floor`);
//! not part of regcred.

use std::io::{BufWriter, Read, Write};
use yaml_rust2::parser::{Event, Parser};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("bench-floor: cannot read stdin: {e}");
        std::process::exit(1);
    }
    match mode.as_str() {
        "copy" => {
            let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            if out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                std::process::exit(1);
            }
        }
        "parse" => {
            let mut parser = Parser::new_from_str(&text);
            let mut events = 0u64;
            loop {
                match parser.next_token() {
                    Ok((Event::StreamEnd, _)) => break,
                    Ok(_) => events += 1,
                    Err(e) => {
                        eprintln!("bench-floor: invalid YAML: {e}");
                        std::process::exit(1);
                    }
                }
            }
            eprintln!("{events} events");
        }
        _ => {
            eprintln!("usage: bench-floor copy|parse < INPUT");
            std::process::exit(2);
        }
    }
}
