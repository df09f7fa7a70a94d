//! Records the source revision for `cognito_exporter_build_info`.

use std::process::Command;

fn main() {
    let revision = std::env::var("COGNITO_BUILD_REVISION")
        .ok()
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=COGNITO_BUILD_REVISION={revision}");
    println!("cargo:rerun-if-env-changed=COGNITO_BUILD_REVISION");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
