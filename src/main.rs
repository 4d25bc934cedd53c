//! The `kubectl-flink` binary: parse the command line, run, write once, map to an exit code.

use std::io::{self, IsTerminal, Write};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use kubectl_flink::cli::Cli;
use kubectl_flink::cli::integrations;

mod alloc;

#[global_allocator]
static ALLOCATOR: alloc::Reporting = alloc::Reporting::new();

fn main() -> ExitCode {
    panic::set_hook(Box::new(report_bug));
    // kustomize runs a legacy exec plugin as `…/FlinkJobCluster CONFIG`: that is `render -f CONFIG`.
    let args: Vec<_> = std::env::args_os().collect();
    let args = integrations::exec_plugin_args(&args, std::path::Path::is_file).unwrap_or(args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // `--help`, `--version`: written like any output, so a stdout that cannot take it is
        // an error, not a silent exit 0.
        Err(err) if !err.use_stderr() => {
            let text = err.render();
            let text = if colored() { text.ansi().to_string() } else { text.to_string() };
            return emit(None, text.as_bytes());
        }
        Err(err) => {
            let _ =
                write!(io::stderr().lock(), "{}", kubectl_flink::cli::usage_message(&err, &args));
            return ExitCode::from(2);
        }
    };
    // Without a command, stdin may hold a KRM ResourceList; a terminal cannot, so show the help.
    if cli.command.is_none() && io::stdin().is_terminal() {
        let _ = write!(io::stderr().lock(), "{}", Cli::command().render_help());
        return ExitCode::from(2);
    }
    // Variables that are not UTF-8 cannot be substituted into YAML text; they are left out.
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    // A panic is a bug: the hook has said so, and stdout is still empty.
    let Ok(result) = panic::catch_unwind(AssertUnwindSafe(|| {
        #[cfg(debug_assertions)]
        assert!(
            std::env::var_os("KUBECTL_FLINK_DEBUG_PANIC").is_none(),
            "KUBECTL_FLINK_DEBUG_PANIC is set (debug builds only: tests the panic hook)"
        );
        kubectl_flink::run(&cli, &mut io::stdin().lock(), &env)
    })) else {
        return ExitCode::from(3);
    };
    match result {
        Ok(outcome) => {
            report_warnings(&outcome.warnings);
            let code = match outcome.stream {
                Some(stream) => emit_stream(stream),
                None => emit(outcome.spooled, &outcome.stdout),
            };
            match outcome.failure {
                Some(err) => {
                    let _ = write!(io::stderr().lock(), "{err}");
                    ExitCode::from(err.exit_code())
                }
                None => code,
            }
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
        let _ = writeln!(stderr, "warning: {}", kubectl_flink::escape_for_terminal(warning));
    }
}

/// Whether help goes out in colour, as clap decides it: on a terminal, unless `NO_COLOR`,
/// `CLICOLOR=0` or `TERM=dumb` say otherwise; always with `CLICOLOR_FORCE`.
fn colored() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set("CLICOLOR_FORCE") {
        return true;
    }
    let plain = set("NO_COLOR")
        || std::env::var_os("CLICOLOR").is_some_and(|v| v == "0")
        || std::env::var_os("TERM").is_some_and(|v| v == "dumb");
    !plain && io::stdout().is_terminal()
}

/// Replaces Rust's panic message (and its `RUST_BACKTRACE` hint) with a short bug report.
fn report_bug(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    let _ = writeln!(
        io::stderr().lock(),
        "error: internal error: {what}{at}\n  = help: this is a bug in kubectl-flink {}; nothing was \
         written to stdout. Please report it with the command line and the spec that caused it",
        env!("CARGO_PKG_VERSION"),
    );
}

/// Writes the whole output, once everything has rendered: what waited in a temporary file,
/// then `bytes`.
fn emit(spooled: Option<std::fs::File>, bytes: &[u8]) -> ExitCode {
    write_stdout(|stdout| {
        copy_spooled(spooled, stdout)
            .and_then(|()| stdout.write_all(bytes))
            .map_err(|err| io::Error::new(err.kind(), format!("cannot write the output: {err}")))
    })
}

/// Runs a command that writes while it reads (`envsubst`, as GNU's); its errors say which
/// side failed.
fn emit_stream(stream: kubectl_flink::commands::Stream) -> ExitCode {
    write_stdout(|stdout| stream.run(&mut io::stdin().lock(), stdout))
}

/// Runs `write` on stdout. A reader that went away (`| head`) is not an error.
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> ExitCode {
    let mut stdout = match stdout() {
        Ok(stdout) => Waiting(stdout),
        Err(err) => return cannot_write(&err),
    };
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr().lock(), "error: {err}");
            ExitCode::from(1)
        }
    }
}

/// A writer whose `write_all` waits on a non-blocking stdout ([`write_all_waiting`]).
struct Waiting<W>(W);

impl<W: Write> Write for Waiting<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        write_all_waiting(&mut self.0, bytes).map(|()| bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn copy_spooled(spooled: Option<std::fs::File>, out: &mut dyn Write) -> io::Result<()> {
    use std::io::Seek as _;
    let Some(mut file) = spooled else { return Ok(()) };
    file.rewind()?;
    io::copy(&mut file, out).map(drop)
}

/// Stdout as a file of its own. Rust's `io::stdout()` reports a write that fails with EBADF
/// (stdout opened read-only, `1</dev/null`) as done, so the output would vanish with exit 0.
fn stdout() -> io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    io::stdout().as_fd().try_clone_to_owned().map(std::fs::File::from)
}

fn cannot_write(err: &io::Error) -> ExitCode {
    let _ = writeln!(io::stderr().lock(), "error: cannot write the output: {err}");
    ExitCode::from(1)
}

/// `write_all` that waits when stdout is non-blocking (a pipe a parent set `O_NONBLOCK` on)
/// and full, as a blocking write would, instead of failing with part of the output written.
fn write_all_waiting(out: &mut impl Write, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match out.write(bytes) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
