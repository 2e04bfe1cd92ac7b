//! AWS-LC must be built without CPU Jitter Entropy (`AWS_LC_SYS_NO_JITTER_ENTROPY=1` in
//! `.cargo/config.toml`): with it, the first random byte of every process (the TLS key share of
//! the first https sign-in, an RS/PS/ES JWT signature, a `Jwt`'s identity) starts a jitter
//! collector that costs ~50 ms of CPU. See `.cargo/config.toml` for the cause and why the OS
//! seed is not weaker.
//!
//! Checked on the test executable itself (tests are never stripped): jitterentropy's functions
//! are only in it if AWS-LC was compiled with them.

#[test]
#[cfg(target_os = "linux")]
fn aws_lc_is_built_without_cpu_jitter_entropy() {
    // Link AWS-LC's random generator in, and use it once.
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    assert_ne!(bytes, [0u8; 16]);

    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    // Spelled backwards: this test's own binary must not contain the name it looks for.
    let needle: Vec<u8> = b"colla_rotcelloc_yportne_tnej"
        .iter()
        .rev()
        .copied()
        .collect();
    assert!(
        !exe.windows(needle.len()).any(|w| w == needle.as_slice()),
        "AWS-LC was built with CPU Jitter Entropy: AWS_LC_SYS_NO_JITTER_ENTROPY=1 from \
         .cargo/config.toml did not reach aws-lc-sys (cargo run from outside the workspace, or an \
         aws-lc-sys upgrade that renamed the variable?). Every process then pays ~50 ms for \
         its first random byte (the first https sign-in)"
    );
}
