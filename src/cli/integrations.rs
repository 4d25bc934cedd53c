//! How other tools run kubectl-flink: kustomize's legacy exec plugin (installing it, and
//! recognising its call), shell completion scripts, and kubectl's plugin completion.
//!
//! Facts from the tools' sources (reference §1.2, §2.3): kustomize looks for a generator of
//! `apiVersion: G/V`, `kind: K` at `<plugin home>/G/V/<lowercase K>/K` and runs it with the
//! path of a temporary file holding the config (`api/internal/plugins/execplugin`); the plugin
//! home is the first existing of four directories (`api/konfig/plugins.go`). kubectl ≥ 1.26
//! completes `kubectl flink <TAB>` by running `kubectl_complete-flink` with the words typed,
//! which must answer in cobra's `__complete` protocol (kubernetes/kubernetes#105867).
//! `clap_complete` does not speak that protocol, hence [`complete`].

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, CommandFactory, ValueHint};

use super::Cli;
use crate::error::{Diagnostic, Error};
use crate::spec;

/// The name shell completion scripts complete.
pub const BIN: &str = "kubectl-flink";

/// The `kubectl_complete-flink` helper (committed as `scripts/kubectl_complete-flink`).
pub const KUBECTL_COMPLETE_SCRIPT: &str = include_str!("../../scripts/kubectl_complete-flink");

/// What `completion` prints a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
    /// The `kubectl_complete-flink` helper that makes `kubectl flink <TAB>` complete
    Kubectl,
}

/// The completion script for a shell.
pub fn completion_script(shell: CompletionShell) -> Vec<u8> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Kubectl => return KUBECTL_COMPLETE_SCRIPT.as_bytes().to_vec(),
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::Elvish => Shell::Elvish,
    };
    // A fresh root named `kubectl-flink` (the derive's `bin_name` is `kubectl flink`, which
    // would leak into the scripts' function names) without the hidden `__complete`, which
    // clap_complete would offer.
    let full = Cli::command();
    let mut command = clap::Command::new(BIN);
    if let Some(about) = full.get_about() {
        command = command.about(about.clone());
    }
    command = command.version(env!("CARGO_PKG_VERSION"));
    for arg in full.get_arguments() {
        command = command.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        command = command.subcommand(sub.clone());
    }
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    script
}

/// cobra's directive: complete only from the candidates printed.
const NO_FILE_COMP: u8 = 4;
/// cobra's directive: the shell's own (file name) completion.
const DEFAULT_COMP: u8 = 0;

/// `__complete WORD…`: the candidates for the last word, in cobra's protocol (one
/// `candidate\tdescription` a line, then `:<directive>`).
pub fn complete(words: &[String]) -> Vec<u8> {
    let mut root = Cli::command();
    root.build();
    let (current, done) = match words.split_last() {
        Some((current, done)) => (current.as_str(), done),
        None => ("", &[][..]),
    };
    let mut command = &root;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0;
    for word in done {
        if pending.take().is_some() {
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
            pending = find_long(command, name).filter(|arg| takes_value(arg) && value.is_none());
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let last = shorts.chars().count() - 1;
            pending = shorts.chars().enumerate().find_map(|(i, c)| {
                command
                    .get_arguments()
                    .find(|a| a.get_short() == Some(c))
                    .filter(|arg| takes_value(arg) && i == last)
            });
        } else if let Some(sub) = command.find_subcommand(word) {
            command = sub;
            positionals = 0;
        } else {
            positionals += 1;
        }
    }
    let mut out = String::new();
    let directive = if let Some(arg) = pending {
        values(arg, "", current, &mut out)
    } else if let Some((flag, value)) =
        current.strip_prefix("--").and_then(|long| long.split_once('='))
    {
        match find_long(command, flag) {
            Some(arg) => values(arg, &format!("--{flag}="), value, &mut out),
            None => NO_FILE_COMP,
        }
    } else if current.starts_with('-') {
        for arg in command.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let names = arg.get_long().map(|l| format!("--{l}")).into_iter().chain(
                arg.get_short().filter(|_| !current.starts_with("--")).map(|s| format!("-{s}")),
            );
            for name in names.filter(|n| n.starts_with(current)) {
                candidate(&mut out, &name, &help);
            }
        }
        NO_FILE_COMP
    } else {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name().starts_with(current) {
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                candidate(&mut out, sub.get_name(), &about);
            }
        }
        match command.get_positionals().nth(positionals) {
            Some(arg) if out.is_empty() => values(arg, "", current, &mut out),
            Some(arg) => {
                values(arg, "", current, &mut out);
                NO_FILE_COMP
            }
            None => NO_FILE_COMP,
        }
    };
    let _ = writeln!(out, ":{directive}");
    out.into_bytes()
}

