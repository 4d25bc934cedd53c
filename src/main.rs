//! The `kubectl-flink` binary: parse the command line, run, write once, map to an exit code.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use kubectl_flink::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match kubectl_flink::run(&cli, &mut io::stdin().lock()) {
        Ok(outcome) => {
            report_warnings(&outcome.warnings);
            emit(&outcome.stdout)
        }
        Err(err) => {
            let _ = write!(io::stderr().lock(), "{err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn report_warnings(warnings: &[String]) {
    let mut stderr = io::stderr().lock();
    for warning in warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
}

/// One write of the whole output; a reader that went away (`| head`) is not an error.
fn emit(bytes: &[u8]) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr().lock(), "error: cannot write the output: {err}");
            ExitCode::from(1)
        }
    }
}
