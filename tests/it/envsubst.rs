//! Variables in specs (`--env`, `--env-file`, `--var`) and the `envsubst` drop-in, through
//! the binary.

use std::process::{Command, Stdio};

use crate::support::{root, run};

fn run_with_env(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> std::process::Output {
    let mut command = Command::new(crate::support::bin());
    command.args(args).env_clear().envs(env.iter().copied()).current_dir(root());
    crate::support::output(&mut command, Some(stdin))
}

const SPEC: &str = "examples/envsubst/cluster.yaml";

#[test]
fn env_file_example_matches_its_snapshot() {
    let out = run(&["render", "--env-file", "examples/envsubst/prod.env", "-f", SPEC], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn var_wins_over_env_file_and_env() {
    let out = run_with_env(
        &[
            "render",
            "--env",
            "--env-file",
            "examples/envsubst/prod.env",
            "--var",
            "TM_REPLICAS=5",
            "-f",
            SPEC,
        ],
        &[("TM_REPLICAS", "2"), ("JOB", "from-env")],
        b"",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("replicas: 5\n"), "{text}");
    assert!(text.contains("name: wordcount-jobmanager"), "env file wins over --env: {text}");
}

#[test]
fn strict_env_lists_every_unset_variable_and_writes_nothing() {
    let out = run_with_env(&["render", "--env", "--strict-env", "-f", SPEC], &[("JOB", "wc")], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["TM_REPLICAS", "SAVEPOINT"] {
        assert!(stderr.contains(&format!("variable `{name}` is not set")), "{stderr}");
    }
    assert!(!stderr.contains("`JOB`"), "{stderr}");
    assert!(stderr.contains("cluster.yaml:15:20"), "{stderr}");
}

#[test]
fn unset_variables_warn_and_become_empty_like_gnu() {
    let spec = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: wc}\nspec:\n  image: flink$TAG\n";
    let out = run_with_env(&["render", "--env", "-f", "-"], &[], spec.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("image: flink\n"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("variable `TAG` is not set"));
}

#[test]
fn without_a_source_dollar_is_text() {
    let spec = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: wc}\nspec:\n  image: flink\n  job: {args: ['$HOME', '${X}']}\n";
    let out =
        run_with_env(&["render", "-f", "-"], &[("HOME", "/root"), ("X", "x")], spec.as_bytes());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("- $HOME\n") && text.contains("- ${X}\n"), "{text}");
}

#[test]
fn a_value_cannot_add_structure() {
    let out = run_with_env(
        &[
            "render",
            "--var",
            "JOB=wc",
            "--var",
            "TM_REPLICAS=1",
            "--var",
            "SAVEPOINT=x\nevil: true\n- item",
            "-f",
            SPEC,
        ],
        &[],
        b"",
    );
    assert!(out.status.code() == Some(1), "a savepoint path with a newline is refused");
    let out = run_with_env(
        &[
            "render",
            "--var",
            "JOB=wc",
            "--var",
            "TM_REPLICAS=1",
            "--var",
            "SAVEPOINT=s3://b/sp: {x} # y ---",
            "-f",
            SPEC,
        ],
        &[],
        b"",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("- \"s3://b/sp: {x} # y ---\"\n"));
}

#[test]
fn only_restricts_like_gnu_shell_format() {
    let spec = "apiVersion: kubectl-flink/v1alpha1\nkind: FlinkJobCluster\nmetadata: {name: $JOB}\nspec:\n  image: flink\n  job: {args: ['$HOME']}\n";
    let out = run_with_env(
        &["render", "--env", "--only", "$JOB", "-f", "-"],
        &[("JOB", "wc"), ("HOME", "/root")],
        spec.as_bytes(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("name: wc-jobmanager") && text.contains("- $HOME\n"), "{text}");
}

#[test]
fn envsubst_subcommand_is_byte_identical_to_gnu() {
    let Ok(gnu) = which_gnu_envsubst() else {
        assert!(std::env::var_os("CI").is_none(), "GNU envsubst is missing under CI");
        eprintln!("SKIPPED: GNU envsubst not found");
        return;
    };
    let env = [("JOB", "flink-on-kubernetes"), ("SAVEPOINT", "hdfs://nn/sp-1"), ("B", "$JOB")];
    let dir = root().join("tests/fixtures/envsubst");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        for format in [None, Some("$JOB"), Some("${SAVEPOINT} $B")] {
            let mut args = vec!["envsubst"];
            args.extend(format);
            let ours = run_with_env(&args, &env, &input);
            let mut theirs = Command::new(&gnu);
            theirs.env_clear().envs(env).args(format);
            let theirs = {
                use std::io::Write;
                let mut child =
                    theirs.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
                child.stdin.take().unwrap().write_all(&input).unwrap();
                child.wait_with_output().unwrap()
            };
            assert_eq!(ours.stdout, theirs.stdout, "{} with {format:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 10);
}

#[test]
fn envsubst_strict_fails_without_output() {
    let out = run_with_env(&["envsubst", "--strict"], &[("A", "1")], b"$A $MISSING ${ALSO}\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MISSING") && stderr.contains("ALSO"), "{stderr}");
}

/// Every `--flag` `envsubst` shows, in its help and in its errors' help lines, is its own.
#[test]
fn issue_19_envsubst_names_only_its_own_flags() {
    let help = run_with_env(&["envsubst", "--help"], &[], b"");
    let strict = run_with_env(&["envsubst", "--strict"], &[("E", "")], b"$MISSING ${R:?why} $E\n");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&help.stdout),
        String::from_utf8_lossy(&strict.stderr)
    );
    assert!(text.contains("export MISSING=VALUE"), "{text}");
    for flag in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some(name) = flag.strip_prefix("--").filter(|n| !n.is_empty()) {
            assert!(["strict", "variables", "help"].contains(&name), "`--{name}` in:\n{text}");
        }
    }
}

#[test]
fn envsubst_variables_lists_names() {
    let out = run_with_env(&["envsubst", "--variables", "$JOB ${SAVEPOINT}"], &[], b"");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "JOB\nSAVEPOINT\n");
}

