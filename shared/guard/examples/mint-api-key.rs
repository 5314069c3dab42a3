//! For operators: mints a new API key. Prints the key (hand it to the caller once; it is never
//! stored) and what to store: its prefix and SHA-256.
//! `cargo run -q -p edge-guard --example mint-api-key`

use edge_guard::{mint_api_key, API_KEY_ENTROPY_BYTES};

fn main() {
    let mut entropy = [0u8; API_KEY_ENTROPY_BYTES];
    getrandom::fill(&mut entropy).expect("the operating system's random source");
    let minted = mint_api_key(&entropy);
    println!("key (give to the caller, shown once): {}", minted.key);
    println!("prefix (store):                       {}", minted.prefix);
    println!(
        "sha256 (store):                       {}",
        minted.key_sha256_hex
    );
}
