//! End-to-end cases of `circuit-breaker` (scaffolded by ci/new-function): add its real cases here.

use libtest_mimic::Trial;

use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "circuit-breaker: refuses a request without credentials (401 missing_credentials)",
        without_credentials,
    )]
}

fn without_credentials() -> TestResult {
    let reply = post(&functions_url("circuit-breaker"), &[], b"{}");
    if reply.status != 401 || reply.error_code() != "missing_credentials" {
        return Err(format!(
            "expected 401 missing_credentials, got {}: {}",
            reply.status, reply.body
        )
        .into());
    }
    Ok(())
}