fn find_long<'a>(command: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    command.get_arguments().find(|a| a.get_long() == Some(name))
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

/// Candidates for an argument's value; file names are left to the shell.
fn values(arg: &Arg, prefix: &str, current: &str, out: &mut String) -> u8 {
    let possible = arg.get_possible_values();
    if possible.is_empty() {
        return match arg.get_value_hint() {
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath => DEFAULT_COMP,
            _ => NO_FILE_COMP,
        };
    }
    for value in possible.iter().filter(|v| !v.is_hide_set()) {
        if value.get_name().starts_with(current) {
            let help = value.get_help().map(ToString::to_string).unwrap_or_default();
            candidate(out, &format!("{prefix}{}", value.get_name()), &help);
        }
    }
    NO_FILE_COMP
}

fn candidate(out: &mut String, value: &str, help: &str) {
    let help = help.lines().next().unwrap_or_default();
    if help.is_empty() {
        let _ = writeln!(out, "{value}");
    } else {
        let _ = writeln!(out, "{value}\t{help}");
    }
}

/// The arguments to parse when kustomize runs kubectl-flink as a legacy exec plugin:
/// `render -f CONFIG` plus any further arguments, or `None` for an ordinary call.
///
/// kustomize calls `<plugin home>/…/FlinkJobCluster CONFIG [ARGS…]`, so the program name is a
/// spec kind; a first argument that is an existing file and no subcommand means the same.
pub fn exec_plugin_args(
    args: &[OsString],
    is_file: impl Fn(&Path) -> bool,
) -> Option<Vec<OsString>> {
    let (program, rest) = args.split_first()?;
    let config = rest.first()?;
    let called_as_kind = Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| spec::KINDS.contains(&name));
    let command = Cli::command();
    let is_subcommand = config.to_str().is_some_and(|word| {
        word == "help"
            || command
                .get_subcommands()
                .any(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
    });
    let file_argument =
        !is_subcommand && !config.to_string_lossy().starts_with('-') && is_file(Path::new(config));
    if !called_as_kind && !file_argument {
        return None;
    }
    let mut parsed = vec![program.clone(), "render".into(), "-f".into(), config.clone()];
    parsed.extend(rest[1..].iter().cloned());
    Some(parsed)
}

/// Where kustomize looks for plugins: the first existing of `$KUSTOMIZE_PLUGIN_HOME`,
/// `$XDG_CONFIG_HOME/kustomize/plugin`, `$HOME/.config/kustomize/plugin`,
/// `$HOME/kustomize/plugin`; when none exists, the first of them that is defined.
pub fn plugin_home(
    env: &BTreeMap<String, String>,
    exists: impl Fn(&Path) -> bool,
) -> Result<PathBuf, Error> {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let candidates: Vec<PathBuf> = [
        var("KUSTOMIZE_PLUGIN_HOME"),
        var("XDG_CONFIG_HOME").map(|d| d.join("kustomize/plugin")),
        var("HOME").map(|d| d.join(".config/kustomize/plugin")),
        var("HOME").map(|d| d.join("kustomize/plugin")),
    ]
    .into_iter()
    .flatten()
    .collect();
    candidates.iter().find(|dir| exists(dir)).or(candidates.first()).cloned().ok_or_else(|| {
        Error::usage(Diagnostic::new("cannot tell where kustomize looks for plugins").with_help(
            "set HOME, XDG_CONFIG_HOME or KUSTOMIZE_PLUGIN_HOME, or pass --plugin-home DIR",
        ))
    })
}

/// `kubectl-flink kustomize-plugin install`: this binary as the generator of every kind, in
/// the plugin home given, or the first existing one.
pub fn install(
    given: Option<&Path>,
    force: bool,
    env: &BTreeMap<String, String>,
) -> Result<String, Error> {
    let home = match given {
        Some(home) => home.to_path_buf(),
        None => plugin_home(env, Path::is_dir)?,
    };
    let exe = std::env::current_exe()
        .map_err(|err| Error::internal(format!("cannot tell where this binary is: {err}")))?;
    install_kustomize_plugin(&home, &stable_path(&exe, env), force)
}

