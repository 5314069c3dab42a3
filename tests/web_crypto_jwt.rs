//! ES256 tokens checked through workerd's Web Crypto (the adapter's `WebCryptoSignatures`): the
//! published key accepts its own signatures and nothing forged around them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use libtest_mimic::Trial;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "web crypto: ES256 accepts the published key's signature (twice, the key imported once) and refuses a swapped subject, a flipped bit, r = s = 0, a DER-shaped and an empty signature",
        es256_forgeries_refused,
    )]
}

fn notes_with(token: &str) -> Reply {
    get(
        &functions_url("notes"),
        &[("Authorization", &bearer(token))],
    )
}

fn es256_forgeries_refused() -> TestResult {
    let valid = es256_user_token(&local_es256_key(), USER_A, "aal1", None);
    for _ in 0..2 {
        let reply = notes_with(&valid);
        check!(reply.status == 200, "{} {}", reply.status, reply.body);
    }
    let (signing_input, signature) = valid.rsplit_once('.').unwrap();
    let (header, payload) = signing_input.split_once('.').unwrap();

    // User A's signature on a payload that now names user B.
    let claims = String::from_utf8(B64.decode(payload)?)?.replace(USER_A, USER_B);
    let swapped = format!("{header}.{}.{signature}", B64.encode(claims));
    let mut flipped = B64.decode(signature)?;
    flipped[31] ^= 0x01;
    let forgeries = [
        swapped,
        format!("{signing_input}.{}", B64.encode(&flipped)),
        // The "psychic signature" (CVE-2022-21449): r = s = 0 must never verify.
        format!("{signing_input}.{}", B64.encode([0u8; 64])),
        format!("{signing_input}.{}", B64.encode([0x30u8; 70])),
        format!("{signing_input}."),
    ];
    for forged in &forgeries {
        expect_error(&notes_with(forged), 401, "invalid_token")?;
    }
    Ok(())
}
