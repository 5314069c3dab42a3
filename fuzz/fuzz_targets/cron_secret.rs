//! `X-Cron-Secret`.
#![no_main]
mod common;

use edge_guard::CronSecrets;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([presented]) = common::fields::<1>(data) else {
        return;
    };
    let secrets = CronSecrets::new([
        "current-cron-secret-fuzz-0001",
        "previous-cron-secret-fuzz-0002",
    ])
    .unwrap();
    common::assert_refused(secrets.verify(Some(presented)));
});