/// The path to link the plugin to: one that still leads to kubectl-flink after an upgrade.
///
/// krew keeps each version in a directory of its own (`$KREW_ROOT/store/flink/v0.1.0/`) and
/// points `$KREW_ROOT/bin/kubectl-flink` at the current one; `krew upgrade` deletes the old
/// directory. On Linux `current_exe` is the resolved store path, so a link to it would break
/// on the next upgrade. Hence the first `kubectl-flink` in `$KREW_ROOT/bin` (default
/// `~/.krew/bin`), then in the `PATH` directories, that is this very binary; `exe` itself when
/// none is (a binary run by its path, not installed by krew or on `PATH`).
pub fn stable_path(exe: &Path, env: &BTreeMap<String, String>) -> PathBuf {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let krew_root = var("KREW_ROOT")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(home).join(".krew")));
    let path_dirs: Vec<PathBuf> =
        var("PATH").map_or(Vec::new(), |p| std::env::split_paths(p).collect());
    let Ok(this) = std::fs::canonicalize(exe) else {
        return exe.to_path_buf();
    };
    krew_root
        .map(|root| root.join("bin"))
        .into_iter()
        .chain(path_dirs)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(BIN))
        .find(|candidate| std::fs::canonicalize(candidate).is_ok_and(|c| c == this))
        .unwrap_or_else(|| exe.to_path_buf())
}

/// Whether `plugin` is a link to a kubectl-flink binary (this one, an older one, krew's, a
/// release asset such as `kubectl-flink-x86_64-linux`): something an install wrote and may
/// replace.
fn is_our_link(plugin: &Path, exe: &Path) -> bool {
    std::fs::read_link(plugin).is_ok_and(|target| {
        target.file_name().is_some_and(|name| name.to_string_lossy().starts_with("kubectl-flink"))
            || std::fs::canonicalize(plugin).ok() == std::fs::canonicalize(exe).ok()
    })
}

/// Installs `exe` as kustomize's generator for every spec kind (a symbolic link, so an
/// upgraded binary is picked up) and says what it did.
pub fn install_kustomize_plugin(home: &Path, exe: &Path, force: bool) -> Result<String, Error> {
    let (group, version) = spec::API_VERSION.split_once('/').unwrap_or((spec::API_VERSION, ""));
    let fail = |what: &str, path: &Path, err: std::io::Error| {
        Error::input_one(
            Diagnostic::new(format!("cannot {what} `{}`: {err}", path.display()))
                .with_help("pass --plugin-home DIR to install somewhere else"),
        )
    };
    let plugins: Vec<(PathBuf, PathBuf)> = spec::KINDS
        .iter()
        .map(|kind| {
            let dir = home.join(group).join(version).join(kind.to_lowercase());
            (dir.join(kind), dir)
        })
        .collect();
    // Checked before anything is written, so a refusal leaves every file as it was.
    if let Some((plugin, _)) = plugins.iter().find(|(plugin, _)| {
        !force && plugin.symlink_metadata().is_ok() && !is_our_link(plugin, exe)
    }) {
        return Err(Error::input_one(
            Diagnostic::new(format!(
                "`{}` exists and is not a link to kubectl-flink: not replaced",
                plugin.display()
            ))
            .with_help("move it away, or pass --force to replace it"),
        ));
    }
    let mut report = String::new();
    for (plugin, dir) in &plugins {
        std::fs::create_dir_all(dir).map_err(|e| fail("create", dir, e))?;
        if plugin.symlink_metadata().is_ok() {
            std::fs::remove_file(plugin).map_err(|e| fail("replace", plugin, e))?;
        }
        link(exe, plugin).map_err(|e| fail("create", plugin, e))?;
        let _ = writeln!(report, "{} -> {}", plugin.display(), exe.display());
    }
    report.push_str("build with: kubectl kustomize --enable-alpha-plugins DIR\n");
    Ok(report)
}

#[cfg(unix)]
fn link(exe: &Path, plugin: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(exe, plugin)
}