fn which_gnu_envsubst() -> Result<String, ()> {
    let candidate = std::env::var("GNU_ENVSUBST").unwrap_or_else(|_| "envsubst".into());
    let out = Command::new(&candidate).arg("--version").output().map_err(|_| ())?;
    if String::from_utf8_lossy(&out.stdout).contains("GNU") { Ok(candidate) } else { Err(()) }
}

/// Issue 17: `envsubst` streams as GNU's does: a line comes out while stdin is still open
/// (the old command read to the end first, holding the whole input and its output).
#[test]
fn issue_17_envsubst_writes_while_it_reads() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::support::bin())
        .arg("envsubst")
        .env_clear()
        .env("JOB", "wordcount")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"job: ${JOB}\n").unwrap();
    stdin.flush().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = sender.send(line);
    });
    let first = receiver.recv_timeout(std::time::Duration::from_secs(30));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(first.as_deref(), Ok("job: wordcount\n"), "no output before stdin closed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `--strict` reports every problem before writing, so it holds the input: up to a named limit.
#[test]
fn issue_17_envsubst_strict_names_its_input_limit() {
    let big = vec![b'x'; kubectl_flink::commands::envsubst::MAX_STRICT_INPUT_BYTES + 1];
    let out = run_with_env(&["envsubst", "--strict"], &[], &big);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("larger than --strict's limit of 64 MiB"), "{stderr}");
}

/// The commands the envsubst section of docs/integrations.md and the example's header show, run as written with a
/// `kubectl` that runs this binary for `kubectl flink` and reads what `kubectl create` gets.
#[test]
fn issue_19_the_envsubst_examples_commands_work_as_written() {
    let readme = std::fs::read_to_string(root().join("docs/integrations.md")).unwrap();
    let section = readme
        .split("## Variables: moving an envsubst-templated repo")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("docs/integrations.md has the envsubst section's sh block");
    let example = std::fs::read_to_string(root().join(SPEC)).unwrap();
    // The header comment: `#   …` lines up to the first that is not one, `\` continuing a line.
    let header = example
        .lines()
        .skip_while(|l| !l.starts_with("#   "))
        .take_while(|l| l.starts_with("#   "))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join("\n");
    let mut commands: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("export ") || l.starts_with("kubectl flink "))
        .map(str::to_owned)
        .collect();
    assert_eq!(commands.len(), 4, "{section}");
    commands.push(header.replace("\\\n", " "));
    let script = format!(
        "set -euo pipefail\n\
         kubectl() {{ if [ \"$1\" = flink ]; then shift; \"$KUBECTL_FLINK\" \"$@\"; \
         else [ \"$*\" = 'create -f -' ] && grep -c '^kind: Job$' >/dev/null; fi; }}\n{}\n",
        commands.join("\n")
    );
    let mut command = Command::new("bash");
    command
        .args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECTL_FLINK", crate::support::bin())
        .current_dir(root());
    let out = crate::support::output(&mut command, None);
    assert!(out.status.success(), "{script}\n{}", String::from_utf8_lossy(&out.stderr));
    let once = run(&["render", "--env-file", "examples/envsubst/prod.env", "-f", SPEC], None);
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    // Four commands print (one more pipes into `kubectl create`), all with the same values.
    let once = String::from_utf8(once.stdout).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), once.repeat(4));
}
