//! The `hhttpp` binary: parse the command line, run it, and turn an error into one line and an exit status.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = hhttpp::cli::parse();
    match hhttpp::run(cli) {
        Ok(code) => ExitCode::from(code),
        // `hhttpp lesson … | head`: the reader has all it wanted.
        Err(err) if err.is_broken_stdout() => ExitCode::SUCCESS,
        // `q` at a `--step` prompt: say so, and end as a success.
        Err(err) if err.is_quit() => {
            let _ = writeln!(std::io::stderr(), "hhttpp: {err}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "hhttpp: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
