//! `c/string.c` (memcpy, memmove, memcmp and bcmp of the `x86_64` musl release binary) against
//! the C library's, built with the host's C compiler: a host build does not link it in.

use std::process::Command;

use crate::support::root;

/// The flags of build.rs, and the functions renamed so the C library's stay beside them.
const FLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-fno-tree-loop-distribute-patterns",
    "-Dmemcpy=kf_memcpy",
    "-Dmemmove=kf_memmove",
    "-Dmemcmp=kf_memcmp",
    "-Dbcmp=kf_bcmp",
];

fn run(command: &mut Command) -> String {
    let out = command.output().expect("the tool runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

fn cc() -> Command {
    Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
}

#[test]
fn string_c_agrees_with_the_c_library() {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: c/string.c is x86_64 code");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("string.o");
    let test = dir.path().join("string_test");
    run(cc().args(FLAGS).arg("-c").arg(root().join("c/string.c")).arg("-o").arg(&object));
    // A compiler that turned a loop into a call to memcpy would make the real one recurse.
    let undefined = run(Command::new("nm").arg("-u").arg(&object));
    assert_eq!(undefined, "", "c/string.c must call nothing");
    let driver = root().join("tests/fixtures/c/string_test.c");
    run(cc().arg("-O2").arg(driver).arg(&object).arg("-o").arg(&test));
    assert_eq!(run(&mut Command::new(&test)), "ok\n");
}
