//! Packaging checks that need no package tool, as part of `cargo test`: `make install` into
//! scratch DESTDIRs (tests/packaging/destdir.sh: SBINDIR=/usr/bin leaves no /usr/sbin, every
//! directory variable, per-ecosystem targets, uninstall) and the man page lint
//! (tests/packaging/man-lint.sh; SKIP without mandoc, never under CI=true). The packages
//! themselves are built and checked by .ci/checks.d/packaging.sh.

use std::process::Command;

fn script(name: &str) -> (bool, String) {
    let path = format!("{}/tests/packaging/{name}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(path)
        .env("BIN", env!("CARGO_BIN_EXE_machine-id-init"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    (out.status.success(), text)
}

#[test]
fn make_install_destdir() {
    let (ok, text) = script("destdir.sh");
    assert!(ok, "DESTDIR test failed");
    let passed = text.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(
        text.contains(", 0 failed") && passed >= 20,
        "only {passed} DESTDIR checks passed"
    );
}

#[test]
fn man_page_lint() {
    let (ok, text) = script("man-lint.sh");
    assert!(ok, "man page lint failed");
    if !text.contains("SKIP man page lint") {
        for page in ["machine-id-init.8", "machine-id-init.conf.5"] {
            assert!(
                text.contains(&format!("PASS {page}: mandoc -T lint -W all: clean"))
                    && text.contains(&format!("PASS {page}: man --warnings: clean")),
                "no lint result for {page}"
            );
        }
    }
}
