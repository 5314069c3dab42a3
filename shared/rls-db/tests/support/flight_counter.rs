//! A proxy between a test and Postgres that counts how many times the client waited for the
//! server (shared by tests/round_trips.rs and benches/backstop.rs).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_postgres::{Client, NoTls};

/// Forwards one connection to Postgres and counts flights: bursts of client bytes sent after the
/// server last spoke. Requests written together (pipelined) arrive as one burst and count once;
/// a request that waited for the previous reply counts again.
async fn flight_counting_proxy(upstream: String) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let flights = Arc::new(AtomicUsize::new(0));
    let counter = flights.clone();
    tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(upstream).await.unwrap();
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let server_spoke = AtomicBool::new(true);
        let upward = async {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
                if server_spoke.swap(false, Ordering::SeqCst) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                server_write.write_all(&buffer[..n]).await.unwrap();
            }
        };
        let downward = async {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = server_read.read(&mut buffer).await {
                server_spoke.store(true, Ordering::SeqCst);
                if client_write.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        };
        tokio::join!(upward, downward);
    });
    (port, flights)
}

/// A connection to `url` through the counting proxy, and its flight counter.
pub async fn counted_connection(url: &str) -> (Client, Arc<AtomicUsize>) {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        other => panic!("expected a TCP host, got {other:?}"),
    };
    let (port, flights) = flight_counting_proxy(format!("{host}:{}", config.get_ports()[0])).await;
    let mut proxied = tokio_postgres::Config::new();
    proxied
        .host("127.0.0.1")
        .port(port)
        .user(config.get_user().unwrap())
        .password(config.get_password().unwrap())
        .dbname(config.get_dbname().unwrap());
    let (client, connection) = proxied.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    (client, flights)
}
