//! Running `kubectl`: every command that touches a cluster goes through the `kubectl` on
//! `PATH`, so every kubeconfig, context and auth plugin a user has works as it does for them.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Diagnostic, Error, ErrorKind};

/// kubectl's connection flags, passed to every call.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `--context`.
    pub context: Option<String>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
}

impl Connection {
    /// `--context` and `--kubeconfig`, as kubectl arguments.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(context) = &self.context {
            flags.extend(["--context".to_owned(), context.clone()]);
        }
        if let Some(kubeconfig) = &self.kubeconfig {
            flags.extend(["--kubeconfig".to_owned(), kubeconfig.display().to_string()]);
        }
        flags
    }
}

/// What one kubectl run gave back.
#[derive(Debug, Clone, Default)]
pub struct KubectlOutput {
    pub success: bool,
    /// The exit code, if kubectl exited (rather than being killed).
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    /// Empty when stderr went to the terminal.
    pub stderr: Vec<u8>,
}

/// Runs kubectl.
pub trait Kubectl {
    /// Runs `kubectl ARGS` with `stdin`; `capture_stderr` keeps its stderr (else it goes to
    /// the terminal). An error means kubectl could not be started.
    fn run(
        &mut self,
        args: &[String],
        stdin: &[u8],
        capture_stderr: bool,
    ) -> std::io::Result<KubectlOutput>;
}

/// The `kubectl` on `PATH`, each call stopped after `timeout`.
#[derive(Debug)]
pub struct SystemKubectl {
    pub timeout: Duration,
}

impl Kubectl for SystemKubectl {
    fn run(
        &mut self,
        args: &[String],
        stdin: &[u8],
        capture_stderr: bool,
    ) -> std::io::Result<KubectlOutput> {
        let mut child = Command::new("kubectl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr { Stdio::piped() } else { Stdio::inherit() })
            .spawn()?;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let bytes = stdin.to_vec();
        // Written and read from threads: kubectl may fill its stdout before reading all of
        // stdin, and the wait below must be able to give up.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
        let stdout = read_all(child.stdout.take());
        let stderr = read_all(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("it did not finish within {} s (--timeout)", self.timeout.as_secs()),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(KubectlOutput {
            success: status.success(),
            code: status.code(),
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }
}

/// Reads a child's pipe to its end on a thread (nothing when it is not piped).
fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

pub fn failed(message: String, help: impl Into<String>) -> Error {
    Error { kind: ErrorKind::Input, diagnostics: vec![Diagnostic::new(message).with_help(help)] }
}

/// kubectl could not be started, or was stopped by `--timeout`, while doing `step`.
pub fn start_failure(err: &std::io::Error, step: &str) -> Error {
    if err.kind() == std::io::ErrorKind::TimedOut {
        return failed(
            format!("`kubectl` was stopped while {step}: {err}"),
            "check the cluster is reachable (`kubectl cluster-info`), or give it longer with --timeout",
        );
    }
    failed(
        format!("cannot run `kubectl` (while {step}): {err}"),
        "install kubectl and put it on PATH (https://kubernetes.io/docs/tasks/tools/)",
    )
}

/// A kubectl for tests: answers each call with what `answer` returns for its arguments
/// (joined by spaces) and stdin, and records the calls.
#[cfg(test)]
pub struct Scripted<F: FnMut(&str, &str) -> Result<String, String>> {
    pub calls: Vec<String>,
    pub answer: F,
}

#[cfg(test)]
impl<F: FnMut(&str, &str) -> Result<String, String>> Kubectl for Scripted<F> {
    fn run(&mut self, args: &[String], stdin: &[u8], _: bool) -> std::io::Result<KubectlOutput> {
        let line = args.join(" ");
        self.calls.push(line.clone());
        let result = (self.answer)(&line, &String::from_utf8_lossy(stdin));
        Ok(match result {
            Ok(stdout) => KubectlOutput {
                success: true,
                code: Some(0),
                stdout: stdout.into_bytes(),
                stderr: Vec::new(),
            },
            Err(stderr) => KubectlOutput {
                success: false,
                code: Some(1),
                stdout: Vec::new(),
                stderr: stderr.into_bytes(),
            },
        })
    }
}
