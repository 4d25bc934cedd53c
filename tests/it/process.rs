//! The process around a render: pipes that close early, full disks, a closed stdout, odd
//! stdin, panics; and output that does not depend on the environment or locale.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{bin, examples, output, render_file, root, run};

/// `count` clusters in one stream: well over a pipe's 64 KiB buffer.
fn many_clusters(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {{name: c{i}}}\nspec: {{image: flink, job: {{args: [{}]}}}}\n",
                vec!["--some-argument"; 40].join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `render | head -1`: the reader goes away mid-write; the write fails with EPIPE, which is
/// not an error, and nothing (no panic message) is printed.
#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    let spec = many_clusters(60);
    let mut child = Command::new(bin())
        .args(["render", "-f", "-"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || std::io::Write::write_all(&mut stdin, spec.as_bytes()));
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "---\n");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

/// The same through a shell pipeline, as users type it.
#[test]
fn render_piped_to_head_exits_zero_without_a_message() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("SKIPPED: bash not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("many.yaml");
    std::fs::write(&spec, many_clusters(60)).unwrap();
    let out = Command::new("bash")
        .args(["-c", r#""$0" render -f "$1" | head -1; echo "status ${PIPESTATUS[0]}" >&2"#])
        .arg(bin())
        .arg(&spec)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "---\n");
    assert_eq!(stderr(&out), "status 0\n");
}

/// A full disk is an error the user sees, with a non-zero exit.
#[test]
fn a_full_disk_is_a_clear_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("SKIPPED: no /dev/full");
        return;
    };
    let spec = root().join("examples/seed-ha.yaml");
    let out = Command::new(bin())
        .args(["render", "-f", spec.to_str().unwrap()])
        .env_clear()
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: cannot write the output: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("No space left on device"), "{}", stderr(&out));
}

/// Stdout on `/dev/null`: written-only (`>/dev/null`) or read-write (Python's
/// `subprocess.DEVNULL`, and what Rust's runtime gives a closed stdout, `>&-`: the two cannot
/// be told apart) is a choice, and the run succeeds. Opened read-only, every write fails: an
/// error, exit 1, and nothing else (for `--help` too).
#[test]
fn stdout_on_dev_null_succeeds_and_read_only_stdout_is_an_error() {
    let spec = root().join("examples/seed-ha.yaml");
    let render = |stdout: Stdio| {
        Command::new(bin())
            .args(["render", "-f"])
            .arg(&spec)
            .env_clear()
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let open = |read: bool, write: bool| {
        std::fs::OpenOptions::new().read(read).write(write).open("/dev/null").unwrap()
    };
    for (what, file) in [("write-only", open(false, true)), ("read-write", open(true, true))] {
        let out = render(Stdio::from(file));
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{what}: {}", stderr(&out));
    }
    let out = render(Stdio::from(open(true, false)));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: cannot write the output: "), "{}", stderr(&out));
    // clap's help is output like any other.
    let help = Command::new(bin())
        .arg("--help")
        .stdout(Stdio::from(open(true, false)))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(1), "{}", stderr(&help));
}

