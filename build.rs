//! Builds `c/string.c` into the `x86_64` musl binary (the Linux release build), and nothing
//! into any other. Why: `c/string.c`. Its test: `tests/it/string_c.rs`.

fn main() {
    println!("cargo:rerun-if-changed=c/string.c");
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_ARCH") != "x86_64" || target("CARGO_CFG_TARGET_ENV") != "musl" {
        return;
    }
    cc::Build::new()
        .file("c/string.c")
        .opt_level(2)
        .flag("-ffreestanding")
        .flag_if_supported("-fno-tree-loop-distribute-patterns")
        .compile("kubectl_flink_string");
}
