//! Link options of the `segsync` binary.

fn main() {
    // Relative relocations packed (DT_RELR, glibc 2.36 and binutils 2.38 or later): the
    // program's 368,000 relocations take a few hundred kilobytes instead of 8.8 MB, which the
    // loader otherwise reads — and keeps resident — at every start.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    place_hot_code_together();
}

/// Release builds place the functions that counting segments and exporting members run
/// (`hot-code.txt`, listed by `scripts/order-hot-code`) side by side in the program's code.
/// The kernel maps a program's code into a process in blocks of 64 KiB or more around each
/// page the process runs: scattered over a 127 MB text segment, the 6,300 functions (5.4 MB) a
/// count runs kept 52 MB of it resident; placed together, they keep a tenth of that.
///
/// The list is read by LLD, Rust's default linker on x86-64 Linux; a name it does not find
/// (code changed since the list was made) is skipped, so a stale list only places less code.
/// `SEGSYNC_UNORDERED_CODE=1` links without it, as another linker would need.
fn place_hot_code_together() {
    println!("cargo::rerun-if-changed=hot-code.txt");
    println!("cargo::rerun-if-env-changed=SEGSYNC_UNORDERED_CODE");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let linked_by_lld = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    let unordered = std::env::var_os("SEGSYNC_UNORDERED_CODE").is_some_and(|value| value != "0");
    if release && linked_by_lld && !unordered {
        let list = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("hot-code.txt");
        println!(
            "cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