/// A panic (a bug) prints a short report instead of Rust's message, exits 3, and writes
/// nothing to stdout. Debug builds can panic on purpose to test this.
#[test]
fn a_panic_is_reported_as_a_bug_in_two_lines() {
    if !cfg!(debug_assertions) {
        return;
    }
    let spec = root().join("examples/seed-ha.yaml");
    let out = Command::new(bin())
        .args(["render", "-f", spec.to_str().unwrap()])
        .env_clear()
        .env("KUBECTL_FLINK_DEBUG_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(out.stdout.is_empty());
    assert!(text.starts_with("error: internal error: "), "{text}");
    assert!(text.contains("this is a bug in kubectl-flink"), "{text}");
    assert!(!text.contains("panicked at") && !text.contains("stack backtrace"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
}

/// Standard input that is empty, endless or binary, or a directory without spec files, ends
/// with an input error.
#[test]
fn odd_inputs_end_with_an_input_error() {
    // (arguments, standard input, the error)
    type Case<'a> = (&'a [&'a str], Option<&'a [u8]>, &'a str);
    let cases: &[Case] = &[
        (&["render", "-f", "-"], None, "holds no spec"),
        (&["render", "-f", "-"], Some(b""), "holds no spec"),
        (&["render", "-f", "/dev/zero"], None, "larger than the limit of 1048576 bytes"),
        // A directory is read for its spec files (issue 19); one without any is an error.
        (&["render", "-f", "src"], None, "holds no `.yaml`, `.yml` or `.json` file"),
        (&["render", "-R", "-f", "src"], None, "holds no `.yaml`, `.yml` or `.json` file"),
        (&["render", "-f", "-"], Some(b"a: 1"), "missing field `apiVersion`"),
        (&["render", "-f", "-"], Some(b"\xef\xbb\xbf"), "holds no spec"),
    ];
    for (args, stdin, want) in cases {
        if args.contains(&"/dev/zero") && !Path::new("/dev/zero").exists() {
            continue;
        }
        let out = run(args, *stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}

/// Runs the binary with exactly `env`.
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin());
    command.args(args).env_clear().current_dir(root());
    for (key, value) in env {
        command.env(key, value);
    }
    command.stdin(Stdio::null()).output().unwrap()
}

/// Locale, time zone, terminal and random variables change nothing: the environment is an
/// input only through `--env`.
#[test]
fn output_does_not_depend_on_the_environment() {
    let path = std::env::var("PATH").unwrap_or_default();
    let environments: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("LC_ALL", "tr_TR.UTF-8"), ("LANG", "tr_TR.UTF-8"), ("TZ", "Pacific/Kiritimati")],
        vec![("LC_ALL", "C"), ("LANG", "C"), ("TZ", "UTC")],
        vec![("LC_ALL", "de_DE.ISO-8859-1"), ("LC_NUMERIC", "de_DE"), ("TZ", "America/St_Johns")],
        vec![
            ("PATH", path.as_str()),
            ("HOME", "/nonexistent"),
            ("TERM", "dumb"),
            ("COLUMNS", "7"),
            ("NO_COLOR", "1"),
            ("CLICOLOR_FORCE", "1"),
            ("RUST_BACKTRACE", "full"),
            ("RUST_LOG", "trace"),
            ("IMAGE", "evil:latest"),
            ("KUBECTL_FLINK_TEMPLATES", "/etc"),
            ("KUBECONFIG", "/nonexistent"),
            ("POSIXLY_CORRECT", "1"),
            ("MALLOC_PERTURB_", "165"),
        ],
    ];
    for example in examples() {
        for format in ["yaml", "json"] {
            let args = ["render", "-o", format, "-f", example.to_str().unwrap()];
            let expected = run_with_env(&args, &[]);
            assert!(expected.status.success(), "{}", stderr(&expected));
            if format == "yaml" {
                assert_eq!(expected.stdout, render_file(&example).into_bytes());
            }
            for env in &environments {
                let out = run_with_env(&args, env);
                assert!(out.status.success(), "{env:?}: {}", stderr(&out));
                assert!(
                    out.stdout == expected.stdout,
                    "{} -o {format} differs under {env:?}",
                    example.display()
                );
            }
        }
    }
}

/// A parent that made the stdout pipe non-blocking (some CI runners and Node.js do) and reads
/// it slowly: the write waits, as a blocking one would, and all of the output arrives.
#[cfg(unix)]
#[test]
fn issue_17_a_non_blocking_stdout_gets_the_whole_output() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("many.yaml");
    std::fs::write(&spec, many_clusters(60)).unwrap();
    let expected = run(&["render", "-f", spec.to_str().unwrap()], None);
    assert!(expected.status.success());
    assert!(expected.stdout.len() > 4 * 65_536, "the output must overflow a pipe");
    let script = r#"
import os, subprocess, sys, time
read, write = os.pipe()
os.set_blocking(write, False)
child = subprocess.Popen([sys.argv[1], "render", "-f", sys.argv[2]], stdout=write, stderr=subprocess.PIPE)
os.close(write)
time.sleep(0.3)
out = b""
while chunk := os.read(read, 65536):
    out += chunk
err = child.stderr.read()
sys.stdout.buffer.write(b"%d\n" % child.wait())
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(err)
"#;
    let out = Command::new("python3")
        .args(["-c", script, bin(), spec.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    let (code, output) =
        out.stdout.split_at(out.stdout.iter().position(|b| *b == b'\n').unwrap() + 1);
    assert_eq!(code, b"0\n", "{}", stderr(&out));
    assert!(
        output == expected.stdout.as_slice(),
        "{} of {} bytes arrived",
        output.len(),
        expected.stdout.len()
    );
}

/// Issue 17: under an address-space limit, an allocation that fails is an error that says what
/// to do (exit 1, nothing on stdout), not Rust's abort (`memory allocation … failed`, 134).
#[test]
fn issue_17_allocation_failure_is_an_error_not_an_abort() {
    let input = vec![b'x'; 50_000_000];
    let run = |limit: &str| {
        let script = format!("{limit} exec \"$0\" envsubst --strict");
        output(Command::new("sh").args(["-c", &script, bin()]).env_clear(), Some(&input))
    };
    let unlimited = run("");
    assert!(unlimited.status.success(), "{}", stderr(&unlimited));
    assert_eq!(unlimited.stdout.len(), input.len());
    let limited = run("ulimit -v 120000;");
    assert_eq!(limited.status.code(), Some(1), "{:?}: {}", limited.status, stderr(&limited));
    assert!(limited.stdout.is_empty());
    let message = stderr(&limited);
    assert!(message.starts_with("error: out of memory: could not allocate "), "{message}");
    assert!(message.contains("ulimit -v"), "{message}");
}
