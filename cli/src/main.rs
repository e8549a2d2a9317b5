//! The `kt` binary; everything lives in the `kt_cli` library so it can be tested and fuzzed.

fn main() -> std::process::ExitCode {
    kt_cli::main()
}