#[cfg(not(unix))]
fn link(exe: &Path, plugin: &Path) -> std::io::Result<()> {
    std::fs::copy(exe, plugin).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete_text(words: &[&str]) -> String {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        String::from_utf8(complete(&words)).unwrap()
    }

    #[test]
    fn completes_subcommands_flags_and_values() {
        let top = complete_text(&[""]);
        assert!(top.contains("render\t"), "{top}");
        assert!(!top.contains("__complete"), "{top}");
        assert!(top.ends_with(":4\n"), "{top}");
        assert_eq!(
            complete_text(&["ren"]),
            "render\tRender the objects of one or more cluster specs to stdout\n:4\n"
        );
        let flags = complete_text(&["render", "--o"]);
        assert!(flags.starts_with("--output\t"), "{flags}");
        assert_eq!(
            complete_text(&["render", "-o", ""]).lines().filter(|l| !l.starts_with(':')).count(),
            2
        );
        assert!(complete_text(&["render", "--output=j"]).starts_with("--output=json"));
        assert_eq!(complete_text(&["render", "-f", ""]), ":0\n");
        assert!(complete_text(&["completion", "z"]).starts_with("zsh"));
    }

    #[test]
    fn recognises_the_exec_plugin_call() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        let parsed =
            exec_plugin_args(&args(&["/p/FlinkJobCluster", "/tmp/cfg", "--set", "a=1"]), |_| false);
        assert_eq!(
            parsed,
            Some(args(&["/p/FlinkJobCluster", "render", "-f", "/tmp/cfg", "--set", "a=1"]))
        );
        assert_eq!(
            exec_plugin_args(&args(&["kubectl-flink", "render", "-f", "x"]), |_| true),
            None
        );
        assert_eq!(exec_plugin_args(&args(&["kubectl-flink", "x.yaml"]), |_| false), None);
        assert!(exec_plugin_args(&args(&["kubectl-flink", "x.yaml"]), |_| true).is_some());
        assert_eq!(exec_plugin_args(&args(&["kubectl-flink"]), |_| true), None);
    }

    /// A krew layout under `root`: the binary in its version's store directory, and krew's
    /// link to it in `bin`.
    fn krew_layout(root: &Path) -> (PathBuf, PathBuf) {
        let store = root.join("store/flink/v0.1.0/kubectl-flink");
        std::fs::create_dir_all(store.parent().unwrap()).unwrap();
        std::fs::write(&store, "binary").unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let link = root.join("bin/kubectl-flink");
        std::os::unix::fs::symlink("../store/flink/v0.1.0/kubectl-flink", &link).unwrap();
        (store, link)
    }

    fn env_of(pairs: &[(&str, &Path)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.display().to_string())).collect()
    }

    #[test]
    fn links_to_krews_bin_not_its_versioned_store() {
        let home = tempfile::tempdir().unwrap();
        let (store, link) = krew_layout(&home.path().join(".krew"));
        assert_eq!(stable_path(&store, &env_of(&[("HOME", home.path())])), link);
        let elsewhere = tempfile::tempdir().unwrap();
        let (store, link) = krew_layout(elsewhere.path());
        let env = env_of(&[("HOME", home.path()), ("KREW_ROOT", elsewhere.path())]);
        assert_eq!(stable_path(&store, &env), link);
        // Found through PATH as well, as kubectl finds it.
        let env = env_of(&[("PATH", &elsewhere.path().join("bin"))]);
        assert_eq!(stable_path(&store, &env), link);
    }

    #[test]
    fn links_to_the_binary_itself_when_nothing_on_path_is_it() {
        let dir = tempfile::tempdir().unwrap();
        let (_, link) = krew_layout(&dir.path().join(".krew"));
        let other = dir.path().join("other/kubectl-flink");
        std::fs::create_dir_all(other.parent().unwrap()).unwrap();
        std::fs::write(&other, "another binary").unwrap();
        let env = env_of(&[("HOME", dir.path()), ("PATH", other.parent().unwrap())]);
        assert_eq!(stable_path(&other, &env), other);
        assert_ne!(stable_path(&other, &env), link);
        assert_eq!(
            stable_path(Path::new("/nonexistent/kubectl-flink"), &env),
            Path::new("/nonexistent/kubectl-flink")
        );
    }

    #[test]
    fn plugin_home_follows_kustomize() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        };
        let e = env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]);
        assert_eq!(plugin_home(&e, |_| false).unwrap(), Path::new("/x/kustomize/plugin"));
        assert_eq!(
            plugin_home(&e, |p| p == Path::new("/h/kustomize/plugin")).unwrap(),
            Path::new("/h/kustomize/plugin")
        );
        let e = env(&[("HOME", "/h")]);
        assert_eq!(plugin_home(&e, |_| false).unwrap(), Path::new("/h/.config/kustomize/plugin"));
        assert!(plugin_home(&env(&[]), |_| false).is_err());
    }
}
