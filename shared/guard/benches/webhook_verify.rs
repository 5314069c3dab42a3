//! What one webhook check costs natively: signature parse, HMAC-SHA256 over the raw bytes,
//! constant-time comparison, JSON envelope, for each provider over a 1 KiB and a 64 KiB body.
//! Run: `cargo bench -p edge-guard --bench webhook_verify`.

use base64::Engine;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use edge_guard::{MercadoPagoVerifier, MetaVerifier, PaddleVerifier, StandardWebhooksVerifier};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;

const NOW: u64 = 1_800_000_000;
const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];

/// A JSON body of exactly `size` bytes with every provider's envelope fields.
fn body(size: usize) -> String {
    let head = r#"{"event_id":"evt_01hv8x0000000000000000000a","event_type":"transaction.completed","occurred_at":"2026-11-23T10:00:00Z","object":"whatsapp_business_account","id":"123456","type":"payment","action":"payment.updated","data":{"id":"123456"},"pad":""#;
    let tail = r#""}"#;
    format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("webhook_verify");
    for (size, label) in SIZES {
        let body = body(size);
        let raw = body.as_bytes();
        assert_eq!(raw.len(), size);
        group.throughput(Throughput::Bytes(size as u64));

        let paddle = PaddleVerifier::new(["pdl_ntfset_bench"], 5).unwrap();
        let header = format!(
            "ts={NOW};h1={}",
            hex::encode(hmac(
                b"pdl_ntfset_bench",
                format!("{NOW}:{body}").as_bytes()
            ))
        );
        assert!(paddle.verify(Some(&header), raw, NOW).is_ok());
        group.bench_function(BenchmarkId::new("paddle", label), |b| {
            b.iter(|| paddle.verify(black_box(Some(&header)), black_box(raw), NOW))
        });

        let meta = MetaVerifier::new(["meta_app_secret"]).unwrap();
        let header = format!("sha256={}", hex::encode(hmac(b"meta_app_secret", raw)));
        assert!(meta.verify(Some(&header), raw).is_ok());
        group.bench_function(BenchmarkId::new("meta", label), |b| {
            b.iter(|| meta.verify(black_box(Some(&header)), black_box(raw)))
        });

        let mp = MercadoPagoVerifier::new(["mp_secret"], 300).unwrap();
        let request_id = "2066ca19-c6f1-498a-be75-1923005edd06";
        let manifest = format!("id:123456;request-id:{request_id};ts:{NOW};");
        let header = format!(
            "ts={NOW},v1={}",
            hex::encode(hmac(b"mp_secret", manifest.as_bytes()))
        );
        let query = "data.id=123456&type=payment";
        assert!(mp
            .verify(Some(&header), Some(request_id), query, raw, NOW)
            .is_ok());
        group.bench_function(BenchmarkId::new("mercadopago", label), |b| {
            b.iter(|| {
                mp.verify(
                    black_box(Some(&header)),
                    Some(request_id),
                    query,
                    black_box(raw),
                    NOW,
                )
            })
        });

        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let sw = StandardWebhooksVerifier::new([secret]).unwrap();
        let (id, ts) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", NOW.to_string());
        let signature = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD
                .encode(hmac(&key, format!("{id}.{ts}.{body}").as_bytes()))
        );
        assert!(sw
            .verify(Some(id), Some(&ts), Some(&signature), raw, NOW)
            .is_ok());
        group.bench_function(BenchmarkId::new("standard_webhooks", label), |b| {
            b.iter(|| {
                sw.verify(
                    Some(id),
                    Some(&ts),
                    black_box(Some(&signature)),
                    black_box(raw),
                    NOW,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
